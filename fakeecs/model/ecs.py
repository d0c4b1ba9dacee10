"""ECS's own server API (``/v1[.1]/{project_id}/cloudservers``) over the same servers as Nova.

The ECS room of :class:`~fakeecs.model.Cloud`.  Every call that changes a
server is an asynchronous ECS job (:class:`~fakeecs.model.entities.EcsJob`,
``INIT`` -> ``RUNNING`` -> ``SUCCESS``/``FAIL``) with one sub-job per ECS:

=====================  ========================  ================================
job_type               sub-job job_type          what the sub-job follows
=====================  ========================  ================================
``createServer``       ``createSingleServer``    the server's build (``active``)
``deleteServer``       ``deleteSingleServer``    the server's deletion
``startServer``        ``startSingleServer``     ``os-start``
``stopServer``         ``stopSingleServer``      ``os-stop``
``rebootServer``       ``rebootSingleServer``    ``reboot``
``attachVolume``       (none)                    the attachment
``detachVolume``       (none)                    the detachment
=====================  ========================  ================================

A sub-job is not a timer of its own: it follows the server it acts on, so it
succeeds when the server's build, action or deletion ends on the virtual
clock, and fails with the cause when the server goes into ``error`` or an
action is refused for that server (the cause is its ``fail_reason`` and
``entities.errorcode_message``).  Attach and detach jobs finish on the
``ecs_volume`` process.

An ECS create goes through the compute room's ``create_server`` (so through
the same constraint functions as Nova: :func:`provenance.boot_zone` for the AZ
of every image, :func:`provenance.check_data_disk` for ``data_image_id``), as a
volume-backed server whose system disk is made from ``imageRef``.  Everything
is checked before the first server exists, so a refusal leaves no server,
volume or job behind.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import transitions
from .cloud import Room, operation
from .entities import AvailabilityZone, EcsJob, Flavor, Image, Job, Server
from .errors import Conflict, Invalid, NotFound
from .factories import new_job
from .network import NicPlan
from .policy import Context, authorize
from .store import Collection

JOB_CREATE, SUB_CREATE = "createServer", "createSingleServer"
JOB_DELETE, SUB_DELETE = "deleteServer", "deleteSingleServer"
ACTION_JOBS = {
    "start": ("startServer", "startSingleServer"),
    "stop": ("stopServer", "stopSingleServer"),
    "reboot_soft": ("rebootServer", "rebootSingleServer"),
    "reboot_hard": ("rebootServer", "rebootSingleServer"),
}
JOB_ATTACH, JOB_DETACH = "attachVolume", "detachVolume"

#: EVS disk types ECS accepts for root_volume/data_volumes (volumetype)
VOLUME_TYPES = ("SATA", "SAS", "SSD", "GPSSD", "ESSD", "GPSSD2", "ESSD2")
#: system disk sizes (GiB), data disk sizes (GiB), data disks per create
SYSTEM_DISK_GIB = (1, 1024)
DATA_DISK_GIB = (10, 32768)
MAX_DATA_VOLUMES = 23
MAX_COUNT = 100
#: tags: at most 10 per ECS; keys 1-36 and values 0-43 letters, digits, - and _
MAX_TAGS = 10
TAG_TEXT = re.compile(r"^[\w\-]*$", re.UNICODE)
#: what a failed sub-job reports, by what it followed
FAIL_CODES = {
    SUB_CREATE: "Ecs.0204",
    "start": "Ecs.0226",
    "reboot_soft": "Ecs.0227",
    "reboot_hard": "Ecs.0227",
    "stop": "Ecs.0100",
    SUB_DELETE: "Ecs.0501",
}
FINAL = ("SUCCESS", "FAIL")


@dataclass(frozen=True)
class DiskSpec:
    """A disk of an ECS to be created (``root_volume`` or one of ``data_volumes``)."""

    volume_type: str
    size: int | None = None
    data_image_id: str | None = None


@dataclass(frozen=True)
class EcsServerSpec:
    """What ``POST /v1[.1]/{project_id}/cloudservers`` asks for, already well-formed."""

    name: str
    flavor_id: str
    image_id: str
    vpc_id: str
    nics: tuple[NicPlan, ...]
    root_volume: DiskSpec
    data_volumes: tuple[DiskSpec, ...] = ()
    availability_zone: str | None = None
    count: int = 1
    auto_rename: bool = True
    metadata: dict[str, str] = field(default_factory=dict)
    tags: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    key_name: str | None = None


def tag_text(key: str, value: str) -> str:
    """How an ECS tag is kept among the server's (Nova) tags: ``key=value``."""
    return f"{key}={value}"


