"""Request parsing shared by the OpenStack-style blueprints (Nova's and Cinder's texts)."""
from flask import request

from .compute.validation import load
from .errors import ApiError


def malformed():
    """Nova's and Cinder's answer to a body that is not the JSON they expect."""
    return ApiError(400, "Malformed request body")


def validated(schema, data):
    """``schema.load(data)``, or a 400 with the first Nova-style message."""
    try:
        return load(schema, data)
    except ValueError as error:
        raise ApiError(400, str(error)) from None


def int_param(name):
    """A non-negative integer query parameter, or ``None`` when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, f"{name} param must be an integer") from None
    if number < 0:
        raise ApiError(400, f"{name} param must be positive")
    return number
