"""Reading a JSON request body without ever failing with a 500."""
import json

from flask import request


def json_body(on_error, *, allow_empty=False):
    """The decoded body; ``on_error()`` builds the exception for a bad one."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if allow_empty:
            return None
        raise on_error()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise on_error() from None
