"""Block storage (Cinder volumes and snapshots) and everything servers do with it.

The storage room of :class:`~fakeecs.model.Cloud`:

* Cinder volumes and snapshots with their status walks (``creating`` ->
  ``available``, ``deleting`` -> gone) on the virtual clock;
* boot-from-volume servers (``block_device_mapping_v2``): the system disk and the
  data disks are volumes in the server's AZ, attached while the server builds;
* Nova's ``snapshot_volume_backed`` path of ``createImage`` (a Cinder snapshot per
  attached volume, an ``active`` image of size 0 that maps them);
* the server deletion side: volumes are detached, and deleted only when their
  ``delete_on_termination`` says so (and Cinder lets it: never a volume that still
  has snapshots);
* ways into ``error``: a failed build (a flavor or an image flagged in the scenario,
  or a boot volume that cannot be made) and :meth:`StorageMixin.force_server_error`.

The documented constraints are decided by :mod:`fakeecs.model.provenance`; this
room only calls them (``boot_zone`` through the compute room,
``check_data_disk`` for every data disk, ``check_volume_deletable`` for every
volume Cinder or a server deletion would delete).

Scenario flags (no extra scenario keys are needed):

* a flavor whose ``extra_specs`` has ``fakeecs:fail_build`` fails every build;
* an image whose properties have ``fakeecs:fail_build`` fails every build from it;
* an image whose properties have ``fakeecs:fail_volume`` makes every volume created
  from it end in ``error`` (so a server booting from such a volume fails to build).

The value of a flag is the fault message (``"true"`` means the default message).

Snapshots record their availability zone in ``origin["availability_zone"]`` (see
:meth:`StorageMixin.snapshot_zone`); ``origin["kind"]`` is ``"nova_snapshot"`` for
the snapshots of ``createImage`` (with ``server_id``, ``image_id``) and
``"cinder"`` for the ones made through the volume API.
"""

import json
import re
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

from . import provenance, transitions
from .cloud import operation
from .devices import next_device
from .entities import Flavor, Image, Job, Server, Snapshot, Volume
from .errors import Conflict, Forbidden, Invalid, NotFound
from .images import give_generated_data
from .pager import equal_clauses, project_clause
from .policy import Context, authorize
from .store import Collection

if TYPE_CHECKING:
    from .cloud import Room
else:
    Room = object

#: a server's block device (Nova's BDM as a dict) and one planned disk of a create
BlockDevice = dict[str, Any]
Plan = dict[str, Any]
_Resource = TypeVar("_Resource", Volume, Snapshot)

GiB = 1024**3

#: scenario flags, see the module docstring
FAIL_BUILD = "fakeecs:fail_build"
FAIL_VOLUME = "fakeecs:fail_volume"

#: Nova's fault message when no host takes the instance
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."

SNAPSHOT_DELETE_REFUSED = (
    "Invalid snapshot: Snapshot status must be available or error and must not be part of a group."
)

#: Nova's ``device`` pattern for volume attachments (schemas/volumes.py)
DEVICE_PATH = re.compile(r"(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$")

#: Cinder's status rules, one place: rule -> (statuses allowed or None for any,
#: statuses refused, message).  Messages are Queens' texts (the attach and detach
#: ones as Nova passes Cinder's refusal on).
VOLUME_STATUS_RULES = {
    "attach": (
        ("available", "downloading"),
        (),
        "Invalid input received: Invalid volume: Volume {id} status must be available "
        "or downloading (HTTP 400) (Request-ID: {request_id})",
    ),
    "detach": (
        ("in-use",),
        (),
        "Invalid volume: Invalid input received: Invalid volume: Unable to detach "
        "volume. Volume status must be 'in-use' and attach_status must be 'attached' "
        "to detach. (HTTP 400) (Request-ID: {request_id})",
    ),
    "extend": (
        ("available",),
        (),
        "Invalid volume: Volume {id} status must be '{{'status': 'available'}}' to "
        "extend, currently {status}.",
    ),
    "extend_attached": (
        ("in-use",),
        (),
        "Invalid volume: Volume {id} status must be '{{'status': 'in-use'}}' "
        "to extend, currently {status}.",
    ),
    "update": (
        None,
        ("maintenance",),
        "Invalid volume: The volume cannot be updated during maintenance.",
    ),
    "update_metadata": (
        None,
        ("maintenance", "uploading"),
        "Invalid volume: Updating volume metadata is not allowed for volumes in {status} status.",
    ),
    "delete_metadata": (
        None,
        ("maintenance", "uploading"),
        "Invalid volume: Deleting volume metadata is not allowed for volumes in {status} status.",
    ),
}

#: the ``os-reset_status`` lists live in :mod:`transitions` (re-exported for the volume API)
VOLUME_RESET_STATUSES = transitions.VOLUME_RESET_STATUSES
VOLUME_ATTACH_STATUSES = transitions.VOLUME_ATTACH_STATUSES
VOLUME_MIGRATION_STATUSES = transitions.VOLUME_MIGRATION_STATUSES
SNAPSHOT_RESET_STATUSES = transitions.SNAPSHOT_RESET_STATUSES
#: snapshot statuses a cascading volume delete may take along
CASCADE_SNAPSHOT_STATUSES = ("available", "error")
#: Cinder's metadata limits (``check_metadata_properties``)
METADATA_LIMIT = 255


def check_volume_status(volume: Volume, rule: str, *, ok: bool = True, **values: Any) -> None:
    """Refuse (``Invalid``) unless ``volume``'s status passes ``VOLUME_STATUS_RULES[rule]``.

    ``ok=False`` refuses whatever the status (a further condition of the rule failed).
    """
    allowed, refused, template = VOLUME_STATUS_RULES[rule]
    passes = ok and (allowed is None or volume.status in allowed) and volume.status not in refused
    if not passes:
        raise Invalid(
            template.format(id=volume.id, status=volume.status, **values),
            rule=f"volume_{rule}",
            volume_id=volume.id,
            status=volume.status,
        )


