"""Request parsing shared by the API families: Nova-style bodies and query parameters.

Query parameters are declared, not parsed by hand: an :class:`IntQuery` states a
number's bounds and the family's refusal texts, and :meth:`IntQuery.read` reads it
with :func:`decimal` (bounded, never slow).
"""

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import request

from .compute.validation import load
from .errors import ApiError


def malformed() -> ApiError:
    """Nova's and Cinder's answer to a body that is not the JSON they expect."""
    return ApiError(400, "Malformed request body")


@functools.cache
def built(cls: type, **options: Any) -> Any:
    """The one instance of schema class ``cls`` for these ``options`` (built on first use)."""
    return cls(**options)


def validated(schema: Any, data: Any, **options: Any) -> Any:
    """``schema.load(data)``, or a 400 with the first Nova-style message.

    ``schema`` is an instance, or a class built once per set of ``options`` and reused.
    """
    if isinstance(schema, type):
        schema = built(schema, **options)
    try:
        return load(schema, data)
    except ValueError as error:
        raise ApiError(400, str(error)) from None


#: the largest number a query parameter may carry (a signed 64-bit integer, as the
#: services' databases store it); past it a number means nothing and is refused
MAX_INT = 2**63 - 1
_DECIMAL = re.compile(r"\s*[-+]?[0-9]+\s*", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def decimal(value: str) -> int | None:
    """``value`` as an integer when it is one decimal integer (never slow, however long)."""
    if not _DECIMAL.fullmatch(value):
        return None
    digits = value.strip().lstrip("+-").lstrip("0")
    if len(digits) > len(str(MAX_INT)):  # too large to mean anything; int() would be slow
        return MAX_INT + 1 if not value.strip().startswith("-") else -MAX_INT - 2
    return int(value)


def bad_request(message: str) -> Exception:
    """The plain 400 of the family that owns the URL."""
    return ApiError(400, message)


@dataclass(frozen=True)
class IntQuery:
    """How one family reads an integer query parameter.

    The texts are format strings over ``name``, ``value``, ``minimum`` and
    ``maximum``; ``below``/``above`` default to ``not_integer``.  ``unsigned``
    refuses a sign as not an integer (Cinder); ``clamp`` caps a number over
    ``maximum`` instead of refusing it (Glance's ``api_limit_max``); ``blank``
    reads an empty value as absent (Huawei ECS).  ``error`` builds the
    family's exception from the text.
    """

    not_integer: str
    below: str = ""
    above: str = ""
    minimum: int = 0
    maximum: int = MAX_INT
    unsigned: bool = False
    clamp: bool = False
    blank: bool = False
    error: Callable[[str], Exception] = field(default=bad_request, compare=False)

    def parse(
        self,
        name: str,
        value: str | None,
        default: int | None = None,
        error: Callable[[str], Exception] | None = None,
    ) -> int | None:
        """``value`` checked against the bounds; ``default`` when absent.  ``error``
        overrides the family's exception (a family served under two URL trees)."""
        if value is None or (self.blank and value == ""):
            return default
        number = None if self.unsigned and not _DIGITS.fullmatch(value) else decimal(value)
        text = None
        if number is None:
            text = self.not_integer
        elif number < self.minimum:
            text = self.below or self.not_integer
        elif number > self.maximum:
            if self.clamp:
                return self.maximum
            text = self.above or self.not_integer
        if text is not None:
            raise (error or self.error)(
                text.format(name=name, value=value, minimum=self.minimum, maximum=self.maximum)
            )
        return number

    def read(
        self,
        name: str,
        default: int | None = None,
        args: Mapping[str, str] | None = None,
        error: Callable[[str], Exception] | None = None,
    ) -> int | None:
        """The parameter ``name`` of ``args`` (the request's query string by default)."""
        source = request.args if args is None else args
        return self.parse(name, source.get(name), default, error)


#: Nova's integer query parameters (``limit``, ``offset``, ``minRam``, ...)
NOVA_INT = IntQuery(
    not_integer="{name} param must be an integer",
    below="{name} param must be positive",
    above="{name} param must be <= {maximum}",
)
#: Cinder's (``api/common.py`` ``_get_limit_param``/``_get_offset_param``)
CINDER_INT = IntQuery(
    not_integer="Invalid input received: {name} must be an integer",
    above="Invalid input received: {name} must be <= {maximum}",
    unsigned=True,
)

#: Glance's ``limit``: ``api_limit_max`` (1000) caps it; ``limit_param_default`` (25) is the
#: page size of a list without one (glance.api.v2.images, glance/common/config.py)
GLANCE_INT = IntQuery(not_integer="{name} param must be positive", maximum=1000, clamp=True)
GLANCE_DEFAULT_LIMIT = 25


#: oslo ``strutils.bool_from_string`` words
TRUE_WORDS = ("1", "t", "true", "on", "y", "yes")
FALSE_WORDS = ("0", "f", "false", "off", "n", "no")
BOOL_WORDS = tuple(sorted(TRUE_WORDS + FALSE_WORDS))


def bool_from_string(value: Any) -> bool | None:
    """oslo's strict ``bool_from_string``: True, False, or ``None`` when not a boolean word."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


@dataclass(frozen=True)
class BoolQuery:
    """How one family reads a boolean query parameter (oslo's words).

    ``not_boolean`` formats over ``name``, ``value`` and ``words`` (the accepted
    words, quoted); ``empty`` is what a present but empty value means (``None``:
    it is refused like any other non-word).
    """

    not_boolean: str
    empty: bool | None = None
    error: Callable[[str], Exception] = field(default=bad_request, compare=False)

    def read(self, name: str, default: bool = False, args: Mapping[str, str] | None = None) -> bool:
        """The parameter ``name`` of ``args`` (the request's query string by default)."""
        value = (request.args if args is None else args).get(name)
        if value is None:
            return default
        if value == "" and self.empty is not None:
            return self.empty
        flag = bool_from_string(value)
        if flag is None:
            words = ", ".join(f"'{w}'" for w in BOOL_WORDS)
            raise self.error(self.not_boolean.format(name=name, value=value, words=words))
        return flag


def int_param(name: str) -> int | None:
    """A Nova non-negative integer query parameter, or ``None`` when absent."""
    return NOVA_INT.read(name)


#: Nova's ``[api] max_limit`` and Cinder's ``osapi_max_limit``: the most items a list page
#: holds, and the page size of a list that names no ``limit``
MAX_PAGE = 1000


def nova_page_limit() -> int:
    """A Nova list's page size: ``min(max_limit, limit or max_limit)`` (``limit=0`` too
    means max_limit), as ``nova.api.openstack.common.get_limit_and_marker`` reads it."""
    return min(MAX_PAGE, int_param("limit") or MAX_PAGE)


def cinder_page_limit() -> int:
    """A Cinder list's page size: ``limit`` capped at ``osapi_max_limit``, that when absent
    (``cinder.api.common._get_limit_param``)."""
    limit = CINDER_INT.read("limit", MAX_PAGE)
    return MAX_PAGE if limit is None else min(MAX_PAGE, limit)
