"""Reading a JSON request body without ever failing with a 500.

OpenStack's limits apply here: a JSON body over ``MAX_BODY_BYTES`` (oslo.middleware's
``max_request_body_size``, 112 KiB) is refused with a 413 before it is parsed, and
JSON nested deeper than ``MAX_DEPTH`` counts as malformed (Python's parser would
otherwise run out of stack, and so would everything that walks the result).
fakeecs's own control plane takes bodies up to ``CONTROL_MAX_BODY_BYTES`` (state
exports grow with the cloud).
"""

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from flask import request

from .errors import TOO_LARGE, ApiError

#: oslo.middleware ``[oslo_middleware] max_request_body_size`` (Nova, Cinder, Keystone)
MAX_BODY_BYTES = 114688
#: fakeecs's control plane (``PUT /_fakeecs/state`` carries a whole cloud)
CONTROL_MAX_BODY_BYTES = 256 * 1024 * 1024
#: deepest JSON nesting accepted; OpenStack request bodies are a few levels deep
MAX_DEPTH = 100

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = frozenset(b"[]{}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_DELTA = [0] * 256
_DELTA[ord("[")] = _DELTA[ord("{")] = 1
_DELTA[ord("]")] = _DELTA[ord("}")] = -1


class TooLarge(ApiError):
    """A body over the limit; the app renders it as the family's service does."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


def too_deep(raw: bytes) -> bool:
    """Whether ``raw`` (JSON text) nests arrays and objects past ``MAX_DEPTH``, found
    without parsing it (brackets inside strings do not count)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0) > MAX_DEPTH


def parse_json(raw: bytes) -> Any:
    """Decode JSON text; ``ValueError`` for anything that is not JSON or nests too deep."""
    if too_deep(raw):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(raw)
    except RecursionError:  # cannot happen below MAX_DEPTH, but never a 500
        raise ValueError("JSON nested too deeply") from None
    if (b"\\ud" in raw or b"\\uD" in raw) and not _encodable(data):
        raise ValueError("a string holds a lone UTF-16 surrogate")
    return data


def _encodable(data: Any) -> bool:
    """Whether every string in ``data`` is valid Unicode (no lone surrogate)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def body_bytes(limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body; :class:`TooLarge` past ``limit`` (checked before reading when
    the client sent a Content-Length)."""
    length = request.content_length
    if length is not None and length > limit:
        raise TooLarge()
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise TooLarge()
    return raw


def json_body(
    on_error: Callable[[], Exception], *, allow_empty: bool = False, limit: int = MAX_BODY_BYTES
) -> Any | None:
    """The decoded body; ``on_error()`` builds the exception for a bad one."""
    raw = body_bytes(limit)
    if not raw.strip():
        if allow_empty:
            return None
        raise on_error()
    try:
        return parse_json(raw)
    except ValueError:  # UnicodeDecodeError included
        raise on_error() from None
