"""Glance's image attributes, written once as data.

Each :class:`Attribute` holds the JSON-schema fragment Glance serves at
``/v2/schemas/image`` and who may write it.  Everything else is derived here:
the served schema (:func:`image_schema`), the key sets the API and the model
refuse (read-only, reserved), and the create/patch validator the API builds
from the same fragments (``fakeecs.api.image``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .transitions import IMAGE_STATUSES

JsonSchema = dict[str, Any]

DISK_FORMATS: tuple[str, ...] = (
    "ami",
    "ari",
    "aki",
    "vhd",
    "vhdx",
    "vmdk",
    "raw",
    "qcow2",
    "vdi",
    "iso",
    "ploop",
)
CONTAINER_FORMATS: tuple[str, ...] = (
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
)
VISIBILITIES: tuple[str, ...] = ("public", "private", "shared", "community")
UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)


class Access(Enum):
    """Who may write an attribute."""

    #: set on create and changed by JSON patch
    WRITABLE = "writable"
    #: set on create only (``id``); read-only afterwards
    CREATE_ONLY = "create_only"
    #: Glance's own (status, sizes, hashes, times): read-only
    READ_ONLY = "read_only"
    #: Glance's ``_disallowed_properties``: read-only, refused even among the properties
    #: Nova sends in a snapshot (``Attribute '<k>' is read-only.``)
    DISALLOWED = "disallowed"


@dataclass(frozen=True)
class Attribute:
    """One core attribute of a Glance image: its served JSON schema and its access."""

    name: str
    schema: JsonSchema
    access: Access = Access.WRITABLE

    def served(self) -> JsonSchema:
        """The fragment as ``/v2/schemas/image`` shows it (``readOnly`` when not writable)."""
        if self.access in (Access.READ_ONLY, Access.DISALLOWED):
            return dict(self.schema, readOnly=True)
        return dict(self.schema)


_STRING_OR_NULL: JsonSchema = {"type": ["null", "string"]}
_R, _D = Access.READ_ONLY, Access.DISALLOWED

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("id", {"type": "string", "pattern": UUID_PATTERN}, Access.CREATE_ONLY),
    Attribute("name", {"type": ["null", "string"], "maxLength": 255}),
    Attribute("status", {"type": "string", "enum": list(IMAGE_STATUSES)}, _R),
    Attribute("visibility", {"type": "string", "enum": list(VISIBILITIES)}),
    Attribute("protected", {"type": "boolean"}),
    Attribute("os_hidden", {"type": "boolean"}),
    Attribute("checksum", dict(_STRING_OR_NULL), _R),
    Attribute("os_hash_algo", dict(_STRING_OR_NULL), _R),
    Attribute("os_hash_value", dict(_STRING_OR_NULL), _R),
    Attribute("owner", dict(_STRING_OR_NULL), _R),
    Attribute("size", {"type": ["null", "integer"]}, _R),
    Attribute("virtual_size", {"type": ["null", "integer"]}, _R),
    Attribute("container_format", {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS]}),
    Attribute("disk_format", {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]}),
    Attribute("created_at", {"type": "string"}, _R),
    Attribute("updated_at", {"type": "string"}, _R),
    Attribute("tags", {"type": "array", "items": {"type": "string", "maxLength": 255}}),
    Attribute("min_ram", {"type": "integer", "minimum": 0}),
    Attribute("min_disk", {"type": "integer", "minimum": 0}),
    Attribute("locations", {"type": "array", "items": {"type": "object"}}, _R),
    Attribute("self", {"type": "string"}, _D),
    Attribute("file", {"type": "string"}, _D),
    Attribute("schema", {"type": "string"}, _D),
    Attribute("direct_url", {"type": "string"}, _D),
    Attribute("stores", {"type": "string"}, _D),
)

BY_NAME: Mapping[str, Attribute] = {a.name: a for a in ATTRIBUTES}


def _named(*access: Access) -> tuple[str, ...]:
    return tuple(a.name for a in ATTRIBUTES if a.access in access)


#: attributes a client sets on create and changes with JSON patch
CORE_WRITABLE: tuple[str, ...] = _named(Access.WRITABLE)
#: attributes ``POST /v2/images`` validates (the writable ones and ``id``)
CREATE_KEYS: frozenset[str] = frozenset(_named(Access.WRITABLE, Access.CREATE_ONLY))
#: refused with 403 ``is read-only`` on create
READ_ONLY_ON_CREATE: frozenset[str] = frozenset(_named(Access.READ_ONLY, Access.DISALLOWED))
#: refused with 403 ``is read-only`` by JSON patch (``id`` included)
READ_ONLY_ON_PATCH: frozenset[str] = READ_ONLY_ON_CREATE | {"id"}
#: refused among a snapshot's properties (Glance's ``_disallowed_properties``)
DISALLOWED: frozenset[str] = frozenset(_named(Access.DISALLOWED))
#: names Glance keeps for itself (403 ``is reserved``), with every ``os_glance*`` key
RESERVED: frozenset[str] = frozenset({"location", "deleted", "deleted_at"})
RESERVED_PREFIX = "os_glance"


def is_reserved(key: str) -> bool:
    """Whether Glance refuses ``key`` as reserved."""
    return key in RESERVED or key.startswith(RESERVED_PREFIX)


def refusal(key: str, read_only: frozenset[str]) -> tuple[str, str] | None:
    """``(rule, message)`` of Glance's 403 for writing ``key``, or ``None`` when it may be
    written; the rule is ``read_only`` or ``reserved``.

    ``read_only`` is the set that applies (:data:`READ_ONLY_ON_CREATE`,
    :data:`READ_ONLY_ON_PATCH` or :data:`DISALLOWED`).
    """
    if key in read_only:
        return "read_only", f"Attribute '{key}' is read-only."
    if is_reserved(key):
        return "reserved", f"Attribute '{key}' is reserved."
    return None


def json_type(key: str) -> str | None:
    """The JSON type of core attribute ``key`` (not ``null``), ``None`` for a custom property."""
    attribute = BY_NAME.get(key)
    if attribute is None:
        return None
    kinds = attribute.schema["type"]
    if isinstance(kinds, list):
        return next(str(k) for k in kinds if k != "null")
    return str(kinds)


def image_schema() -> JsonSchema:
    """Glance's ``GET /v2/schemas/image``."""
    return {
        "name": "image",
        "additionalProperties": {"type": "string"},
        "properties": {a.name: a.served() for a in ATTRIBUTES},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def images_schema() -> JsonSchema:
    """Glance's ``GET /v2/schemas/images``."""
    properties: dict[str, JsonSchema] = {
        "images": {"type": "array", "items": image_schema()},
        "schema": {"type": "string"},
        "first": {"type": "string"},
        "next": {"type": "string"},
    }
    links: list[JsonSchema] = [
        {"rel": "first", "href": "{first}"},
        {"rel": "next", "href": "{next}"},
        {"rel": "describedby", "href": "{schema}"},
    ]
    return {"name": "images", "properties": properties, "links": links}
