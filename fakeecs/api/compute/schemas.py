"""Request schemas of the compute API, apart from the controllers (as Nova keeps them)."""
from marshmallow import fields

from .validation import NovaError, NovaMetadata, NovaSchema, NovaString, invalid

#: ECS: the image name is "greater than 0 bytes and less than 243 bytes"
ECS_IMAGE_NAME_MAX_BYTES = 242


class CreateImage(NovaSchema):
    """``{"createImage": {"name", "metadata"}}`` (nova/api/openstack/compute/schemas/servers.py)."""

    nova_name = "createImage"
    nova_required = ("name",)
    name = NovaString(min_length=1, max_length=255, name_format=True,
                      max_bytes=ECS_IMAGE_NAME_MAX_BYTES)
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
                    raise NovaError(invalid("networks", value, f"Additional properties are not "
                                                               f"allowed ({extra[0]!r} was unexpected)"))
            return value
        raise NovaError(invalid("networks", value, f"{value!r} is not valid under any of the given schemas"))


class BlockDevice(fields.Field):
    """One ``block_device_mapping_v2`` entry, checked by the storage rules later."""

    KEYS = ("source_type", "destination_type", "uuid", "boot_index", "volume_size",
            "delete_on_termination", "device_name", "volume_type", "disk_bus",
            "device_type", "guest_format", "no_device", "tag", "volume_id",
            "snapshot_id", "image_id")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise NovaError(invalid("block_device_mapping_v2", value, f"{value!r} is not of type 'array'"))
        for item in value:
            if not isinstance(item, dict):
                raise NovaError(invalid("block_device_mapping_v2", item, f"{item!r} is not of type 'object'"))
            extra = [k for k in item if k not in self.KEYS]
            if extra:
                raise NovaError(invalid("block_device_mapping_v2", item, "Additional properties are "
                                        f"not allowed ({extra[0]!r} was unexpected)"))
            if item.get("source_type") not in ("image", "volume", "snapshot", "blank"):
                raise NovaError(invalid("source_type", item.get("source_type"),
                                        f"{item.get('source_type')!r} is not one of "
                                        "['volume', 'image', 'snapshot', 'blank']"))
        return value


class FlavorRef(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise NovaError(invalid("flavorRef", value, f"{value!r} is not valid under any of the given schemas"))
        return value.rstrip("/").rsplit("/", 1)[-1]


class ImageRef(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise NovaError(invalid("imageRef", value, f"{value!r} is not valid under any of the given schemas"))
        return value.rstrip("/").rsplit("/", 1)[-1]


class ServerSpec(NovaSchema):
    nova_name = "server"
    nova_required = ("name", "flavorRef")
    name = NovaString(min_length=1, max_length=255, name_format=True)
    imageRef = ImageRef()
    flavorRef = FlavorRef()
    availability_zone = NovaString(min_length=1, max_length=255)
    metadata = NovaMetadata()
    networks = Networks()
    block_device_mapping_v2 = BlockDevice()
    adminPass = NovaString()
    key_name = NovaString(min_length=1, max_length=255)
    user_data = NovaString(max_length=65535)
    security_groups = fields.List(fields.Dict())
    config_drive = fields.Raw()
    min_count = fields.Raw()
    max_count = fields.Raw()
    description = NovaString(max_length=255, nullable=True)
    accessIPv4 = NovaString()
    accessIPv6 = NovaString()
    disk_config = NovaString(data_key="OS-DCF:diskConfig")
    return_reservation_id = fields.Raw()


class ServerSpecNetworksRequired(ServerSpec):
    """From microversion 2.37 ``networks`` must be given."""

    nova_required = ("name", "flavorRef", "networks")


class CreateServer(NovaSchema):
    nova_name = "body"
    nova_required = ("server",)
    server = fields.Raw()
    scheduler_hints = fields.Raw(data_key="os:scheduler_hints")
    scheduler_hints_alt = fields.Raw(data_key="OS-SCH-HNT:scheduler_hints")


class Reboot(NovaSchema):
    nova_name = "reboot"
    nova_required = ("type",)
    type = fields.Raw()