def tag_pair(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key, value


def check_tags(tags: Iterable[tuple[str, str | None]]) -> None:
    """Refuse malformed or duplicate ECS tags (``(key, value)`` pairs)."""
    keys: set[str] = set()
    for key, value in tags:
        if not key or len(key) > 36 or not TAG_TEXT.match(key):
            raise Invalid(
                f"Invalid tag key {key!r}: a key has 1 to 36 letters, digits, hyphens "
                "(-) and underscores (_).",
                rule="tag_format",
                key=key,
            )
        if len(value or "") > 43 or not TAG_TEXT.match(value or ""):
            raise Invalid(
                f"Invalid tag value {value!r} of key {key!r}: a value has at most 43 "
                "letters, digits, hyphens (-) and underscores (_).",
                rule="tag_format",
                key=key,
            )
        if key in keys:
            raise Invalid(f"The tag key {key!r} is duplicated.", rule="tag_duplicate", key=key)
        keys.add(key)


class EcsMixin(Room):
    """The ECS-native room: create/delete/act on ECSs as jobs, tags, update, listing."""

    def _init_stores(self) -> None:
        super()._init_stores()
        self.ecs_jobs = Collection()
        self.register_store("ecs_jobs", EcsJob)

    # -- jobs -------------------------------------------------------------------------

    def _new_ecs_job(
        self,
        context: Context,
        job_type: str,
        *,
        server_id: str | None = None,
        parent: EcsJob | None = None,
        data: dict[str, Any] | None = None,
    ) -> EcsJob:
        return new_job(
            self,
            self.ecs_jobs,
            EcsJob,
            context.project_id,
            job_type,
            entities={"server_id": server_id} if server_id else {},
            data=data,
            parent=parent,
        )

    @operation
    def get_ecs_job(self, context: Context, job_id: str) -> EcsJob:
        job: EcsJob | None = self.ecs_jobs.get(job_id)
        if job is None or (job.project_id != context.project_id and not context.is_admin):
            raise NotFound("ecs_job", job_id, f"The job {job_id} does not exist.")
        return job

    def ecs_sub_jobs(self, job: EcsJob) -> list[EcsJob]:
        return [self.ecs_jobs.get(i) for i in job.sub_job_ids if self.ecs_jobs.get(i)]

    def _move_ecs_job(
        self,
        job: EcsJob,
        status: str,
        at: float,
        error_code: str | None = None,
        fail_reason: str | None = None,
    ) -> None:
        """Set a job's status along the job table (``INIT`` passes ``RUNNING`` to succeed)."""
        if job.status == status:
            return
        if job.status == "INIT" and status == "SUCCESS":
            self._set_job_status(job, "RUNNING", at)
        self._set_job_status(job, status, at, error_code=error_code, fail_reason=fail_reason)
        if status == "FAIL" and fail_reason:
            job.entities["errorcode_message"] = fail_reason

    def _settle_parent(self, parent: EcsJob, at: float) -> None:
        units = self.ecs_sub_jobs(parent)
        if not units or parent.status in FINAL:
            return
        statuses = [unit.status for unit in units]
        if all(status in FINAL for status in statuses):
            failed = [unit for unit in units if unit.status == "FAIL"]
            if failed:
                self._move_ecs_job(parent, "FAIL", at, failed[0].error_code, failed[0].fail_reason)
            else:
                self._move_ecs_job(parent, "SUCCESS", at)
        elif any(status != "INIT" for status in statuses):
            self._move_ecs_job(parent, "RUNNING", at)

    def _follow(self, unit: EcsJob, at: float) -> None:
        """Bring a sub-job that follows a server up to date with that server."""
        if unit.status in FINAL:
            return
        server = self.servers.get(unit.data.get("server_id", ""))
        kind: str = unit.data.get("follows", "")
        status, reason = self._outcome(kind, server, unit)
        if status == "FAIL":
            self._move_ecs_job(unit, "FAIL", at, FAIL_CODES.get(kind, "Ecs.0000"), reason)
        elif status != "INIT":
            self._move_ecs_job(unit, status, at)
        parent = self.ecs_jobs.get(unit.parent_id or "")
        if parent is not None:
            self._settle_parent(parent, at)

    @staticmethod
    def _outcome(kind: str, server: Server | None, unit: EcsJob) -> tuple[str, str | None]:
        """``(status, fail_reason)`` of a sub-job that follows ``server`` (None: gone)."""
        if kind == SUB_DELETE:
            return ("SUCCESS", None) if server is None else ("RUNNING", None)
        if server is None:
            return "FAIL", (
                f"The ECS {unit.data.get('server_id')} was deleted before the job finished."
            )
        if kind == SUB_CREATE and server.vm_state == "building":
            return ("INIT" if server.task_state == "scheduling" else "RUNNING"), None
        if kind != SUB_CREATE and server.task_state == unit.data.get("task"):
            return "RUNNING", None
        if server.vm_state == "error":
            fault = (server.fault or {}).get("message") or "no fault recorded"
            return "FAIL", f"The ECS {server.id} went into error: {fault}"
        if kind == SUB_CREATE or server.vm_state == unit.data.get("target"):
            return "SUCCESS", None
        status = transitions.server_status(server.vm_state, server.task_state)
        return "FAIL", (
            f"The ECS {server.id} is {status}, not {unit.data.get('target')}, after the action."
        )

    def _ecs_track(self, server_id: str, at: float) -> None:
        """Every open sub-job that follows ``server_id`` looks at it again.

        One of ``Cloud.SERVER_WATCHERS``: the server's own processes tell the jobs."""
        for job in self.ecs_jobs:
            if (
                job.status not in FINAL
                and job.data.get("server_id") == server_id
                and job.data.get("follows")
            ):
                self._follow(job, at)

    def _step_ecs_volume(self, job: Job, step: str, at: float) -> None:
        ecs_job = self.ecs_jobs.get(job.target_id)
        if ecs_job is None or ecs_job.status in FINAL:
            return
        self._move_ecs_job(ecs_job, "SUCCESS" if step == "done" else "RUNNING", at)

    # -- create -------------------------------------------------------------------------

    @operation
    def ecs_create_servers(self, context: Context, spec: EcsServerSpec) -> EcsJob:
        """Create ``spec.count`` volume-backed ECSs; returns the ``createServer`` job.

        The server ids are the ``server_id`` of its sub-jobs, in order.
        """
        authorize(context, "ecs:cloudServers:create", write=True)
        if not 1 <= spec.count <= MAX_COUNT:
            raise Invalid(
                f"The number of ECSs to be created ({spec.count}) must be from 1 to {MAX_COUNT}.",
                rule="count",
            )
        if len(spec.data_volumes) > MAX_DATA_VOLUMES:
            raise Invalid(
                f"The number of data disks ({len(spec.data_volumes)}) exceeds the "
                f"maximum of {MAX_DATA_VOLUMES}.",
                rule="data_volume_count",
            )
        for disk in (spec.root_volume,) + tuple(spec.data_volumes):
            if disk.volume_type not in VOLUME_TYPES:
                raise Invalid(
                    f"The disk type {disk.volume_type!r} does not exist; use one of "
                    f"{', '.join(VOLUME_TYPES)}.",
                    rule="volume_type",
                )
        check_tags(spec.tags)
        if len(spec.tags) > MAX_TAGS:
            raise Invalid(
                f"The number of tags ({len(spec.tags)}) exceeds the maximum of {MAX_TAGS}.",
                rule="tag_count",
            )
        if spec.flavor_id not in self.flavors:
            raise Invalid(f"The flavor {spec.flavor_id} does not exist.", rule="flavor")
        image = self._image_for_boot(context, spec.image_id)
        devices = [self._root_device(spec.root_volume, image)]
        for disk in spec.data_volumes:
            devices.append(self._data_device(context, disk))
        nics = self.plan_nics(context, spec.vpc_id, list(spec.nics), spec.count)
        created: list[Server] = []
        for index in range(spec.count):
            name = spec.name
            if spec.count > 1 and spec.auto_rename:
                name = f"{spec.name}-{index + 1:04d}"
            # the first create checks everything the others would (same request)
            created.append(
                self.create_server(
                    context,
                    name=name,
                    flavor_id=spec.flavor_id,
                    availability_zone=spec.availability_zone,
                    metadata=spec.metadata,
                    networks=list(nics),
                    description=spec.description,
                    key_name=spec.key_name,
                    block_devices=[dict(device) for device in devices],
                    tags=[tag_text(key, value) for key, value in spec.tags],
                )
            )
        parent = self._new_ecs_job(context, JOB_CREATE)
        for server in created:
            unit = self._new_ecs_job(
                context,
                SUB_CREATE,
                server_id=server.id,
                parent=parent,
                data={"server_id": server.id, "follows": SUB_CREATE},
            )
            self._follow(unit, self.now())
        parent.data["server_ids"] = [server.id for server in created]
        return parent

    @staticmethod
    def _root_device(disk: DiskSpec, image: Image) -> dict[str, Any]:
        size = disk.size if disk.size is not None else max(image.min_disk or 0, 40)
        if not SYSTEM_DISK_GIB[0] <= size <= SYSTEM_DISK_GIB[1]:
            raise Invalid(
                f"The system disk size {size} GiB must be from {SYSTEM_DISK_GIB[0]} "
                f"to {SYSTEM_DISK_GIB[1]} GiB.",
                rule="disk_size",
            )
        return {
            "source_type": "image",
            "destination_type": "volume",
            "uuid": image.id,
            "boot_index": 0,
            "volume_size": size,
            "volume_type": disk.volume_type,
            "delete_on_termination": True,
        }

    def _data_device(self, context: Context, disk: DiskSpec) -> dict[str, Any]:
        if disk.size is None or not DATA_DISK_GIB[0] <= disk.size <= DATA_DISK_GIB[1]:
            raise Invalid(
                f"The data disk size {disk.size} GiB must be from {DATA_DISK_GIB[0]} "
                f"to {DATA_DISK_GIB[1]} GiB.",
                rule="disk_size",
            )
        device: dict[str, Any] = {
            "destination_type": "volume",
            "boot_index": None,
            "volume_size": disk.size,
            "volume_type": disk.volume_type,
            "delete_on_termination": False,
        }
        if disk.data_image_id:
            self._image_for_volume(context, disk.data_image_id)
            device.update(source_type="image", uuid=disk.data_image_id)
        else:
            device["source_type"] = "blank"
        return device

    # -- batch actions and delete ----------------------------------------------------------

    def _servers_of(self, context: Context, server_ids: Iterable[str]) -> list[Server]:
        """Every server of ``server_ids``, each once (``NotFound`` for the first unknown one)."""
        return [self._server(context, server_id) for server_id in dict.fromkeys(server_ids)]

    @operation
    def ecs_batch_action(self, context: Context, server_ids: Iterable[str], action: str) -> EcsJob:
        """``os-start``/``os-stop``/``reboot`` of several ECSs: one sub-job each.

        ``action`` is a compute action (``start``, ``stop``, ``reboot_soft``,
        ``reboot_hard``).  An unknown ECS refuses the whole request; an ECS the
        action cannot apply to (its state, a lock) gets a failed sub-job.
        """
        api_name = "reboot" if action.startswith("reboot") else action
        authorize(context, f"os_compute_api:servers:{api_name}", write=True)
        servers = self._servers_of(context, server_ids)
        job_type, sub_type = ACTION_JOBS[action]
        parent = self._new_ecs_job(context, job_type)
        _, task, target = transitions.SERVER_ACTIONS[action]
        for server in servers:
            unit = self._new_ecs_job(
                context,
                sub_type,
                server_id=server.id,
                parent=parent,
                data={"server_id": server.id, "follows": action, "task": task, "target": target},
            )
            try:
                self.server_action(context, server.id, action)
            except (Conflict, Invalid) as error:
                code = "Ecs.0605" if error.facts.get("rule") == "locked" else "Ecs.0100"
                self._move_ecs_job(unit, "FAIL", self.now(), code, error.message)
                continue
            self._follow(unit, self.now())
        self._settle_parent(parent, self.now())
        return parent

    @operation
    def ecs_delete_servers(
        self, context: Context, server_ids: Iterable[str], *, delete_volume: bool = False
    ) -> EcsJob:
        """Delete ECSs; their system disks go with them, data disks only with ``delete_volume``.

        Volumes that have snapshots are kept (Cinder refuses to delete them), and
        no image is ever deleted: images and snapshots survive their ECS.
        """
        authorize(context, "os_compute_api:servers:delete", write=True)
        servers = self._servers_of(context, server_ids)
        parent = self._new_ecs_job(context, JOB_DELETE)
        for server in servers:
            unit = self._new_ecs_job(
                context,
                SUB_DELETE,
                server_id=server.id,
                parent=parent,
                data={"server_id": server.id, "follows": SUB_DELETE},
            )
            try:
                self.delete_server(context, server.id)
            except (Conflict, Invalid) as error:
                code = "Ecs.0605" if error.facts.get("rule") == "locked" else "Ecs.0501"
                self._move_ecs_job(unit, "FAIL", self.now(), code, error.message)
                continue
            for device in server.block_devices:
                device["delete_on_termination"] = device.get("boot_index") == 0 or bool(
                    delete_volume
                )
            self._follow(unit, self.now())
        self._settle_parent(parent, self.now())
        return parent

    # -- disks ----------------------------------------------------------------------------

    @operation
    def ecs_attach_volume(
        self, context: Context, server_id: str, volume_id: str, *, device: str | None = None
    ) -> EcsJob:
        """Attach a data disk (the storage room's ``attach_volume``) as an ``attachVolume`` job."""
        self.attach_volume(context, server_id, volume_id, device=device)
        return self._volume_job(context, JOB_ATTACH, server_id, volume_id)

    @operation
    def ecs_detach_volume(self, context: Context, server_id: str, volume_id: str) -> EcsJob:
        """Detach a data disk (the storage room's ``detach_volume``) as a ``detachVolume`` job."""
        self.detach_volume(context, server_id, volume_id)
        return self._volume_job(context, JOB_DETACH, server_id, volume_id)

    def _volume_job(
        self, context: Context, job_type: str, server_id: str, volume_id: str
    ) -> EcsJob:
        job = self._new_ecs_job(
            context, job_type, server_id=server_id, data={"volume_id": volume_id}
        )
        self.start_job("ecs_volume", "ecs_job", job.id, ["running", "done"])
        return job

    # -- tags, update -------------------------------------------------------------------------

    @operation
    def ecs_server_tags(self, context: Context, server_id: str) -> list[tuple[str, str]]:
        """The ECS tags of a server as ``(key, value)`` pairs."""
        return [tag_pair(text) for text in self._server(context, server_id).tags]

    @operation
    def ecs_change_tags(
        self, context: Context, server_id: str, action: str, tags: Iterable[tuple[str, str | None]]
    ) -> None:
        """``create`` (add or replace by key) or ``delete`` (by key) ECS tags."""
        authorize(context, "ecs:cloudServers:tags", write=True)
        server = self._server(context, server_id)
        pairs = [(key, value or "") for key, value in tags]
        check_tags(pairs)
        current = dict(tag_pair(text) for text in server.tags)
        if action == "create":
            current.update(dict(pairs))
            if len(current) > MAX_TAGS:
                raise Invalid(
                    f"The number of tags of the ECS would be {len(current)}, more than "
                    f"the maximum of {MAX_TAGS}.",
                    rule="tag_count",
                )
        else:
            for key, _ in pairs:
                current.pop(key, None)
        self.replace_server_tags(
            context, server_id, [tag_text(key, value) for key, value in current.items()]
        )

    @operation
    def ecs_update_server(
        self,
        context: Context,
        server_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        hostname: str | None = None,
    ) -> Server:
        """``PUT /v1/{project_id}/cloudservers/{id}``: Nova's server update, and the hostname."""
        changes = {
            key: value
            for key, value in (("name", name), ("description", description))
            if value is not None
        }
        server: Server = self.update_server(context, server_id, **changes)
        if hostname is not None:
            server.hostname = hostname
            server.updated_at = self.now()
        return server

    # -- queries --------------------------------------------------------------------------------

    @operation
    def ecs_list_servers(
        self, context: Context, *, keep: Callable[[Server], bool] | None = None
    ) -> list[Server]:
        """Every visible server (newest first) that ``keep(server)`` accepts."""
        authorize(context, "os_compute_api:servers:detail", write=False)

        def visible(server: Server) -> bool:
            return server.project_id == context.project_id and (keep is None or keep(server))

        found, _ = self.servers.page(keep=visible)
        return found

    @operation
    def ecs_list_flavors(self, availability_zone: str | None = None) -> list[Flavor]:
        """Flavors sold in ``availability_zone`` (every flavor in every available AZ, unless
        a flavor's ``cond:operation:az`` extra spec names the AZs it is sold in)."""
        flavors = self.list_flavors()
        if availability_zone is None:
            return flavors
        zone = self.availability_zones.get(availability_zone)
        if zone is None or not zone.available:
            return []
        return [
            flavor
            for flavor in flavors
            if availability_zone in flavor_zones(flavor, self.availability_zones)
        ]


def flavor_zones(flavor: Flavor, zones: Mapping[str, AvailabilityZone]) -> list[str]:
    """The AZs a flavor is sold in: its ``cond:operation:az`` (``az(normal),...``) or all."""
    spec = flavor.extra_specs.get("cond:operation:az")
    if not spec:
        return [name for name, zone in zones.items() if zone.available]
    out: list[str] = []
    for part in str(spec).split(","):
        name, _, status = part.strip().partition("(")
        if status.rstrip(")") in ("", "normal", "promotion"):
            out.append(name.strip())
    return out


__all__ = [
    "DiskSpec",
    "EcsMixin",
    "EcsServerSpec",
    "NicPlan",
    "check_tags",
    "flavor_zones",
    "tag_pair",
]
