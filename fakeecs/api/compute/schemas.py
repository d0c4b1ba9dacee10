"""Request schemas of the compute API, apart from the controllers (as Nova keeps them)."""

import binascii
import functools
import ipaddress
import re
from base64 import decodebytes

from marshmallow import fields

from ...model.servermeta import MAX_TAG_COUNT, tag_error
from .validation import NovaError, NovaMetadata, NovaSchema, NovaString, invalid

#: Nova's ``parameter_types.boolean``
NOVA_BOOLEAN = [
    True,
    "True",
    "TRUE",
    "true",
    "1",
    "ON",
    "On",
    "on",
    "YES",
    "Yes",
    "yes",
    False,
    "False",
    "FALSE",
    "false",
    "0",
    "OFF",
    "Off",
    "off",
    "NO",
    "No",
    "no",
]
TRUE_STRINGS = ("1", "on", "yes", "true")
UUID_FORMAT = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
    r"[0-9a-fA-F]{12}$"
)


def nova_bool(value):
    """A value of :data:`NOVA_BOOLEAN` as a bool."""
    return value is True or (isinstance(value, str) and value.lower() in TRUE_STRINGS)


def is_base64(text):
    """Nova's lenient ``base64`` format: stray characters ignored, bad padding refused."""
    try:
        decodebytes(text.encode("utf-8"))
    except (binascii.Error, ValueError):
        return False
    return True


class NovaBoolean(fields.Field):
    """``parameter_types.boolean``: the enum above, loaded as a bool."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in NOVA_BOOLEAN:
            raise NovaError(
                invalid(self.data_key or attr, value, f"{value!r} is not one of {NOVA_BOOLEAN!r}")
            )
        return nova_bool(value)


class Base64String(NovaString):
    """A string of base64 text (``user_data``, personality ``contents``), kept as sent."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value is not None and not is_base64(value):
            raise NovaError(invalid(self.data_key or attr, value, f"{value!r} is not a 'base64'"))
        return value


class IpAddress(fields.Field):
    """A string in format ``ipv4`` or ``ipv6``."""

    def __init__(self, family, **kwargs):
        super().__init__(**kwargs)
        self.family = family

    def _deserialize(self, value, attr, data, **kwargs):
        label = self.data_key or attr
        if not isinstance(value, str):
            raise NovaError(invalid(label, value, f"{value!r} is not of type 'string'"))
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        if address is None or address.version != int(self.family[-1]):
            raise NovaError(invalid(label, value, f"{value!r} is not a '{self.family}'"))
        return value


