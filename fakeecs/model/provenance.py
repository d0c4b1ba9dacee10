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
"""
from .errors import Invalid

#: kinds whose servers must stay in the source server's AZ (constraint 2)
ZONE_BOUND = frozenset({"nova_snapshot"})
#: kinds that cannot become data disks (constraint 5, and IMS system images)
NOT_DATA_DISK = frozenset({"nova_snapshot", "ims_system", "ims_whole"})
#: kinds that cannot be a system disk (Huawei: a data-disk image only makes data disks)
NOT_SYSTEM_DISK = frozenset({"ims_data"})
#: kinds that IMS may export to OBS (constraint 6)
EXPORTABLE = frozenset({"ims_system", "ims_data", "base", "upload"})

#: image properties never copied into a snapshot (nova/compute/utils.py)
NON_INHERITABLE = frozenset({
    "cache_in_nova", "bittorrent", "cinder_encryption_key_id",
    "cinder_encryption_key_deletion_policy", "img_signature", "img_signature_hash_method",
    "img_signature_key_type", "img_signature_certificate_uuid",
    "block_device_mapping", "bdm_v2", "root_device_name", "mappings",
})


def kind(image):
    return image.origin.get("kind", "upload")


def from_server(kind_name, server, **extra):
    """The origin record for an image made from ``server``."""
    record = {"kind": kind_name, "server_id": server.id,
              "availability_zone": server.availability_zone, "project_id": server.project_id}
    record.update(extra)
    return record


def boot_zone(images, requested, default):
    """The AZ a new server booted from ``images`` must be in (constraint 2)."""
    bound = [image for image in images if kind(image) in ZONE_BOUND]
    for image in bound:
        source = image.origin["availability_zone"]
        if requested is not None and requested != source:
            raise Invalid(
                f"Image {image.id} was created from ECS {image.origin['server_id']} in "
                f"availability zone {source}; a server created from it must be in {source}, "
                f"not {requested}.",
                rule="same_az", image_id=image.id, source_zone=source, requested_zone=requested)
        requested = source
    return requested if requested is not None else default


#: Huawei's fields a server snapshot gets whatever its base image had (a private image)
SNAPSHOT_PLATFORM_FIELDS = {"__imagetype": "private"}


def check_system_disk(image):
    """Refuse to boot a server from an image that can only make data disks."""
    if kind(image) in NOT_SYSTEM_DISK:
        raise Invalid(f"Image {image.id} is a data disk image and cannot be used to create "
                      "a system disk or a server.", rule="system_disk", image_id=image.id)


def check_data_disk(image):
    """Refuse to make a data disk from an image that cannot be one (constraint 5)."""
    if kind(image) in NOT_DATA_DISK:
        what = {"nova_snapshot": "an image created from an ECS with the createImage action",
                "ims_system": "a system disk image", "ims_whole": "a full-ECS image"}[kind(image)]
        raise Invalid(f"Image {image.id} is {what} and cannot be used to create data disks.",
                      rule="data_disk", image_id=image.id)


def inherited_image_meta(image, flavor):
    """What a server remembers of its base image (Nova's ``image_*`` system metadata)."""
    properties = {k: v for k, v in image.properties.items()
                  if k not in NON_INHERITABLE and not k.startswith("os_glance")}
    return {
        "base_image_ref": image.id,
        "min_disk": max(image.min_disk or 0, flavor.disk or 0),
        "min_ram": image.min_ram or 0,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "properties": properties,
    }
