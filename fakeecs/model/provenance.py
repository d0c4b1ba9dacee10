"""Where an image came from, and the rules that depend on it.

Every image carries an ``origin`` dict whose ``kind`` says how it was made:

=================  ==========================================================
``base``           a base image from a scenario
``upload``         registered through Glance (``POST /v2/images`` + data)
``nova_snapshot``  the native ``createImage`` server action
``ims_system``     IMS ``POST /v2/cloudimages/action`` from a server
``ims_data``       IMS data-disk image from a server's data volume
``ims_whole``      IMS full-ECS image
=================  ==========================================================

Server-made images also record ``server_id``, ``availability_zone`` and
``project_id`` of their source, which survive the server's deletion.

The founding document's six constraints on images made from an ECS are each one
function here (:data:`CONSTRAINTS`), called by every route that needs them; see
``docs/constraints.md`` for which route reaches which.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .entities import Flavor, Image, Server, Volume
from .errors import Invalid
from .instance_checks import check_instance
from .policy import Context

#: every ``origin["kind"]`` of an image (the table above), in that order
IMAGE_KINDS = ("base", "upload", "nova_snapshot", "ims_system", "ims_data", "ims_whole")
#: kinds made by an IMS job (their data are being made while not yet active)
IMS_KINDS = ("ims_system", "ims_data", "ims_whole")
#: kinds made from a server (they record ``server_id``, ``availability_zone``, ``project_id``)
SERVER_MADE = ("nova_snapshot",) + IMS_KINDS

#: kinds whose servers must stay in the source server's AZ (constraint 2)
ZONE_BOUND = frozenset({"nova_snapshot"})
#: kinds that cannot become data disks (constraint 5, and IMS system images)
NOT_DATA_DISK = frozenset({"nova_snapshot", "ims_system", "ims_whole"})
#: kinds that cannot be a system disk (Huawei: a data-disk image only makes data disks)
NOT_SYSTEM_DISK = frozenset({"ims_data"})
#: kinds that IMS may export to OBS (constraint 6)
EXPORTABLE = frozenset({"ims_system", "ims_data", "base", "upload"})
#: the server-state rule (``instance_checks.STATE_RULES``) of each way to image a server
IMAGING_ACTIONS = {
    "nova_snapshot": "createImage",
    "ims_system": "ims createImage",
    "ims_data": "ims createImage",
    "ims_whole": "ims createWholeImage",
}
#: volume statuses Cinder deletes from (cinder/volume/api.py ``delete``, Queens)
VOLUME_DELETABLE_STATUSES = (
    "available",
    "error",
    "error_deleting",
    "error_extending",
    "error_managing",
)
#: Cinder's refusal to delete a volume (cinder/volume/api.py, Queens)
VOLUME_DELETE_REFUSED = (
    "Invalid volume: Volume status must be available or error or error_restoring or "
    "error_extending or error_managing and must not be migrating, attached, belong to a group, "
    "have snapshots or be disassociated from snapshots after volume transfer."
)

#: image properties never copied into a snapshot (nova/compute/utils.py)
NON_INHERITABLE = frozenset(
    {
        "cache_in_nova",
        "bittorrent",
        "cinder_encryption_key_id",
        "cinder_encryption_key_deletion_policy",
        "img_signature",
        "img_signature_hash_method",
        "img_signature_key_type",
        "img_signature_certificate_uuid",
        "block_device_mapping",
        "bdm_v2",
        "root_device_name",
        "mappings",
    }
)


def kind(image: Image) -> str:
    found: str = image.origin.get("kind", "upload")
    return found


def check_imageable(context: Context, server: Server, kind_name: str) -> None:
    """Constraint 1: a server in error (or any state its imaging rule refuses) makes no image.

    Applies the declared :data:`~fakeecs.model.instance_checks.STATE_RULES` entry of
    the way ``kind_name`` images a server; the ``Conflict`` carries ``rule="imageable"``
    and Nova's wording (IMS renders its own from the facts).
    """
    check_instance(context, server, IMAGING_ACTIONS[kind_name])


def from_server(kind_name: str, server: Server, **extra: Any) -> dict[str, Any]:
    """The origin record for an image made from ``server``."""
    record = {
        "kind": kind_name,
        "server_id": server.id,
        "availability_zone": server.availability_zone,
        "project_id": server.project_id,
    }
    record.update(extra)
    return record


def boot_zone(images: Iterable[Image], requested: str | None, default: str) -> str:
    """The AZ a new server booted from ``images`` must be in (constraint 2)."""
    bound = [image for image in images if kind(image) in ZONE_BOUND]
    for image in bound:
        source = image.origin["availability_zone"]
        if requested is not None and requested != source:
            raise Invalid(
                f"Image {image.id} was created from ECS {image.origin['server_id']} in "
                f"availability zone {source}; a server created from it must be in {source}, "
                f"not {requested}.",
                rule="same_az",
                image_id=image.id,
                source_zone=source,
                requested_zone=requested,
            )
        requested = source
    return requested if requested is not None else default


#: Huawei's fields a server snapshot gets whatever its base image had (a private image)
SNAPSHOT_PLATFORM_FIELDS = {"__imagetype": "private"}


def check_system_disk(image: Image) -> None:
    """Refuse to boot a server from an image that can only make data disks."""
    if kind(image) in NOT_SYSTEM_DISK:
        raise Invalid(
            f"Image {image.id} is a data disk image and cannot be used to create "
            "a system disk or a server.",
            rule="system_disk",
            image_id=image.id,
        )


def check_data_disk(image: Image) -> None:
    """Refuse to make a data disk from an image that cannot be one (constraint 5)."""
    if kind(image) in NOT_DATA_DISK:
        what = {
            "nova_snapshot": "an image created from an ECS with the createImage action",
            "ims_system": "a system disk image",
            "ims_whole": "a full-ECS image",
        }[kind(image)]
        raise Invalid(
            f"Image {image.id} is {what} and cannot be used to create data disks.",
            rule="data_disk",
            image_id=image.id,
        )


def check_exportable(image: Image) -> None:
    """Constraint 6: only the IMS APIs' (and uploaded or base) images go to OBS."""
    image_kind = kind(image)
    if image_kind == "ims_whole":
        raise Invalid(
            f"The full-ECS image {image.id} cannot be exported.",
            rule="export_whole",
            image_id=image.id,
        )
    if image_kind not in EXPORTABLE:
        raise Invalid(
            f"The image cannot be exported: image {image.id} was created from ECS "
            f"{image.origin.get('server_id')} with the native createImage action (POST "
            "/v2[.1]/{project_id}/servers/{server_id}/action), and such images cannot be "
            "exported to OBS buckets. Create the image with the IMS API (POST "
            "/v2/cloudimages/action) to export it.",
            rule="export",
            image_id=image.id,
            kind=image_kind,
        )