class Enum(fields.Field):
    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = list(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        if value not in self.choices:
            raise NovaError(
                invalid(self.data_key or attr, value, f"{value!r} is not one of {self.choices!r}")
            )
        return value


class TagList(fields.Field):
    """``{"type": "array", "items": tag, "maxItems": 50}``; item errors name the index."""

    def _deserialize(self, value, attr, data, **kwargs):
        label = self.data_key or attr
        if not isinstance(value, list):
            raise NovaError(invalid(label, value, f"{value!r} is not of type 'array'"))
        if len(value) > MAX_TAG_COUNT:
            raise NovaError(invalid(label, value, f"{value!r} is too long"))
        for index, tag in enumerate(value):
            problem = tag_error(tag)
            if problem:
                raise NovaError(invalid(index, tag, problem))
        return value


#: ECS: the image name is "greater than 0 bytes and less than 243 bytes"
ECS_IMAGE_NAME_MAX_BYTES = 242


class CreateImage(NovaSchema):
    """``{"createImage": {"name", "metadata"}}`` (nova/api/openstack/compute/schemas/servers.py)."""

    nova_name = "createImage"
    nova_required = ("name",)
    name = NovaString(
        min_length=1, max_length=255, name_format=True, max_bytes=ECS_IMAGE_NAME_MAX_BYTES
    )
    metadata = NovaMetadata()


class Networks(fields.Field):
    """``"auto"``, ``"none"`` or a list of ``{"uuid"|"port"|"fixed_ip"|"tag"}``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("auto", "none"):
            return value
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            for item in value:
                extra = [k for k in item if k not in ("uuid", "port", "fixed_ip", "tag")]
                if extra:
                    raise NovaError(
                        invalid(
                            "networks",
                            value,
                            f"Additional properties are not allowed ({extra[0]!r} was unexpected)",
                        )
                    )
            return value
        raise NovaError(
            invalid("networks", value, f"{value!r} is not valid under any of the given schemas")
        )


class BlockDevice(fields.Field):
    """One ``block_device_mapping_v2`` entry, checked by the storage rules later."""

    KEYS = (
        "source_type",
        "destination_type",
        "uuid",
        "boot_index",
        "volume_size",
        "delete_on_termination",
        "device_name",
        "volume_type",
        "disk_bus",
        "device_type",
        "guest_format",
        "no_device",
        "tag",
        "volume_id",
        "snapshot_id",
        "image_id",
    )

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise NovaError(
                invalid("block_device_mapping_v2", value, f"{value!r} is not of type 'array'")
            )
        for item in value:
            if not isinstance(item, dict):
                raise NovaError(
                    invalid("block_device_mapping_v2", item, f"{item!r} is not of type 'object'")
                )
            extra = [k for k in item if k not in self.KEYS]
            if extra:
                raise NovaError(
                    invalid(
                        "block_device_mapping_v2",
                        item,
                        f"Additional properties are not allowed ({extra[0]!r} was unexpected)",
                    )
                )
            if item.get("source_type") not in ("image", "volume", "snapshot", "blank"):
                raise NovaError(
                    invalid(
                        "source_type",
                        item.get("source_type"),
                        f"{item.get('source_type')!r} is not one of "
                        "['volume', 'image', 'snapshot', 'blank']",
                    )
                )
        return value


class FlavorRef(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise NovaError(
                invalid(
                    "flavorRef", value, f"{value!r} is not valid under any of the given schemas"
                )
            )
        return value.rstrip("/").rsplit("/", 1)[-1]


class ImageRef(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise NovaError(
                invalid("imageRef", value, f"{value!r} is not valid under any of the given schemas")
            )
        return value.rstrip("/").rsplit("/", 1)[-1]


class PersonalityFile(NovaSchema):
    nova_name = "personality"
    path = NovaString()
    contents = Base64String()


class Personality(fields.Field):
    """``personality`` (up to 2.56): a list of ``{"path", "contents"}``."""

    item = PersonalityFile()

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise NovaError(invalid("personality", value, f"{value!r} is not of type 'array'"))
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise NovaError(invalid(index, item, f"{item!r} is not of type 'object'"))
            self.item.load(item)
        return value


class LegacyBlockDevice(fields.Field):
    """``block_device_mapping`` (v1), ``schemas/block_device_mapping_v1.py``."""

    KEYS = (
        "virtual_name",
        "volume_id",
        "snapshot_id",
        "volume_size",
        "device_name",
        "delete_on_termination",
        "no_device",
        "connection_info",
    )
    DEVICE_NAME = re.compile(r"^[a-zA-Z0-9._-r/]*$")  # Nova wrote `_-r`: a range
    BOOLEAN = NovaBoolean(data_key="delete_on_termination")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise NovaError(
                invalid("block_device_mapping", value, f"{value!r} is not of type 'array'")
            )
        return [self._item(item) for item in value]

    def _item(self, item):
        if not isinstance(item, dict):
            raise NovaError(
                invalid("block_device_mapping", item, f"{item!r} is not of type 'object'")
            )
        for key in ("volume_id", "snapshot_id"):
            if key in item and not (isinstance(item[key], str) and UUID_FORMAT.match(item[key])):
                raise NovaError(invalid(key, item[key], f"{item[key]!r} is not a 'uuid'"))
        size = item.get("volume_size")
        if "volume_size" in item and not (
            (isinstance(size, int) and not isinstance(size, bool))
            or (isinstance(size, str) and re.match(r"^[0-9]+$", size))
        ):
            raise NovaError(
                invalid(
                    "volume_size", size, f"{size!r} is not valid under any of the given schemas"
                )
            )
        device = item.get("device_name")
        if "device_name" in item:
            if not isinstance(device, str):
                raise NovaError(
                    invalid("device_name", device, f"{device!r} is not of type 'string'")
                )
            if not 1 <= len(device) <= 255 or not self.DEVICE_NAME.match(device):
                reason = (
                    f"{device!r} is too short"
                    if not device
                    else f"{device!r} is too long"
                    if len(device) > 255
                    else f"{device!r} does not match '{self.DEVICE_NAME.pattern}'"
                )
                raise NovaError(invalid("device_name", device, reason))
        item = dict(item)
        if "delete_on_termination" in item:
            item["delete_on_termination"] = self.BOOLEAN.deserialize(item["delete_on_termination"])
        for key in ("virtual_name", "connection_info"):
            if key in item and not isinstance(item[key], str):
                raise NovaError(invalid(key, item[key], f"{item[key]!r} is not of type 'string'"))
        extra = [k for k in item if k not in self.KEYS]
        if extra:
            raise NovaError(
                invalid(
                    "block_device_mapping",
                    item,
                    f"Additional properties are not allowed ({extra[0]!r} was unexpected)",
                )
            )
        return item


class ServerSpec(NovaSchema):
    """``server`` of ``POST /servers``; :func:`server_spec` picks the fields of a version."""

    nova_name = "server"
    nova_required = ("name", "flavorRef")
    name = NovaString(min_length=1, max_length=255, name_format=True)
    imageRef = ImageRef()
    flavorRef = FlavorRef()
    availability_zone = NovaString(min_length=1, max_length=255)
    metadata = NovaMetadata()
    networks = Networks()
    block_device_mapping_v2 = BlockDevice()
    block_device_mapping = LegacyBlockDevice()
    adminPass = NovaString()
    key_name = NovaString(min_length=1, max_length=255)
    user_data = Base64String(max_length=65535)
    security_groups = fields.List(fields.Dict())
    config_drive = NovaBoolean()
    min_count = fields.Raw()
    max_count = fields.Raw()
    description = NovaString(max_length=255, nullable=True)
    accessIPv4 = IpAddress("ipv4")
    accessIPv6 = IpAddress("ipv6")
    disk_config = Enum(("AUTO", "MANUAL"), data_key="OS-DCF:diskConfig")
    return_reservation_id = fields.Raw()
    personality = Personality()
    tags = TagList()


@functools.cache
def server_spec(version, legacy):
    """The (cached) ``server`` schema of ``POST /servers`` at ``version``.

    ``networks`` is required from 2.37, ``description`` exists from 2.19, ``tags``
    from 2.52, and ``personality`` only up to 2.56.
    """
    excluded = []
    if version < (2, 19):
        excluded.append("description")
    if version < (2, 52):
        excluded.append("tags")
    if version >= (2, 57):
        excluded.append("personality")
    required = ("name", "flavorRef", "networks") if version >= (2, 37) and not legacy else None
    return ServerSpec(relaxed=legacy, exclude=excluded, required=required)


class CreateServer(NovaSchema):
    nova_name = None
    nova_required = ("server",)
    server = fields.Raw()
    scheduler_hints = fields.Raw(data_key="os:scheduler_hints")
    scheduler_hints_alt = fields.Raw(data_key="OS-SCH-HNT:scheduler_hints")


class Reboot(NovaSchema):
    nova_name = "reboot"
    nova_required = ("type",)
    type = fields.Raw()


class UpdateServerSpec(NovaSchema):
    """``server`` of ``PUT /servers/{id}`` (``schemas/servers.py`` ``base_update``)."""

    nova_name = "server"
    name = NovaString(min_length=1, max_length=255, name_format=True)
    description = NovaString(max_length=255, nullable=True)
    accessIPv4 = IpAddress("ipv4")
    accessIPv6 = IpAddress("ipv6")
    disk_config = Enum(("AUTO", "MANUAL"), data_key="OS-DCF:diskConfig")


class LegacyName(NovaString):
    """The legacy v2 update name: leading and trailing spaces allowed, then stripped."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class LegacyUpdateServerSpec(UpdateServerSpec):
    name = LegacyName(min_length=1, max_length=255)


@functools.cache
def update_spec(version, legacy):
    """The (cached) ``server`` schema of ``PUT /servers/{id}``: description from 2.19."""
    excluded = ["description"] if version < (2, 19) else []
    if legacy:
        return LegacyUpdateServerSpec(exclude=excluded)
    return UpdateServerSpec(exclude=excluded)


class UpdateServer(NovaSchema):
    nova_name = None
    nova_required = ("server",)
    server = fields.Raw()


class MetadataBody(NovaSchema):
    """``{"metadata": {...}}`` of ``PUT``/``POST /servers/{id}/metadata``."""

    nova_name = None
    nova_required = ("metadata",)
    metadata = NovaMetadata()


class MetaItem(NovaMetadata):
    """``meta`` of ``PUT .../metadata/{key}``: metadata with exactly one property."""

    def _deserialize(self, value, attr, data, **kwargs):
        items = super()._deserialize(value, attr, data, **kwargs)
        if len(items) > 1:
            raise NovaError(invalid("meta", value, f"{value!r} has too many properties"))
        if not items:
            raise NovaError(invalid("meta", value, f"{value!r} does not have enough properties"))
        return items


class MetaBody(NovaSchema):
    nova_name = None
    nova_required = ("meta",)
    meta = MetaItem()


class TagsBody(NovaSchema):
    """``{"tags": [...]}`` of ``PUT /servers/{id}/tags``."""

    nova_name = None
    nova_required = ("tags",)
    tags = TagList()