def check_metadata(metadata: Any) -> dict[str, str]:
    """Cinder's ``check_metadata_properties``: a dict, keys 1..255, values <= 255.

    Too long is ``Invalid`` with ``rule="metadata_size"`` (Cinder answers 413).
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise Invalid("Invalid input received: Metadata should be a dict.", rule="metadata")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise Invalid(
                "Invalid metadata: Invalid input received: Metadata key:  has 0 "
                "characters, less than 1.",
                rule="metadata",
            )
        if len(key) > METADATA_LIMIT:
            raise Invalid(
                f"Invalid metadata size: Metadata property key {key} greater than "
                f"{METADATA_LIMIT} characters.",
                rule="metadata_size",
            )
        if value is not None and len(str(value)) > METADATA_LIMIT:
            raise Invalid(
                f"Invalid metadata size: Metadata property key {key} value greater "
                f"than {METADATA_LIMIT} characters.",
                rule="metadata_size",
            )
    return {k: "" if v is None else str(v) for k, v in metadata.items()}


UNSET = object()


def volume_image_metadata(image: Image) -> dict[str, str]:
    """Cinder's ``volume_image_metadata`` of a volume made from ``image`` (one definition).

    The image's core fields as text, then every property a snapshot may
    inherit (not :data:`provenance.NON_INHERITABLE`); the core fields win.
    """
    meta = {
        "image_id": image.id,
        "image_name": image.name or "",
        "checksum": image.checksum or "",
        "min_disk": str(image.min_disk or 0),
        "min_ram": str(image.min_ram or 0),
        "size": str(image.size or 0),
        "disk_format": image.disk_format or "",
        "container_format": image.container_format or "",
    }
    for key, value in image.properties.items():
        if key not in provenance.NON_INHERITABLE:
            meta.setdefault(key, value)
    return meta


def cinder_request_id() -> str:
    """The id of the Cinder request Nova made (quoted in its error); not a seeded id."""
    return f"req-{uuid.uuid4()}"


BDM_INVALID = "Block Device Mapping is Invalid: "
BOOT_SEQUENCE = (
    BDM_INVALID + "Boot sequence for the instance and image/block device mapping "
    "combination is not valid."
)


def _flag(value: Any) -> str | None:
    if value in (None, False, "", "false", "False"):
        return None
    if value in (True, "true", "True", "1", 1):
        return ""
    return str(value)


def image_mappings(image: Image) -> list[Any] | None:
    """The ``block_device_mapping`` of a volume-backed snapshot image, or ``None``."""
    raw = image.properties.get("block_device_mapping")
    if not raw or str(image.properties.get("bdm_v2", "")).lower() != "true":
        return None
    try:
        mappings = json.loads(raw)
    except ValueError:
        return None
    return mappings if isinstance(mappings, list) else None


def _image_local(bd: BlockDevice) -> bool:
    """An image-to-local mapping: the image itself, not a volume."""
    return bd.get("source_type") == "image" and bd.get("destination_type", "local") == "local"


def _int_or_none(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Invalid(
            f"Invalid input for field/attribute {field}. Value: {value}. "
            f"{value!r} is not of type 'integer'",
            rule="bdm_format",
        )
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid(
            f"Invalid input for field/attribute {field}. Value: {value}. "
            f"{value!r} is not of type 'integer'",
            rule="bdm_format",
        ) from None


class StorageMixin(Room):
    """The storage room of :class:`~fakeecs.model.Cloud` (Cinder v3 and boot from volume)."""

    # ------------------------------------------------------------------ lookups

    def _visible(self, context: Context, item: Any) -> bool:
        return item.project_id == context.project_id or context.is_admin

    def _volume(self, context: Context, volume_id: str) -> Volume:
        volume: Volume | None = self.volumes.get(volume_id)
        if volume is None or not self._visible(context, volume):
            raise NotFound("volume", volume_id, f"Volume {volume_id} could not be found.")
        return volume

    def _snapshot(self, context: Context, snapshot_id: str) -> Snapshot:
        snapshot: Snapshot | None = self.snapshots.get(snapshot_id)
        if snapshot is None or not self._visible(context, snapshot):
            raise NotFound("snapshot", snapshot_id, f"Snapshot {snapshot_id} could not be found.")
        return snapshot

    def snapshot_zone(self, snapshot: Snapshot) -> str | None:
        """The availability zone a snapshot lives in (that of its source volume)."""
        zone: str | None = snapshot.origin.get("availability_zone")
        if zone:
            return zone
        volume = self.volumes.get(snapshot.volume_id)
        return volume.availability_zone if volume is not None else None

    def snapshots_of_volume(self, volume_id: str) -> list[Snapshot]:
        """Every snapshot (in any state) whose source is ``volume_id``."""
        return self.snapshots.page(
            newest_first=False,
            keep=lambda s: s.volume_id == volume_id,
            where=[[("volume_id", volume_id)]],
        )[0]

    def server_volumes(self, server: Server) -> list[tuple[BlockDevice, Volume | None]]:
        """``(block_device, volume)`` pairs of a server, boot disk first; volume may be None."""
        devices = sorted(
            server.block_devices,
            key=lambda bd: (
                bd.get("boot_index") is None or bd.get("boot_index") < 0,
                bd.get("boot_index") or 0,
            ),
        )
        return [(bd, self.volumes.get(bd["volume_id"])) for bd in devices]

    @operation
    def get_volume(self, context: Context, volume_id: str) -> Volume:
        """A volume of the caller's project (any project for admins); ``NotFound`` else."""
        authorize(context, "volume:get", write=False)
        self.touch("volume", volume_id)
        return self._volume(context, volume_id)

    @operation
    def get_snapshot(self, context: Context, snapshot_id: str) -> Snapshot:
        """A snapshot of the caller's project (any project for admins); ``NotFound`` else."""
        authorize(context, "volume:get_snapshot", write=False)
        self.touch("snapshot", snapshot_id)
        return self._snapshot(context, snapshot_id)

    def _page(
        self,
        store: Collection,
        context: Context,
        filters: dict[str, Any] | None,
        limit: int | None,
        marker: str | None,
        all_projects: bool,
        kind: str,
    ) -> tuple[list[Any], bool]:
        self.touch(
            kind, lambda: [item.id for item in store if item.project_id == context.project_id]
        )
        filters = {k: v for k, v in (filters or {}).items() if v is not None}

        def keep(item: Any) -> bool:
            if item.project_id != context.project_id and not (all_projects and context.is_admin):
                return False
            for key, value in filters.items():
                actual = (
                    self.snapshot_zone(item)
                    if (kind == "snapshot" and key == "availability_zone")
                    else getattr(item, key, None)
                )
                if isinstance(actual, bool):
                    actual = "true" if actual else "false"
                    value = str(value).lower()
                if str(actual) != str(value):
                    return False
            return True

        if marker is not None:
            found = store.get(marker)
            if found is None or not self._visible(context, found):
                raise Invalid(f"Invalid input received: marker [{marker}] not found", rule="marker")
        indexed = ("name", "status", "volume_id") + (
            ("availability_zone",) if kind == "volume" else ()
        )
        where = project_clause(context, all_projects) + equal_clauses(filters, indexed)
        return store.page(marker=marker, limit=limit, keep=keep, where=where)

    @operation
    def list_volumes(
        self,
        context: Context,
        *,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        marker: str | None = None,
        all_projects: bool = False,
    ) -> tuple[list[Volume], bool]:
        """Volumes newest first; returns ``(volumes, more)``.

        ``filters`` compares attributes of :class:`Volume` for equality (``name``,
        ``status``, ``availability_zone``, ``bootable``, ...).
        """
        authorize(context, "volume:get_all", write=False)
        return self._page(self.volumes, context, filters, limit, marker, all_projects, "volume")

    @operation
    def list_snapshots(
        self,
        context: Context,
        *,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        marker: str | None = None,
        all_projects: bool = False,
    ) -> tuple[list[Snapshot], bool]:
        """Snapshots newest first; returns ``(snapshots, more)``.

        ``filters``: ``name``, ``status``, ``volume_id``, ``availability_zone``.
        """
        authorize(context, "volume:get_all_snapshots", write=False)
        return self._page(self.snapshots, context, filters, limit, marker, all_projects, "snapshot")

    # ------------------------------------------------------------------ volumes

    @operation
    def create_volume(
        self,
        context: Context,
        *,
        size: int | None = None,
        name: str | None = None,
        description: str | None = None,
        availability_zone: str | None = None,
        image_id: str | None = None,
        snapshot_id: str | None = None,
        volume_type: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Volume:
        """Cinder ``POST /volumes``: a new volume in ``creating`` (then ``available``).

        From ``image_id`` (``imageRef``): the image must be usable as a disk
        (:func:`provenance.check_data_disk`, constraint 5), be active, and fit the
        size.  From ``snapshot_id``: the snapshot must be ``available``, the zone is
        the snapshot's (another zone is refused) and the size defaults to its size.
        """
        authorize(context, "volume:create", write=True)
        image = snapshot = None
        if image_id is not None and snapshot_id is not None:
            raise Invalid(
                "Invalid input received: Cannot create a volume from both an image and a snapshot.",
                rule="volume_source",
            )
        if image_id is not None:
            image = self._image_for_volume(context, image_id)
            provenance.check_data_disk(image)
        if snapshot_id is not None:
            snapshot = self._snapshot_for_volume(context, snapshot_id)
            if size is None:
                size = snapshot.size
        zone = self._volume_zone(availability_zone, snapshot)
        size = self._check_volume_size(size, image, snapshot)
        return self.new_volume(
            context.project_id,
            zone,
            size,
            name=name,
            description=description,
            volume_type=volume_type,
            metadata=metadata,
            image=image,
            snapshot=snapshot,
            user_id=context.user_id,
        )

    def _image_for_volume(self, context: Context, image_id: str) -> Image:
        image: Image | None = self.images.get(image_id)
        if image is None or not self._image_visible(context, image):
            raise Invalid("Invalid imageRef provided.", rule="image")
        if image.status != "active":
            raise Invalid(
                "Invalid image identifier or unable to access requested image.",
                rule="image_status",
                image_id=image_id,
            )
        return image

    def _snapshot_for_volume(self, context: Context, snapshot_id: str) -> Snapshot:
        snapshot: Snapshot | None = self.snapshots.get(snapshot_id)
        if snapshot is None or not self._visible(context, snapshot):
            raise NotFound("snapshot", snapshot_id, f"Snapshot {snapshot_id} could not be found.")
        if snapshot.status != "available":
            raise Invalid(
                f"Invalid snapshot: Originating snapshot status must be 'available' "
                f"to create a volume (snapshot {snapshot_id} is {snapshot.status}).",
                rule="snapshot_status",
                snapshot_id=snapshot_id,
            )
        return snapshot

    def _volume_zone(self, requested: str | None, snapshot: Snapshot | None) -> str:
        if snapshot is not None:
            source = self.snapshot_zone(snapshot)
            if requested is not None and requested != source:
                raise Invalid(
                    "Invalid input received: Volume must be in the same availability "
                    f"zone as the snapshot (snapshot {snapshot.id} is in {source}, "
                    f"not {requested}).",
                    rule="snapshot_zone",
                    snapshot_id=snapshot.id,
                    source_zone=source,
                    requested_zone=requested,
                )
            requested = source
        if requested is None:
            default: str = self.default_zone()
            return default
        zone = self.availability_zones.get(requested)
        if zone is None or not zone.available:
            raise Invalid(
                f"Invalid input received: Availability zone '{requested}' is invalid.",
                rule="availability_zone",
                zone=requested,
            )
        return requested

    def _check_volume_size(self, size: Any, image: Image | None, snapshot: Snapshot | None) -> int:
        if size is None or isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise Invalid(
                f"Invalid input received: Volume size '{size}' must be an integer and "
                "greater than 0",
                rule="size",
            )
        if snapshot is not None and size < snapshot.size:
            raise Invalid(
                f"Invalid input received: Volume size '{size}'GB cannot be smaller than "
                f"the snapshot size {snapshot.size}GB. They must be >= original "
                "snapshot size.",
                rule="size",
            )
        if image is not None:
            image_gb = -(-(image.size or 0) // GiB)
            if image_gb > size:
                raise Invalid(
                    f"Invalid input received: Size of specified image {image_gb}GB is "
                    f"larger than volume size {size}GB.",
                    rule="size",
                )
            if (image.min_disk or 0) > size:
                raise Invalid(
                    f"Invalid input received: Volume size {size}GB cannot be smaller "
                    f"than the image minDisk size {image.min_disk}GB.",
                    rule="size",
                )
        return size

    def new_volume(
        self,
        project_id: str,
        zone: str,
        size: int,
        *,
        name: str | None = None,
        description: str | None = None,
        volume_type: str | None = None,
        metadata: dict[str, str] | None = None,
        image: Image | None = None,
        snapshot: Snapshot | None = None,
        user_id: str | None = None,
        timed: bool = True,
        origin: dict[str, Any] | None = None,
        volume_id: str | None = None,
        status: str = "creating",
        created_at: float | None = None,
        bootable: bool | None = None,
    ) -> Volume:
        """The one factory of volumes (Cinder, boot from volume, ECS, scenarios).

        Adds a volume in ``status`` (``creating`` by default); with ``timed`` a
        job makes it ``available``.  Made from ``image``, it records the image's
        ``volume_image_metadata`` (:func:`volume_image_metadata`); from
        ``snapshot``, the snapshot's.  ``bootable`` overrides what the source says.
        """
        now = self.now() if created_at is None else created_at
        volume = Volume(
            id=volume_id or self.ids.uuid(),
            name=name,
            project_id=project_id,
            size=size,
            availability_zone=zone,
            status=status,
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
            description=description,
            volume_type=volume_type or "SSD",
            metadata=dict(metadata or {}),
            origin=dict(origin or {"kind": "cinder"}),
        )
        if user_id:
            volume.origin.setdefault("user_id", user_id)
        if image is not None:
            volume.source_image_id = image.id
            volume.bootable = True
            volume.image_metadata = volume_image_metadata(image)
            if _flag(image.properties.get(FAIL_VOLUME)) is not None:
                volume.origin["fail"] = (
                    _flag(image.properties.get(FAIL_VOLUME))
                    or f"Failed to copy image {image.id} to volume."
                )
        if snapshot is not None:
            volume.snapshot_id = snapshot.id
            source = self.volumes.get(snapshot.volume_id)
            volume.bootable = (
                bool(source.bootable)
                if source is not None
                else bool(snapshot.origin.get("image_metadata"))
            )
            volume.image_metadata = dict(
                snapshot.origin.get("image_metadata") or (source.image_metadata if source else {})
            )
        if bootable is not None:
            volume.bootable = bootable
        self.volumes.add(volume)
        if timed:
            self.start_job("volume_create", "volume", volume.id, ["available"])
        return volume

    def _finish_volume(self, volume: Volume, at: float) -> bool:
        """``creating`` -> ``available`` (or ``error`` when flagged); True on success."""
        if volume.status != "creating":
            return volume.status not in ("error", "deleting")
        failure = volume.origin.get("fail")
        target = "error" if failure else "available"
        transitions.check("volume", volume.status, target)
        volume.status = target
        volume.updated_at = at
        return not failure

    def _step_volume_create(self, job: Job, step: str, at: float) -> None:
        volume = self.volumes.get(job.target_id)
        if volume is not None:
            self._finish_volume(volume, at)

    @operation
    def delete_volume(self, context: Context, volume_id: str, *, cascade: bool = False) -> Volume:
        """Cinder ``DELETE /volumes/{id}``: ``deleting``, then gone.

        Refused (``Invalid``, Cinder's 400) while the volume is attached, being
        created or has snapshots.  With ``cascade`` (``?cascade=true``) the volume's
        snapshots go with it, as Cinder does, provided each is ``available`` or
        ``error`` (and, for a non-admin, in the caller's project).  That includes the
        snapshots behind a volume-backed ``createImage`` image: Cinder does not know
        Glance maps them, so the image stays and can no longer boot (it answers
        ``image_snapshot_missing``).  Deleting a server or an image never does this.
        """
        authorize(context, "volume:delete", write=True)
        volume = self._volume(context, volume_id)
        if volume.status == "deleting":
            return volume
        snapshots = self.snapshots_of_volume(volume.id)
        if cascade:
            blocking = [
                snap
                for snap in snapshots
                if snap.status not in CASCADE_SNAPSHOT_STATUSES
                or (snap.project_id != context.project_id and not context.is_admin)
            ]
        else:
            blocking = snapshots
        provenance.check_volume_deletable(volume, blocking)
        for snapshot in snapshots:
            self._start_delete("snapshot", snapshot)
        self._start_delete("volume", volume)
        return volume

    @operation
    def update_volume(
        self,
        context: Context,
        volume_id: str,
        *,
        name: Any = UNSET,
        description: Any = UNSET,
        metadata: Any = UNSET,
    ) -> Volume:
        """Cinder ``PUT /volumes/{id}``: name, description and (replacing) metadata.

        Any status but ``maintenance`` (an ``in-use`` volume too).
        """
        authorize(context, "volume:update", write=True)
        volume = self._volume(context, volume_id)
        check_volume_status(volume, "update")
        if metadata is not UNSET:
            metadata = check_metadata(metadata)
        return self._apply(volume, name=name, description=description, metadata=metadata)

    def _apply(self, resource: _Resource, **values: Any) -> _Resource:
        """Set the given (not ``UNSET``) attributes of a volume or snapshot; touch it."""
        for key, value in values.items():
            if value is not UNSET:
                setattr(resource, key, value)
        resource.updated_at = self.now()
        return resource

    @operation
    def extend_volume(
        self, context: Context, volume_id: str, new_size: int, *, attached_ok: bool = False
    ) -> Volume:
        """Cinder ``os-extend``: ``extending``, then the old status with ``size = new_size``.

        The size is checked before the status; ``attached_ok`` (microversion 3.42+)
        also extends an ``in-use`` volume (policy ``volume:extend_attached_volume``).
        """
        volume = self._volume(context, volume_id)
        attached = attached_ok and volume.status == "in-use"
        authorize(
            context, "volume:extend_attached_volume" if attached else "volume:extend", write=True
        )
        if new_size <= volume.size:
            raise Invalid(
                "Invalid input received: New size for extend must be greater than "
                f"current size. (current: {volume.size}, extended: {new_size}).",
                rule="extend_size",
                volume_id=volume_id,
            )
        check_volume_status(volume, "extend_attached" if attached else "extend")
        previous = volume.status
        transitions.check("volume", previous, "extending")
        volume.status = "extending"
        volume.updated_at = self.now()
        self.start_job(
            "volume_extend",
            "volume",
            volume.id,
            ["done"],
            {"previous_status": previous, "new_size": new_size},
        )
        return volume

    def _step_volume_extend(self, job: Job, step: str, at: float) -> None:
        volume = self.volumes.get(job.target_id)
        if volume is None or volume.status != "extending":
            return
        target = job.data["previous_status"]
        if target == "in-use" and not volume.attachments:
            target = "available"  # its server went away while it grew
        transitions.check("volume", volume.status, target)
        volume.status = target
        volume.size = job.data["new_size"]
        volume.updated_at = at

    @operation
    def set_volume_bootable(self, context: Context, volume_id: str, bootable: bool) -> Volume:
        """Cinder ``os-set_bootable``: the ``bootable`` flag, as an update (not in maintenance)."""
        authorize(context, "volume:update", write=True)
        volume = self._volume(context, volume_id)
        check_volume_status(volume, "update")
        volume.bootable = bool(bootable)
        volume.updated_at = self.now()
        return volume

    @operation
    def set_volume_image_metadata(
        self, context: Context, volume_id: str, metadata: Any
    ) -> dict[str, str]:
        """Cinder ``os-set_image_metadata``: merge into ``volume_image_metadata``."""
        authorize(context, "volume:update_volume_metadata", write=True)
        volume = self._volume(context, volume_id)
        check_volume_status(volume, "update_metadata")
        volume.image_metadata = {**volume.image_metadata, **check_metadata(metadata)}
        volume.updated_at = self.now()
        return dict(volume.image_metadata)

    @operation
    def unset_volume_image_metadata(self, context: Context, volume_id: str, key: str) -> None:
        """Cinder ``os-unset_image_metadata``: drop one key; ``NotFound`` if absent."""
        authorize(context, "volume:delete_volume_metadata", write=True)
        volume = self._volume(context, volume_id)
        if key not in volume.image_metadata:
            raise NotFound(
                "volume_image_metadata",
                volume_id,
                f"Glance metadata for volume/snapshot {volume_id} cannot be found.",
            )
        check_volume_status(volume, "delete_metadata")
        volume.image_metadata = {k: v for k, v in volume.image_metadata.items() if k != key}
        volume.updated_at = self.now()

    # ------------------------------------------------------------ metadata

    def _metadata_owner(
        self, context: Context, kind: str, resource_id: str, write: str | None = None
    ) -> "Volume | Snapshot":
        if kind == "volume":
            action = {None: "get", "update": "update", "delete": "delete"}[write]
            authorize(context, f"volume:{action}_volume_metadata", write=write is not None)
            resource = self._volume(context, resource_id)
            if write is not None:
                check_volume_status(resource, f"{write}_metadata")
            return resource
        action = {None: "get", "update": "update", "delete": "delete"}[write]
        authorize(context, f"volume:{action}_snapshot_metadata", write=write is not None)
        return self._snapshot(context, resource_id)

    @operation
    def get_metadata(self, context: Context, kind: str, resource_id: str) -> dict[str, str]:
        """The user metadata of a ``"volume"`` or ``"snapshot"``."""
        return dict(self._metadata_owner(context, kind, resource_id).metadata)

    @operation
    def get_metadata_item(
        self, context: Context, kind: str, resource_id: str, key: str
    ) -> dict[str, str]:
        """One key of a volume's or snapshot's metadata; ``NotFound`` if absent."""
        resource = self._metadata_owner(context, kind, resource_id)
        if key not in resource.metadata:
            raise NotFound(
                f"{kind}_metadata",
                key,
                f"{kind.capitalize()} {resource_id} has no metadata with key {key}.",
            )
        return {key: resource.metadata[key]}

    @operation
    def set_metadata(
        self, context: Context, kind: str, resource_id: str, metadata: Any, *, replace: bool = False
    ) -> dict[str, str]:
        """Merge (``POST``) or replace (``PUT``) metadata; returns the full new set."""
        resource = self._metadata_owner(context, kind, resource_id, "update")
        items = check_metadata(metadata)
        resource.metadata = items if replace else {**resource.metadata, **items}
        resource.updated_at = self.now()
        return dict(resource.metadata)

    @operation
    def delete_metadata_item(self, context: Context, kind: str, resource_id: str, key: str) -> None:
        """Remove one metadata key of a volume or snapshot; ``NotFound`` if absent."""
        resource = self._metadata_owner(context, kind, resource_id, "delete")
        if key not in resource.metadata:
            raise NotFound(
                f"{kind}_metadata",
                key,
                f"{kind.capitalize()} {resource_id} has no metadata with key {key}.",
            )
        del resource.metadata[key]
        resource.updated_at = self.now()

    # ------------------------------------------------------- admin actions

    @operation
    def reset_volume_status(
        self,
        context: Context,
        volume_id: str,
        *,
        status: str | None = None,
        attach_status: str | None = None,
        migration_status: str | None = None,
    ) -> Volume:
        """Cinder's admin ``os-reset_status`` of a volume: values are set as given.

        ``attach_status="detached"`` forgets every attachment on the Cinder side only
        (Nova is not told, as in Cinder).  Values are already lower-case and valid.
        """
        self._require_admin(context, "volume_extension:volume_admin_actions:reset_status")
        volume = self._volume(context, volume_id)
        if status is not None:
            volume.status = status
            self.cancel_jobs("volume", volume.id)
        if attach_status == "detached":
            volume.attachments = []
        if migration_status is not None:
            volume.origin["migration_status"] = (
                None if migration_status == "none" else migration_status
            )
        volume.updated_at = self.now()
        return volume

    @operation
    def reset_snapshot_status(self, context: Context, snapshot_id: str, status: str) -> Snapshot:
        """Cinder's admin ``os-reset_status`` of a snapshot."""
        self._require_admin(context, "volume_extension:snapshot_admin_actions:reset_status")
        snapshot = self._snapshot(context, snapshot_id)
        snapshot.status = status
        self.cancel_jobs("snapshot", snapshot.id)
        snapshot.updated_at = self.now()
        return snapshot

    @staticmethod
    def _require_admin(context: Context, rule: str) -> None:
        if not context.is_admin:
            raise Forbidden(f"Policy doesn't allow {rule} to be performed.", rule=rule)

    def _start_delete(self, kind: str, resource: "Volume | Snapshot") -> None:
        """Move a volume or snapshot to ``deleting``; its ``<kind>_delete`` process ends it."""
        transitions.check(kind, resource.status, "deleting")
        resource.status = "deleting"
        resource.updated_at = self.now()
        self.cancel_jobs(kind, resource.id)
        self.start_job(f"{kind}_delete", kind, resource.id, ["deleted"])

    def _finish_delete(self, kind: str, store: Collection, job: Job, at: float) -> None:
        resource = store.get(job.target_id)
        if resource is None or resource.status != "deleting":
            return
        transitions.check(kind, resource.status, "deleted")
        resource.status = "deleted"
        resource.updated_at = at
        store.remove(resource.id)

    def _step_volume_delete(self, job: Job, step: str, at: float) -> None:
        self._finish_delete("volume", self.volumes, job, at)

    # ---------------------------------------------------------------- snapshots

    @operation
    def create_snapshot(
        self,
        context: Context,
        volume_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        force: bool = False,
    ) -> Snapshot:
        """Cinder ``POST /snapshots``: a snapshot in ``creating`` (then ``available``).

        An ``in-use`` volume needs ``force=True`` (what Nova's ``create_snapshot_force``
        sends).  The snapshot lives in its volume's AZ.
        """
        authorize(context, "volume:create_snapshot", write=True)
        volume = self._volume(context, volume_id)
        allowed = ("available", "in-use") if force else ("available",)
        if volume.status not in allowed:
            if force:
                message = (
                    f"Invalid volume: Volume {volume_id} status must be available or "
                    f"in-use, but current status is: {volume.status}."
                )
            else:
                message = (
                    f"Invalid volume: Volume {volume_id} status must be available, but "
                    f"current status is: {volume.status}."
                )
            raise Invalid(
                message, rule="snapshot_volume_status", volume_id=volume_id, status=volume.status
            )
        return self.new_snapshot(
            volume, name=name, description=description, metadata=metadata, origin={"kind": "cinder"}
        )

    def new_snapshot(
        self,
        volume: Volume,
        *,
        name: str | None,
        description: str | None = None,
        metadata: dict[str, str] | None = None,
        origin: dict[str, Any] | None = None,
        snapshot_id: str | None = None,
        project_id: str | None = None,
        size: int | None = None,
        status: str = "creating",
        created_at: float | None = None,
        timed: bool = True,
    ) -> Snapshot:
        """The one factory of volume snapshots (Cinder, ``createImage``, scenarios).

        The snapshot records its volume's zone and ``volume_image_metadata`` in
        ``origin``; with ``timed`` a job makes it ``available``.
        """
        now = self.now() if created_at is None else created_at
        record = dict(origin or {})
        record.setdefault("kind", "cinder")
        record["availability_zone"] = volume.availability_zone
        if volume.image_metadata:
            record["image_metadata"] = dict(volume.image_metadata)
        snapshot = Snapshot(
            id=snapshot_id or self.ids.uuid(),
            name=name,
            project_id=project_id or volume.project_id,
            volume_id=volume.id,
            size=volume.size if size is None else size,
            status=status,
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
            description=description,
            metadata=dict(metadata or {}),
            origin=record,
        )
        self.snapshots.add(snapshot)
        if timed:
            self.start_job("snapshot_create", "snapshot", snapshot.id, ["available"])
        return snapshot

    def _step_snapshot_create(self, job: Job, step: str, at: float) -> None:
        snapshot = self.snapshots.get(job.target_id)
        if snapshot is None or snapshot.status != "creating":
            return
        transitions.check("snapshot", snapshot.status, "available")
        snapshot.status = "available"
        snapshot.updated_at = at

    @operation
    def delete_snapshot(self, context: Context, snapshot_id: str) -> Snapshot:
        """Cinder ``DELETE /snapshots/{id}``: ``deleting``, then gone.

        Allowed even when an image maps the snapshot (the image then cannot boot,
        see :meth:`_expand_image_mappings`).
        """
        authorize(context, "volume:delete_snapshot", write=True)
        snapshot = self._snapshot(context, snapshot_id)
        if snapshot.status == "deleting":
            return snapshot
        if snapshot.status not in ("available", "error", "error_deleting"):
            raise Invalid(
                SNAPSHOT_DELETE_REFUSED,
                rule="snapshot_delete",
                snapshot_id=snapshot_id,
                status=snapshot.status,
            )
        self._start_delete("snapshot", snapshot)
        return snapshot

    @operation
    def update_snapshot(
        self, context: Context, snapshot_id: str, *, name: Any = UNSET, description: Any = UNSET
    ) -> Snapshot:
        """Cinder ``PUT /snapshots/{id}``: name and description, in any status."""
        authorize(context, "volume:update_snapshot", write=True)
        snapshot = self._snapshot(context, snapshot_id)
        return self._apply(snapshot, name=name, description=description)

    def _step_snapshot_delete(self, job: Job, step: str, at: float) -> None:
        self._finish_delete("snapshot", self.snapshots, job, at)

    # ------------------------------------------------------- attach / detach

    @operation
    def attach_volume(
        self,
        context: Context,
        server_id: str,
        volume_id: str,
        device: str | None = None,
        *,
        delete_on_termination: bool = False,
        allow_shelved: bool = True,
        tag: str | None = None,
    ) -> BlockDevice:
        """Attach an ``available`` volume of the server's AZ as a data disk.

        Nova's ``os-volume_attachments`` create, checks in Queens order (see
        :data:`fakeecs.model.transitions.VOLUME_ATTACH_VM_STATES`).  ``device`` is
        honoured when free (a used one is a ``Conflict``); without it the next free
        ``/dev/vdX`` is chosen.  ``allow_shelved=False`` is the check of requests
        below compute 2.20.  The volume becomes ``in-use`` at once (Cinder's
        ``reserved`` step is not observable).  A ``shelved_offloaded`` server gets
        the volume without a device name (Nova picks one at unshelve) and refuses a
        ``tag``.  Returns the block-device dict added to ``server.block_devices``.

        Huawei rule: the volume must be in the server's AZ (EVS disks only attach
        in their own AZ; Nova's ``cross_az_attach`` would allow it).
        """
        authorize(context, "os_compute_api:os-volumes-attachments:create", write=True)
        server = self._server(context, server_id)
        self._check_shelved("attach_volume", server, allow_shelved)
        self._check_lock(context, server)
        self._check_attach_state("attach_volume", server)
        if device is not None and not DEVICE_PATH.match(device):
            raise Invalid(
                f"The supplied device path ({device}) is invalid.",
                rule="device_path",
                device=device,
            )
        if any(bd["volume_id"] == volume_id for bd in server.block_devices):
            raise Invalid(
                f"Invalid volume: volume {volume_id} already attached",
                rule="already_attached",
                volume_id=volume_id,
            )
        volume = self._volume(context, volume_id)
        offloaded = server.vm_state == "shelved_offloaded"
        if offloaded and tag is not None:
            raise Invalid(
                "Tagged volume attachment is not supported for shelved-offloaded instances.",
                rule="offloaded_tag",
                volume_id=volume_id,
            )
        if device is not None and any(
            bd.get("device_name") == device for bd in server.block_devices
        ):
            raise Conflict(
                f"The supplied device path ({device}) is in use.",
                rule="device_in_use",
                device=device,
            )
        self._check_same_zone(server.availability_zone, volume)
        check_volume_status(volume, "attach", request_id=cinder_request_id())
        if offloaded:
            device = None
        else:
            device = device or self._next_device(server)
        entry = {
            "volume_id": volume.id,
            "device_name": device,
            "boot_index": None,
            "delete_on_termination": bool(delete_on_termination),
            "tag": tag,
            "source_type": "volume",
            "destination_type": "volume",
        }
        self._attach(server, volume, entry, self.now())
        server.updated_at = self.now()
        return entry

    @operation
    def detach_volume(
        self, context: Context, server_id: str, volume_id: str, *, allow_shelved: bool = True
    ) -> BlockDevice:
        """Detach a data disk (never the boot disk); the volume becomes ``available``.

        Nova's ``os-volume_attachments`` delete, checks in Queens order.  Returns
        the block-device dict removed from the server.
        """
        authorize(context, "os_compute_api:os-volumes-attachments:delete", write=True)
        server = self._server(context, server_id)
        self._check_shelved("detach_volume", server, allow_shelved)
        volume = self._volume(context, volume_id)
        entry = self._attachment_entry(server, volume_id)
        if entry.get("boot_index") == 0:
            raise Forbidden(
                "Can't detach root device volume", rule="root_volume", volume_id=volume_id
            )
        self._check_lock(context, server)
        self._check_attach_state("detach_volume", server)
        check_volume_status(
            volume,
            "detach",
            request_id=cinder_request_id(),
            ok=any(a["server_id"] == server.id for a in volume.attachments),
        )
        server.block_devices = [bd for bd in server.block_devices if bd is not entry]
        server.updated_at = self.now()
        self._detach(server, volume, self.now())
        return entry

    @operation
    def list_volume_attachments(self, context: Context, server_id: str) -> list[BlockDevice]:
        """The block-device dicts of every volume of a server (root included), in order."""
        authorize(context, "os_compute_api:os-volumes-attachments:index", write=False)
        server = self._server(context, server_id)
        return [bd for bd in server.block_devices if bd.get("volume_id")]

    @operation
    def get_volume_attachment(
        self, context: Context, server_id: str, volume_id: str
    ) -> BlockDevice:
        """The block-device dict of ``volume_id`` on a server; ``NotFound`` if not attached."""
        authorize(context, "os_compute_api:os-volumes-attachments:show", write=False)
        server = self._server(context, server_id)
        return self._attachment_entry(server, volume_id)

    @staticmethod
    def _attachment_entry(server: Server, volume_id: str) -> BlockDevice:
        entry: BlockDevice | None = next(
            (bd for bd in server.block_devices if bd["volume_id"] == volume_id), None
        )
        if entry is None:
            raise NotFound(
                "volume_attachment",
                volume_id,
                f"Instance {server.id} is not attached to volume {volume_id}",
            )
        return entry

    @staticmethod
    def _check_shelved(action: str, server: Server, allow_shelved: bool) -> None:
        if not allow_shelved and server.vm_state in ("shelved", "shelved_offloaded"):
            from .compute import conflict

            raise conflict(action, server.id, "vm_state", server.vm_state)

    @staticmethod
    def _check_attach_state(action: str, server: Server) -> None:
        """Nova's ``check_instance_state`` for attach and detach (launched, no task)."""
        from .compute import conflict

        if server.vm_state not in transitions.VOLUME_ATTACH_VM_STATES:
            raise conflict(action, server.id, "vm_state", server.vm_state)
        if server.task_state is not None:
            raise conflict(action, server.id, "task_state", server.task_state)
        if server.launched_at is None:
            raise conflict(action, server.id, "launched_at", None)

    def _check_same_zone(self, zone: str, volume: Volume) -> None:
        if volume.availability_zone != zone:
            raise Invalid(
                "Server and volumes are not in the same availability zone. Server is "
                f"in: {zone}. Volumes are in: {volume.availability_zone}",
                rule="volume_zone",
                volume_id=volume.id,
                server_zone=zone,
                volume_zone=volume.availability_zone,
            )

    @staticmethod
    def _next_device(server: Server, used: set[str | None] | None = None) -> str:
        """The first free data device of ``server`` (or of ``used``); ``Invalid`` if none."""
        if used is None:
            used = {bd.get("device_name") for bd in server.block_devices}
        name = next_device(used)
        if name is None:
            raise Invalid("No free device name.", rule="device")
        return name

    def _attach(self, server: Server, volume: Volume, entry: BlockDevice, at: float) -> None:
        if entry not in server.block_devices:
            server.block_devices.append(entry)
        if volume.status != "in-use":
            transitions.check("volume", volume.status, "in-use")
            volume.status = "in-use"
        volume.attachments = [a for a in volume.attachments if a["server_id"] != server.id]
        volume.attachments.append(
            {
                "server_id": server.id,
                "device": entry["device_name"],
                "attachment_id": self.ids.uuid(),
                "attached_at": at,
            }
        )
        volume.updated_at = at

    def _detach(self, server: Server, volume: Volume, at: float) -> None:
        volume.attachments = [a for a in volume.attachments if a["server_id"] != server.id]
        if volume.status == "in-use" and not volume.attachments:
            transitions.check("volume", volume.status, "available")
            volume.status = "available"
        volume.updated_at = at

    # ------------------------------------------------ boot from volume (hooks)

    def boot_devices(
        self,
        context: Context,
        image_id: str | None,
        availability_zone: str | None,
        block_devices: list[BlockDevice] | None,
    ) -> tuple[list[BlockDevice] | None, str | None]:
        """Nova's storage preparations of a create, as ``(block_devices, availability_zone)``.

        The first step of the compute room's ``create_server``:

        * ``imageRef`` of a volume-backed snapshot image (it carries
          ``block_device_mapping``) boots from volumes made from its snapshots;
        * without an AZ, a server whose disks come from existing volumes or
          snapshots goes to their AZ (zone-bound images still win, constraint 2).
        """
        devices = [dict(bd) for bd in block_devices or ()]
        if image_id and not any(
            self._boot_index(bd) == 0 and not _image_local(bd) for bd in devices
        ):
            image = self.images.get(image_id)
            if image is not None and self._image_visible(context, image) and image_mappings(image):
                # the image's own mapping replaces an image-to-local root (openstack CLI)
                devices = [bd for bd in devices if not _image_local(bd)]
                devices.insert(
                    0,
                    {
                        "source_type": "image",
                        "destination_type": "volume",
                        "uuid": image_id,
                        "boot_index": 0,
                    },
                )
        if availability_zone is None and devices:
            availability_zone = self._zone_hint(context, devices)
        return devices or None, availability_zone

    def _zone_hint(self, context: Context, devices: list[BlockDevice]) -> str | None:
        for bd in devices:
            source = bd.get("source_type")
            uuid = bd.get("uuid") or bd.get(f"{source}_id")
            if source == "volume":
                volume: Volume | None = self.volumes.get(uuid) if isinstance(uuid, str) else None
                if volume is not None and self._visible(context, volume):
                    return volume.availability_zone
            elif source == "snapshot":
                snapshot = self.snapshots.get(uuid) if isinstance(uuid, str) else None
                if snapshot is not None and self._visible(context, snapshot):
                    return self.snapshot_zone(snapshot)
        return None

    @staticmethod
    def _boot_index(bd: BlockDevice) -> int | None:
        value = bd.get("boot_index")
        try:
            return None if value is None or value == "" else int(value)
        except (TypeError, ValueError):
            return None

    def _boot_images_of(self, context: Context, block_devices: list[BlockDevice]) -> list[Image]:
        """Images that the mapping makes disks from (for the AZ rule of ``boot_zone``)."""
        found = []
        for bd in block_devices:
            if bd.get("source_type") != "image":
                continue
            uuid = bd.get("uuid") or bd.get("image_id")
            image = self.images.get(uuid) if isinstance(uuid, str) else None
            if image is not None and self._image_visible(context, image):
                found.append(image)
        return found

    def _attach_boot_volumes(
        self, context: Context, server: Server, block_devices: list[BlockDevice]
    ) -> None:
        """Plan every disk of ``block_device_mapping_v2``, check it all, then create.

        Nothing is created unless every entry is valid, so a refusal leaves no
        volume behind.  Volumes start ``creating`` and become ``in-use`` when the
        build reaches ``spawning`` (see :meth:`_step_server_build`).
        """
        plan = self._plan_block_devices(context, server, block_devices)
        flavor: Flavor = self.flavors[server.flavor_id]
        boot = next((p for p in plan if p["boot_index"] == 0), None)
        if boot is None and server.system_metadata.get("base_image_ref"):
            # imageRef plus data disks: still an image-backed server
            server.image_id = server.system_metadata["base_image_ref"]
        elif boot is not None and not server.system_metadata:
            meta = self._boot_image_meta(boot, flavor)
            if meta:
                server.system_metadata = meta
        used = {p["device_name"] for p in plan if p["device_name"]}
        for item in plan:
            if item["source"] == "volume":
                volume = item["volume"]
                transitions.check("volume", volume.status, "reserved")
                volume.status = "reserved"
                volume.updated_at = self.now()
            else:
                volume = self.new_volume(
                    server.project_id,
                    server.availability_zone,
                    item["size"],
                    name="",
                    volume_type=item["volume_type"],
                    image=item["image"],
                    snapshot=item["snapshot"],
                    timed=False,
                    origin={"kind": "server", "server_id": server.id, "user_id": context.user_id},
                )
            device = item["device_name"]
            if not device:
                if item["boot_index"] == 0:
                    device = server.root_device_name
                else:
                    device = self._next_device(server, used)
                used.add(device)
            server.block_devices.append(
                {
                    "volume_id": volume.id,
                    "device_name": device,
                    "boot_index": item["boot_index"],
                    "delete_on_termination": item["delete_on_termination"],
                    "source_type": item["source"],
                    "destination_type": "volume",
                    "disk_bus": item.get("disk_bus"),
                    "device_type": item.get("device_type") or "disk",
                    "volume_size": volume.size,
                }
            )

    def _boot_image_meta(self, boot: Plan, flavor: Flavor) -> dict[str, Any]:
        if boot["image"] is not None:
            return provenance.inherited_image_meta(boot["image"], flavor)
        image_meta = {}
        if boot["volume"] is not None:
            image_meta = boot["volume"].image_metadata
        elif boot["snapshot"] is not None:
            image_meta = boot["snapshot"].origin.get("image_metadata") or {}
        if not image_meta:
            return {}
        core = (
            "image_id",
            "image_name",
            "checksum",
            "min_disk",
            "min_ram",
            "size",
            "disk_format",
            "container_format",
        )
        return {
            "base_image_ref": image_meta.get("image_id", ""),
            "min_disk": max(int(image_meta.get("min_disk") or 0), flavor.disk or 0),
            "min_ram": int(image_meta.get("min_ram") or 0),
            "disk_format": image_meta.get("disk_format"),
            "container_format": image_meta.get("container_format"),
            "properties": {k: v for k, v in image_meta.items() if k not in core},
        }

    def _plan_block_devices(
        self, context: Context, server: Server, block_devices: list[BlockDevice]
    ) -> list[Plan]:
        plan = []
        for bd in block_devices:
            plan.extend(self._plan_entry(context, server, bd))
        boots = [p for p in plan if p["boot_index"] == 0]
        if len(boots) > 1 or (not boots and not server.system_metadata.get("base_image_ref")):
            raise Invalid(BOOT_SEQUENCE, rule="boot_sequence")
        indexes = [p["boot_index"] for p in plan if p["boot_index"] is not None]
        if len(indexes) != len(set(indexes)):
            raise Invalid(BOOT_SEQUENCE, rule="boot_sequence")
        seen = set()
        for item in plan:
            if item["volume"] is not None:
                if item["volume"].id in seen:
                    raise Invalid(
                        BDM_INVALID + f"volume {item['volume'].id} is mapped more than once.",
                        rule="bdm_duplicate",
                    )
                seen.add(item["volume"].id)
        return plan

    def _plan_entry(self, context: Context, server: Server, bd: BlockDevice) -> list[Plan]:
        source = bd.get("source_type")
        destination = bd.get("destination_type") or ("volume" if source != "image" else "local")
        if destination != "volume":
            raise Invalid(
                BDM_INVALID + f"destination_type '{destination}' is not supported: "
                "ECS block devices must have destination_type 'volume'.",
                rule="bdm_destination",
            )
        boot_index = _int_or_none(bd.get("boot_index"), "boot_index")
        if boot_index is not None and boot_index < 0:
            boot_index = None
        size = _int_or_none(bd.get("volume_size"), "volume_size")
        if size is not None and size <= 0:
            raise Invalid(
                f"Invalid input for field/attribute volume_size. Value: {size}. "
                f"{size} is less than the minimum of 1",
                rule="bdm_format",
            )
        item = {
            "boot_index": boot_index,
            "source": source,
            "image": None,
            "volume": None,
            "snapshot": None,
            "size": size,
            "delete_on_termination": bool(bd.get("delete_on_termination", False)),
            "delete_on_termination_given": "delete_on_termination" in bd,
            "device_name": bd.get("device_name"),
            "volume_type": bd.get("volume_type"),
            "disk_bus": bd.get("disk_bus"),
            "device_type": bd.get("device_type"),
        }
        uuid = bd.get("uuid") or bd.get(f"{source}_id")
        if source in ("image", "volume", "snapshot") and not isinstance(uuid, str):
            raise Invalid(BDM_INVALID + "Missing device UUID.", rule="bdm_format")
        if source == "blank":
            if size is None:
                raise Invalid(
                    BDM_INVALID + "Blank volumes need a non-zero volume_size.", rule="bdm_size"
                )
            if boot_index == 0:
                raise Invalid(BOOT_SEQUENCE, rule="boot_sequence")
            return [item]
        if source == "volume":
            volume = self.volumes.get(uuid)
            if volume is None or not self._visible(context, volume):
                raise Invalid(
                    BDM_INVALID + f"failed to get volume {uuid}.", rule="bdm_volume", volume_id=uuid
                )
            if volume.status != "available":
                raise Invalid(
                    f"Invalid volume: volume '{uuid}' status must be 'available'. "
                    f"Currently in '{volume.status}'",
                    rule="volume_status",
                    volume_id=uuid,
                )
            self._check_same_zone(server.availability_zone, volume)
            item.update(volume=volume, size=volume.size)
            return [item]
        if source == "snapshot":
            snapshot = self.snapshots.get(uuid)
            if snapshot is None or not self._visible(context, snapshot):
                raise Invalid(
                    BDM_INVALID + f"failed to get snapshot {uuid}.",
                    rule="bdm_snapshot",
                    snapshot_id=uuid,
                )
            self._check_snapshot_source(server, snapshot)
            item.update(snapshot=snapshot, size=max(size or 0, snapshot.size))
            return [item]
        # source image
        image = self.images.get(uuid)
        if image is None or not self._image_visible(context, image):
            raise Invalid(
                BDM_INVALID + f"failed to get image {uuid}.", rule="bdm_image", image_id=uuid
            )
        if image.status != "active":
            raise Invalid(f"Image {uuid} is not active.", rule="image_status", image_id=uuid)
        if boot_index != 0:
            provenance.check_data_disk(image)
        else:
            provenance.check_system_disk(image)
        mappings = image_mappings(image)
        if mappings is not None:
            if boot_index != 0:
                raise Invalid(BOOT_SEQUENCE, rule="boot_sequence")
            return self._expand_image_mappings(context, server, image, item)
        if size is None:
            raise Invalid(
                BDM_INVALID + "Images with destination_type 'volume' need to have a "
                "non-zero size specified",
                rule="bdm_size",
            )
        if (image.min_disk or 0) > size:
            raise Invalid(
                "Volume is smaller than the minimum size specified in image metadata. "
                f"Volume size is {size * GiB} bytes, minimum size is "
                f"{image.min_disk * GiB} bytes.",
                rule="min_disk",
            )
        item["image"] = image
        return [item]

    def _check_snapshot_source(
        self, server: Server, snapshot: Snapshot, image: Image | None = None
    ) -> None:
        if snapshot.status != "available":
            prefix = (
                f"Image {image.id} maps snapshot {snapshot.id}, which"
                if image is not None
                else f"Snapshot {snapshot.id}"
            )
            raise Invalid(
                f"Invalid snapshot: {prefix} is {snapshot.status}; a volume can only be "
                "created from an 'available' snapshot.",
                rule="snapshot_status",
                snapshot_id=snapshot.id,
            )
        zone = self.snapshot_zone(snapshot)
        if zone != server.availability_zone:
            raise Invalid(
                "Invalid input received: Volume must be in the same availability zone "
                f"as the snapshot (snapshot {snapshot.id} is in {zone}, the server in "
                f"{server.availability_zone}).",
                rule="snapshot_zone",
                snapshot_id=snapshot.id,
                source_zone=zone,
                requested_zone=server.availability_zone,
            )

    def _expand_image_mappings(
        self, context: Context, server: Server, image: Image, root: Plan
    ) -> list[Plan]:
        """The disks of a volume-backed snapshot image: one volume per mapped snapshot.

        A mapped snapshot that was deleted makes the image unbootable (400).
        """
        plan = []
        for mapping in image_mappings(image) or []:
            if not isinstance(mapping, dict) or mapping.get("source_type") != "snapshot":
                continue
            snapshot_id = mapping.get("snapshot_id")
            snapshot = self.snapshots.get(snapshot_id) if isinstance(snapshot_id, str) else None
            if (
                snapshot is None
                or snapshot.status in ("deleting", "deleted")
                or not self._visible(context, snapshot)
            ):
                raise Invalid(
                    f"Image {image.id} cannot be used to create a server: its block "
                    f"device mapping refers to snapshot {snapshot_id}, which could not "
                    "be found (it was deleted).",
                    rule="image_snapshot_missing",
                    image_id=image.id,
                    snapshot_id=snapshot_id,
                )
            self._check_snapshot_source(server, snapshot, image)
            boot_index = _int_or_none(mapping.get("boot_index"), "boot_index")
            is_root = boot_index == 0
            size = mapping.get("volume_size") or snapshot.size
            if is_root and root["size"]:
                size = max(size, root["size"])
            plan.append(
                {
                    "boot_index": 0
                    if is_root
                    else (boot_index if boot_index and boot_index > 0 else None),
                    "source": "snapshot",
                    "image": None,
                    "volume": None,
                    "snapshot": snapshot,
                    "size": max(int(size), snapshot.size),
                    "delete_on_termination": (
                        root["delete_on_termination"]
                        if is_root and root["delete_on_termination_given"]
                        else bool(mapping.get("delete_on_termination"))
                    ),
                    "device_name": None if is_root else mapping.get("device_name"),
                    "volume_type": mapping.get("volume_type"),
                    "disk_bus": mapping.get("disk_bus"),
                    "device_type": mapping.get("device_type"),
                }
            )
        if not any(p["boot_index"] == 0 for p in plan):
            raise Invalid(BOOT_SEQUENCE, rule="boot_sequence")
        return plan

    # --------------------------------------------------------- build and error

    def _build_failure(self, server: Server, at: float) -> str | None:
        """Make the server's volumes and return why the build fails, or ``None``.

        The compute room calls this when a build reaches ``spawning``: the
        server's volumes are attached (``in-use``) or the build fails.
        """
        flavor = self.flavors.get(server.flavor_id)
        reason = None
        if flavor is not None and _flag(flavor.extra_specs.get(FAIL_BUILD)) is not None:
            reason = _flag(flavor.extra_specs.get(FAIL_BUILD)) or NO_VALID_HOST
        base = self.images.get(server.system_metadata.get("base_image_ref") or "")
        if (
            reason is None
            and base is not None
            and _flag(base.properties.get(FAIL_BUILD)) is not None
        ):
            reason = _flag(base.properties.get(FAIL_BUILD)) or NO_VALID_HOST
        for bd, volume in self.server_volumes(server):
            if volume is None:
                continue
            if volume.status == "creating" and not self._finish_volume(volume, at):
                if reason is None:
                    reason = (
                        f"Build of instance {server.id} aborted: Volume {volume.id} did not "
                        "finish being created even after we waited 0 seconds or 1 "
                        "attempts. And its status is error."
                    )
                continue
            if volume.status in ("available", "reserved"):
                self._attach(server, volume, bd, at)
        return reason

    @operation
    def force_server_error(
        self,
        server_id: str,
        fault_message: str = "Forced into error by the control plane",
        *,
        code: int = 500,
    ) -> Server:
        """Put a server into ``error`` (vm_state) with a fault, as a failure would.

        For the control plane.  A running build stops (its volumes are kept), a
        running image snapshot is abandoned and its unfinished image deleted, as
        Nova does on failure.  Refused (``Conflict``) while the server is deleting.
        """
        server: Server | None = self.servers.get(server_id)
        if server is None:
            raise NotFound("server", server_id, f"Instance {server_id} could not be found.")
        if server.task_state == "deleting":
            raise Conflict(
                f"Cannot force instance {server_id} into error while it is in task_state deleting",
                attr="task_state",
                state="deleting",
                server_id=server_id,
            )
        now = self.now()
        self.abandon_snapshots(server, now)
        self.cancel_jobs("server", server.id)
        if server.vm_state == "building":
            self._build_failure(server, now)
        self.set_server_state(
            server, "error", at=now, fault={"code": code, "message": fault_message, "created": now}
        )
        self.server_changed(server.id, self.now())
        return server

    # ------------------------------------------------------------- delete

    def _release_server_volumes(self, server: Server) -> None:
        """Detach every volume; delete those with ``delete_on_termination``.

        A volume that still has snapshots is detached and left ``available``
        (Cinder refuses to delete it and Nova only logs that): snapshots made by
        ``createImage`` survive the server (constraint 3).
        """
        now = self.now()
        for bd, volume in self.server_volumes(server):
            if volume is None:
                continue
            if volume.status == "creating":
                self._finish_volume(volume, now)
            if volume.status == "reserved":
                transitions.check("volume", volume.status, "available")
                volume.status = "available"
            self._detach(server, volume, now)
            if not bd.get("delete_on_termination"):
                continue
            try:  # Nova asks Cinder, which refuses (constraint 3); Nova only logs that
                provenance.check_volume_deletable(volume, self.snapshots_of_volume(volume.id))
            except Invalid:
                continue
            self._start_delete("volume", volume)

    # ------------------------------------------------ createImage, volume-backed

    def _snapshot_volume_backed(
        self, context: Context, server: Server, name: str, metadata: dict[str, str]
    ) -> Image:
        """Nova's ``snapshot_volume_backed``: synchronous, no task_state.

        One forced Cinder snapshot per attached volume (``snapshot for <name>``),
        then an image of size 0, ``active`` at once, whose ``block_device_mapping``
        (a JSON string) and ``bdm_v2`` map those snapshots.
        """
        devices = [(bd, volume) for bd, volume in self.server_volumes(server) if volume is not None]
        for _, volume in devices:
            if volume.status not in ("available", "in-use"):
                raise Invalid(
                    f"Invalid volume: Volume {volume.id} status must be available or "
                    f"in-use, but current status is: {volume.status}.",
                    rule="snapshot_volume_status",
                    volume_id=volume.id,
                )
        properties = self._snapshot_properties(context, server)
        properties.update(metadata)
        for key in ("block_device_mapping", "bdm_v2", "root_device_name"):
            properties.pop(key, None)
        properties["root_device_name"] = server.root_device_name
        meta = server.system_metadata
        image: Image = self._new_snapshot_image(
            context,
            server,
            name,
            properties,
            min_disk=int(meta.get("min_disk", 0) or 0),
            min_ram=int(meta.get("min_ram", 0) or 0),
        )
        mappings, snapshot_ids = [], []
        for bd, volume in devices:
            snapshot = self.new_snapshot(
                volume,
                name=f"snapshot for {name}",
                description=volume.description,
                origin={
                    "kind": "nova_snapshot",
                    "server_id": server.id,
                    "image_id": image.id,
                    "project_id": server.project_id,
                },
            )
            snapshot_ids.append(snapshot.id)
            mappings.append(
                {
                    "guest_format": None,
                    "boot_index": bd.get("boot_index"),
                    "no_device": None,
                    "image_id": None,
                    "volume_id": None,
                    "device_name": bd.get("device_name"),
                    "disk_bus": bd.get("disk_bus"),
                    "volume_size": volume.size,
                    "source_type": "snapshot",
                    "device_type": bd.get("device_type") or "disk",
                    "snapshot_id": snapshot.id,
                    "destination_type": "volume",
                    "tag": None,
                    "delete_on_termination": bool(bd.get("delete_on_termination")),
                }
            )
        if mappings:
            image.properties["block_device_mapping"] = json.dumps(mappings)
            image.properties["bdm_v2"] = "True"
        image.origin["snapshot_ids"] = snapshot_ids
        give_generated_data(image, 0)  # Nova uploads no data: size 0
        image.disk_format = "raw"
        image.container_format = "bare"
        image.virtual_size = None
        self._set_image_status(image, "active")
        return image
