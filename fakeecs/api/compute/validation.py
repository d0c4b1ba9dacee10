"""Marshmallow building blocks that fail with Nova's exact messages.

Nova validates with JSON schema and reports the *first* error as
``Invalid input for field/attribute <name>. Value: <value>. <reason>``; these
fields and the :class:`NovaSchema` base reproduce that text (Queens keyword
order: type, minLength, maxLength, format).
"""

import re
import unicodedata
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields
from marshmallow import missing as missing_

from ..errors import nova_message

INVALID_NAME = (
    "An invalid 'name' value was provided. The name must be: printable "
    "characters. Can not start or end with whitespace."
)


def invalid(field, value, reason):
    """Nova's message for a schema error under ``field``; ``None`` means the top level."""
    if field is None:
        return reason
    return f"Invalid input for field/attribute {field}. Value: {value}. {reason}"


def pytype(value):
    if value is None or isinstance(value, bool):
        return "boolean" if isinstance(value, bool) else "null"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(
        type(value), "unknown"
    )


def _printable(char):
    if ord(char) >= 0xFFFF:
        return False
    category = unicodedata.category(char)
    return not category.startswith("C") and (not category.startswith("Z") or category == "Zs")


def valid_name(value):
    """Nova's ``format: name``: printable, no leading or trailing whitespace."""
    if not all(_printable(ch) for ch in value):
        return False
    if value and (
        unicodedata.category(value[0]) == "Zs" or unicodedata.category(value[-1]) == "Zs"
    ):
        return False
    return True


class NovaError(ValidationError):
    """A ValidationError that already holds Nova's final message."""


class NovaString(fields.Field):
    """A string with Nova's type, length and optional ``name`` format checks."""

    def __init__(
        self,
        *,
        min_length=None,
        max_length=None,
        name_format=False,
        max_bytes=None,
        nullable=False,
        **kwargs,
    ):
        super().__init__(allow_none=True, **kwargs)
        self.min_length = min_length
        self.max_length = max_length
        self.name_format = name_format
        self.max_bytes = max_bytes
        self.nullable = nullable

    def _deserialize(self, value, attr, data, **kwargs):
        label = self.data_key or attr
        if value is None and self.nullable:
            return None
        if not isinstance(value, str):
            types = "'string', 'null'" if self.nullable else "'string'"
            raise NovaError(invalid(label, value, f"{value!r} is not of type {types}"))
        if self.min_length is not None and len(value) < self.min_length:
            raise NovaError(invalid(label, value, f"{value!r} is too short"))
        if self.max_length is not None and len(value) > self.max_length:
            raise NovaError(invalid(label, value, f"{value!r} is too long"))
        if self.max_bytes is not None and len(value.encode("utf-8")) > self.max_bytes:
            raise NovaError(
                invalid(
                    label,
                    value,
                    f"{value!r} is too long: the name must be less "
                    f"than {self.max_bytes + 1} bytes in UTF-8",
                )
            )
        if self.name_format and not valid_name(value):
            raise NovaError(INVALID_NAME)
        return value

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None and not self.nullable:
            return self._deserialize(value, attr, data, **kwargs)
        return super().deserialize(value, attr, data, **kwargs)


METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


class NovaMetadata(fields.Field):
    """Nova's ``parameter_types.metadata``: string keys and values of 1..255 chars."""

    def __init__(self, **kwargs):
        super().__init__(allow_none=True, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is missing_:
            return super().deserialize(value, attr, data, **kwargs)
        return self._deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        label = self.data_key or attr
        if not isinstance(value, dict):
            raise NovaError(invalid(label, value, f"{value!r} is not of type 'object'"))
        bad_keys = []
        for key, item in value.items():
            if not METADATA_KEY.match(key):
                bad_keys.append(key)
                continue
            if not isinstance(item, str):
                raise NovaError(invalid(key, item, f"{item!r} is not of type 'string'"))
            if len(item) > 255:
                raise NovaError(invalid(key, item, f"{item!r} is too long"))
        if bad_keys and getattr(self.parent, "relaxed", False):
            raise NovaError(
                invalid(
                    label,
                    value,
                    f"Additional properties are not allowed ({bad_keys[0]!r} was unexpected)",
                )
            )
        if bad_keys:
            listed = ", ".join(repr(k) for k in bad_keys)
            verb = "does" if len(bad_keys) == 1 else "do"
            raise NovaError(
                invalid(
                    label,
                    value,
                    f"{listed} {verb} not match any of the regexes: '^[a-zA-Z0-9-_:. ]{{1,255}}$'",
                )
            )
        return dict(value)


class NovaSchema(Schema):
    """An object schema whose first error becomes one Nova message.

    ``nova_name`` labels the object in messages (``None``: the request body
    itself, whose errors Nova reports bare); ``nova_required`` lists the
    required keys in order; ``relaxed`` drops unknown keys (legacy v2).
    """

    nova_name: str | None = "body"
    nova_required: tuple[str, ...] = ()

    class Meta:
        unknown = RAISE

    def __init__(self, *args, relaxed=False, required=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.relaxed = relaxed
        if required is not None:
            self.nova_required = tuple(required)

    def load(self, data, **kwargs):
        """Check in JSON schema's keyword order: type, properties, required, additional."""
        if not isinstance(data, dict):
            raise NovaError(invalid(self.nova_name, data, f"{data!r} is not of type 'object'"))
        known = {f.data_key or name for name, f in self.fields.items()}
        result = super().load({k: v for k, v in data.items() if k in known}, **kwargs)
        for key in self.nova_required:
            if key not in data:
                raise NovaError(invalid(self.nova_name, data, f"{key!r} is a required property"))
        extra = [key for key in data if key not in known]
        if extra and not self.relaxed:
            listed = ", ".join(repr(k) for k in extra)
            verb = "was" if len(extra) == 1 else "were"
            raise NovaError(
                invalid(
                    self.nova_name,
                    data,
                    f"Additional properties are not allowed ({listed} {verb} unexpected)",
                )
            )
        return result


def first_message(error: ValidationError) -> str:
    """The first Nova message inside a (possibly nested) marshmallow error."""
    return nova_message(error)


def load(schema: Schema, data: Any) -> Any:
    """Validate ``data``; return the result or raise ``ValueError(message)``."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ValueError(first_message(error)) from None
