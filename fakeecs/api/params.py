"""Request parsing shared by the OpenStack-style blueprints (Nova's and Cinder's texts)."""
import functools
import re
from typing import Optional

from flask import request

from .compute.validation import load
from .errors import ApiError


def malformed():
    """Nova's and Cinder's answer to a body that is not the JSON they expect."""
    return ApiError(400, "Malformed request body")


@functools.lru_cache(maxsize=None)
def _schema(cls, **options):
    return cls(**options)


def validated(schema, data, **options):
    """``schema.load(data)``, or a 400 with the first Nova-style message.

    ``schema`` is an instance, or a class built once per set of ``options`` and reused.
    """
    if isinstance(schema, type):
        schema = _schema(schema, **options)
    try:
        return load(schema, data)
    except ValueError as error:
        raise ApiError(400, str(error)) from None


#: the largest number a query parameter may carry (a signed 64-bit integer, as the
#: services' databases store it); past it a number means nothing and is refused
MAX_INT = 2 ** 63 - 1
_DECIMAL = re.compile(r"\s*[-+]?[0-9]+\s*", re.ASCII)


def decimal(value: str) -> Optional[int]:
    """``value`` as an integer when it is one decimal integer (never slow, however long)."""
    if not _DECIMAL.fullmatch(value):
        return None
    digits = value.strip().lstrip("+-").lstrip("0")
    if len(digits) > len(str(MAX_INT)):  # too large to mean anything; int() would be slow
        return MAX_INT + 1 if not value.strip().startswith("-") else -MAX_INT - 2
    return int(value)


def int_param(name):
    """A non-negative integer query parameter, or ``None`` when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    number = decimal(value)
    if number is None:
        raise ApiError(400, f"{name} param must be an integer")
    if number < 0:
        raise ApiError(400, f"{name} param must be positive")
    if number > MAX_INT:
        raise ApiError(400, f"{name} param must be <= {MAX_INT}")
    return number