def check_volume_deletable(volume: Volume, blocking_snapshots: Sequence[Any]) -> None:
    """Constraint 3: Cinder deletes no volume that has snapshots (nor one attached or busy).

    ``blocking_snapshots`` are the volume's snapshots the delete may not take along
    (all of them, unless a cascade may).  Deleting a server asks this for each
    ``delete_on_termination`` volume, so a ``createImage`` snapshot keeps its volume.
    """
    if volume.status not in VOLUME_DELETABLE_STATUSES or volume.attachments or blocking_snapshots:
        raise Invalid(
            VOLUME_DELETE_REFUSED, rule="volume_delete", volume_id=volume.id, status=volume.status
        )


def delete_image_only(cloud: Any, image: Image, at: float | None = None) -> None:
    """Constraint 4: delete ``image`` and nothing else.

    The Cinder snapshots a volume-backed image maps stay until deleted explicitly
    (and such an image, once its snapshot is gone, can no longer boot).
    """
    cloud._set_image_status(image, "deleted", at)
    cloud.images.remove(image.id)


def inherited_image_meta(image: Image, flavor: Flavor) -> dict[str, Any]:
    """What a server remembers of its base image (Nova's ``image_*`` system metadata)."""
    properties = {
        k: v
        for k, v in image.properties.items()
        if k not in NON_INHERITABLE and not k.startswith("os_glance")
    }
    return {
        "base_image_ref": image.id,
        "min_disk": max(image.min_disk or 0, flavor.disk or 0),
        "min_ram": image.min_ram or 0,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "properties": properties,
    }


#: the founding document's constraints, by number, to the one function deciding each
CONSTRAINTS: dict[int, Callable[..., Any]] = {
    1: check_imageable,
    2: boot_zone,
    3: check_volume_deletable,
    4: delete_image_only,
    5: check_data_disk,
    6: check_exportable,
}
