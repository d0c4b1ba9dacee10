"""The legacy ``block_device_mapping`` (v1) of ``POST /servers``, read as Nova reads it.

Nova converts each v1 item to a new-style mapping (``BlockDeviceDict.from_legacy``)
and gives ``boot_index 0`` to the one on the root device (``vda``), ``-1`` to
the others (``from_legacy_mapping``).  The result goes through the same checks as
``block_device_mapping_v2``.
"""

import re
from typing import Any

from . import devices
from .errors import Invalid

ROOT_DEVICE = devices.ROOT_DEVICE.removeprefix("/dev/")
MIXED_SYNTAX = "Using different block_device_mapping syntaxes is not allowed in the same request."
UNRECOGNIZED = "Block Device Mapping is Invalid: Unrecognized legacy format."
_EPHEMERAL = re.compile(r"^ephemeral(\d+)$")


def strip_dev(name: str | None) -> str | None:
    return name[len("/dev/") :] if name and name.startswith("/dev/") else name


def from_legacy(item: dict[str, Any], image_given: bool) -> dict[str, Any] | None:
    """One v1 item (``delete_on_termination`` already a bool) as a v2 mapping, or ``None``
    for a ``no_device`` item (nothing to make)."""
    device = item.get("device_name")
    virtual = item.get("virtual_name")
    mapping: dict[str, Any] = {
        "device_name": f"/dev/{strip_dev(device)}" if device else None,
        "delete_on_termination": bool(item.get("delete_on_termination", False)),
    }
    if item.get("volume_size") not in (None, ""):
        mapping["volume_size"] = int(item["volume_size"])
    if virtual == "swap" or (virtual and _EPHEMERAL.match(virtual)):
        mapping.update(
            source_type="blank", destination_type="local", delete_on_termination=True, boot_index=-1
        )
        return mapping
    if item.get("snapshot_id"):
        mapping.update(source_type="snapshot", destination_type="volume", uuid=item["snapshot_id"])
    elif item.get("volume_id"):
        mapping.update(source_type="volume", destination_type="volume", uuid=item["volume_id"])
    elif "no_device" in item:
        return None
    else:
        raise Invalid(UNRECOGNIZED, rule="bdm_format")
    is_root = strip_dev(device) == ROOT_DEVICE
    if is_root and image_given:
        raise Invalid(
            f"The volume cannot be assigned the same device name as the root device {ROOT_DEVICE}",
            rule="bdm_root_device",
        )
    mapping["boot_index"] = 0 if is_root else -1
    return mapping


def convert(
    legacy: list[dict[str, Any]] | None, modern: list[dict[str, Any]] | None, image_given: bool
) -> list[dict[str, Any]] | None:
    """The v2 mappings of a create request that used ``block_device_mapping`` (v1)."""
    if legacy and modern:
        raise Invalid(MIXED_SYNTAX, rule="bdm_syntax")
    if not legacy:
        return modern
    converted = [from_legacy(item, image_given) for item in legacy]
    return [mapping for mapping in converted if mapping is not None]
