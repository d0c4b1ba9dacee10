"""IMS: images made from servers, their export to OBS, and IMS asynchronous jobs.

Huawei's Image Management Service makes images from ECSs in three ways, each an
asynchronous job (``INIT`` -> ``RUNNING`` -> ``SUCCESS``/``FAIL``) that runs on
the virtual clock:

* a system-disk image from ``instance_id`` (``imsCreateImageByInstance``);
* data-disk images from ``data_images`` (volumes attached to a server as data
  disks; ``imsVolumesToSysDataImagesJob`` with one ``imsCopyVolumeToImageJob``
  sub-job per volume);
* a full-ECS image from ``instance_id`` (``imsCreateWholeImageByInstanceJob``).

The images are ordinary :class:`~fakeecs.model.entities.Image` records (so
Glance, Nova and IMS all see them), with Huawei's ``__*`` fields as properties
and an ``origin`` of kind ``ims_system``, ``ims_data`` or ``ims_whole``.  The
rules that depend on the origin (export, data disks) live in
:mod:`fakeecs.model.provenance`; this module applies them.

Exporting an image (``imsNativeExportImageJob``) records an
:class:`~fakeecs.model.entities.ExportedObject` when the job succeeds.
"""

import re
from collections.abc import Iterable
from typing import Any

from . import provenance, transitions
from .cloud import Room, operation
from .entities import ExportedObject, Image, ImsJob, Job, Server, Volume
from .errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from .factories import new_image, new_job
from .images import IMAGE_CORE_WRITABLE, give_generated_data
from .pager import image_where, sorted_page
from .policy import Context, authorize
from .store import Collection
from .timefilter import time_matches

GiB = 1024**3

JOB_SYSTEM = "imsCreateImageByInstance"
JOB_DATA = "imsVolumesToSysDataImagesJob"
JOB_DATA_SUB = "imsCopyVolumeToImageJob"
JOB_WHOLE = "imsCreateWholeImageByInstanceJob"
JOB_EXPORT = "imsNativeExportImageJob"

#: formats IMS can export to (ExportImageRequestBody.file_format)
EXPORT_FORMATS = ("qcow2", "vhd", "zvhd", "vmdk")
#: the steps of every IMS job and the progress each one reports
JOB_STEPS = ["running", "uploading", "done"]
STEP_PERCENT = {"running": 10.0, "uploading": 60.0, "done": 100.0}
#: an OBS bucket name (3-63 lower-case letters, digits, hyphens and periods)
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
#: image kinds whose data are being made by an IMS job while not yet active
IMS_KINDS = provenance.IMS_KINDS


def huawei_fields(image: Image) -> dict[str, Any]:
    """Huawei's image fields (``__imagetype``, ``virtual_env_type``, ...) of ``image``.

    IMS-made images store them as properties; any other image (a base image,
    an upload, a native ``createImage`` snapshot) gets the value IMS would show.
    """
    props: dict[str, Any] = image.properties
    kind = provenance.kind(image)
    if image.visibility == "public":
        imagetype = props.get("__imagetype", "gold") if kind == "base" else "gold"
    elif image.visibility == "shared":
        imagetype = "shared"
    else:
        imagetype = "private"
    fields: dict[str, Any] = {
        "__imagetype": imagetype,
        "__isregistered": props.get("__isregistered", "true"),
        "__image_source_type": props.get("__image_source_type", "uds"),
        "__os_bit": props.get("__os_bit", "64"),
        "virtual_env_type": props.get("virtual_env_type", "FusionCompute"),
        "enterprise_project_id": props.get("enterprise_project_id", "0"),
    }
    os_type = props.get("__os_type") or {"linux": "Linux", "windows": "Windows"}.get(
        str(props.get("os_type", "")).lower()
    )
    if os_type and fields["virtual_env_type"] != "DataImage":
        fields["__os_type"] = os_type
    for key in (
        "__platform",
        "__os_version",
        "__description",
        "__originalimagename",
        "__whole_image",
        "__backup_id",
        "__lazyloading",
        "hw_firmware_type",
        "max_ram",
        "__support_kvm",
        "__root_origin",
    ):
        if key in props:
            fields[key] = props[key]
    origin = image.origin
    if "__data_origin" in props and kind in IMS_KINDS:
        fields["__data_origin"] = props["__data_origin"]
    elif origin.get("server_id"):
        fields["__data_origin"] = f"instance,{origin['server_id']}"
    if kind == "nova_snapshot" and "base_image_ref" in props:
        fields.setdefault("__originalimagename", props["base_image_ref"])
    if image.size is not None:
        fields["__image_size"] = str(image.size)
    return fields


class ImsMixin(Room):
    """The IMS room of :class:`~fakeecs.model.Cloud`."""

    def _init_stores(self) -> None:
        super()._init_stores()
        self.ims_jobs = Collection()
        self.image_exports = Collection()
        self.register_store("ims_jobs", ImsJob)
        self.register_store("image_exports", ExportedObject)

    # -- AK/SK callers -------------------------------------------------------------

    def _access_key(self, ak: str) -> dict[str, Any] | None:
        keys = getattr(self, "access_keys", None) or {}
        key = keys.get(ak)
        if key is None:
            return None
        if isinstance(key, dict):
            return key
        found: dict[str, Any] = key.to_dict() if hasattr(key, "to_dict") else dict(vars(key))
        return found

    def access_key_secret(self, ak: str) -> str | None:
        """The secret key of access key ``ak``, or ``None`` if it is unknown or inactive."""
        key = self._access_key(ak)
        if key is None or key.get("status", "active") != "active":
            return None
        secret: str | None = key.get("sk")
        return secret

    @operation
    def context_for_access_key(self, ak: str, project_id: str | None = None) -> Context:
        """The caller a verified AK/SK signature stands for, in ``project_id``.

        The key's project is used when the request names none; naming another
        project is refused (the key is scoped to its project).
        """
        key = self._access_key(ak)
        if key is None:
            raise Unauthorized(f"Incorrect IAM authentication information: ak {ak} not exist")
        key_project = key.get("project_id") or key.get("project")
        project = self.find_project(project_id=key_project) or self.find_project(name=key_project)
        if project is None:
            raise Unauthorized(f"Access key {ak} belongs to no project of this cloud.")
        if project_id and project_id != project.id:
            raise Forbidden(
                f"Access key {ak} is not authorized for project {project_id}; it "
                f"belongs to project {project.id} ({project.name}).",
                rule="access_key_project",
            )
        user = self.users.get(key.get("user_id") or "")
        if user is None:
            holders = [u for u in self.users.values() if u.roles.get(project.id)]
            user = holders[0] if holders else None
        if user is None:
            return Context(
                user_id="ak-" + ak,
                project_id=project.id,
                roles=("member", "reader"),
                user_name=ak,
                project_name=project.name,
            )
        return Context(
            user_id=user.id,
            project_id=project.id,
            roles=tuple(user.roles.get(project.id, ("member", "reader"))),
            user_name=user.name,
            project_name=project.name,
        )

    # -- lookups -----------------------------------------------------------------

    def _ims_server(self, context: Context, server_id: str) -> Server:
        server: Server | None = self.servers.get(server_id)
        if server is None or (server.project_id != context.project_id and not context.is_admin):
            raise NotFound("server", server_id, f"The ECS {server_id} does not exist.")
        return server

    def _ims_image(self, context: Context, image_id: str) -> Image:
        image: Image | None = self.images.get(image_id)
        if image is None or not self._image_visible(context, image):
            raise NotFound("image", image_id, f"The image {image_id} does not exist.")
        return image

    def _ims_job(self, context: Context, job_id: str) -> ImsJob:
        job: ImsJob | None = self.ims_jobs.get(job_id)
        if job is None or (job.project_id != context.project_id and not context.is_admin):
            raise NotFound("ims_job", job_id, f"The job {job_id} does not exist.")
        return job

    @operation
    def get_ims_job(self, context: Context, job_id: str) -> ImsJob:
        found = self.ims_jobs.get(job_id)
        # a sub-job (data-disk image) moves with its parent's process
        self.touch("ims_job", [job_id] + ([found.parent_id] if found and found.parent_id else []))
        return self._ims_job(context, job_id)

    def ims_sub_jobs(self, job: ImsJob) -> list[ImsJob]:
        return [self.ims_jobs.get(i) for i in job.sub_job_ids if self.ims_jobs.get(i)]

    # -- the disks of a server ------------------------------------------------------

    def _boot_volume(self, server: Server) -> Volume | None:
        for device in server.block_devices:
            if device.get("boot_index") == 0:
                volume: Volume | None = self.volumes.get(device.get("volume_id"))
                return volume
        return None

    def _data_volumes(self, server: Server) -> list[Volume]:
        out = []
        for device in server.block_devices:
            if device.get("boot_index") == 0:
                continue
            volume = self.volumes.get(device.get("volume_id"))
            if volume is not None:
                out.append(volume)
        return out

    def _system_disk_gib(self, server: Server) -> int:
        volume = self._boot_volume(server)
        if volume is not None:
            size: int = volume.size
            return size
        flavor = self.flavors.get(server.flavor_id)
        return max(server.system_metadata.get("min_disk") or 0, flavor.disk if flavor else 0) or 40

    def _base_properties(self, server: Server) -> dict[str, str]:
        props = dict(server.system_metadata.get("properties", {}))
        volume = self._boot_volume(server)
        if volume is not None:
            for key, value in (volume.image_metadata or {}).items():
                props.setdefault(key, value)
        return {k: str(v) for k, v in props.items() if k not in provenance.NON_INHERITABLE}

    # -- creating images ----------------------------------------------------------

    def _new_ims_job(
        self,
        context: Context,
        job_type: str,
        *,
        entities: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        parent: ImsJob | None = None,
    ) -> ImsJob:
        return new_job(
            self,
            self.ims_jobs,
            ImsJob,
            context.project_id,
            job_type,
            entities=entities,
            data=data,
            parent=parent,
        )

    def _new_ims_image(
        self,
        context: Context,
        *,
        name: str,
        origin: dict[str, Any],
        properties: dict[str, Any],
        min_disk: int,
        min_ram: int = 0,
        tags: Iterable[str] = (),
        description: str | None = None,
        max_ram: int | None = None,
        enterprise_project_id: str | None = None,
    ) -> Image:
        now = self.now()
        props = dict(properties)
        if description:
            props["__description"] = description
        if max_ram:
            props["max_ram"] = str(max_ram)
        props["enterprise_project_id"] = enterprise_project_id or "0"
        image: Image = new_image(
            self,
            name=name,
            owner=context.project_id,
            origin=origin,
            created_at=now,
            disk_format="zvhd2",
            container_format="bare",
            min_disk=int(min_disk),
            min_ram=int(min_ram or 0),
            tags=list(tags),
            properties=props,
        )
        return image

    def _system_properties(self, server: Server, whole: bool = False) -> dict[str, str]:
        props = self._base_properties(server)
        base_id = server.system_metadata.get("base_image_ref") or server.image_id
        props.update(
            {
                "__imagetype": "private",
                "__isregistered": "true",
                "__image_source_type": "uds",
                "__os_bit": props.get("__os_bit", "64"),
                "__os_type": props.get("__os_type", "Linux"),
                "__data_origin": f"instance,{server.id}",
                "__lazyloading": "true",
                "__support_kvm": "true",
                "virtual_env_type": "FusionCompute",
                "hw_firmware_type": props.get("hw_firmware_type", "bios"),
                "image_type": "private",
            }
        )
        if base_id:
            props["__originalimagename"] = base_id
        if whole:
            props["__whole_image"] = "true"
            props["__root_origin"] = "instance"
        return props

    @operation
    def ims_create_image(
        self,
        context: Context,
        *,
        name: str | None = None,
        instance_id: str | None = None,
        data_images: list[dict[str, Any]] | None = None,
        description: str | None = None,
        tags: Iterable[str] = (),
        min_ram: int | None = None,
        max_ram: int | None = None,
        enterprise_project_id: str | None = None,
    ) -> ImsJob:
        """IMS ``POST /v2/cloudimages/action``: an image of ``instance_id``'s system disk,
        or data-disk images of the volumes in ``data_images``; returns the job."""
        authorize(context, "ims:images:create", write=True)
        if instance_id and data_images:
            raise Invalid(
                "instance_id and data_images cannot both be given: a data disk image "
                "is made from the data disks in data_images alone (give instance_id "
                "only for a system disk image).",
                rule="ims_both_sources",
            )
        if data_images:
            return self._ims_data_images(context, data_images, enterprise_project_id)
        if not instance_id:
            raise Invalid(
                "The ECS ID is not specified: give instance_id for a system disk "
                "image or data_images for data disk images.",
                rule="ims_no_source",
            )
        if not name:
            raise Invalid("The image name is not specified.", rule="ims_no_name")
        server = self._ims_server(context, instance_id)
        provenance.check_imageable(context, server, "ims_system")
        props = self._system_properties(server)
        image = self._new_ims_image(
            context,
            name=name,
            properties=props,
            min_disk=self._system_disk_gib(server),
            min_ram=min_ram or server.system_metadata.get("min_ram", 0),
            tags=tags,
            description=description,
            max_ram=max_ram,
            enterprise_project_id=enterprise_project_id,
            origin=provenance.from_server("ims_system", server, volume_backed=server.volume_backed),
        )
        job = self._new_ims_job(
            context,
            JOB_SYSTEM,
            entities={"image_id": image.id, "image_name": image.name},
            data={"server_id": server.id, "image_ids": [image.id]},
        )
        image.origin["job_id"] = job.id
        self.start_job("ims_image", "ims_job", job.id, JOB_STEPS)
        return job

    def _ims_data_images(
        self, context: Context, data_images: list[dict[str, Any]], enterprise_project_id: str | None
    ) -> ImsJob:
        servers: dict[str, Server] = {}
        volumes: list[tuple[dict[str, Any], Volume, Server]] = []
        for spec in data_images:
            volume_id = spec.get("volume_id")
            volume = self.volumes.get(volume_id or "")
            if volume is None or (volume.project_id != context.project_id and not context.is_admin):
                raise Invalid(
                    f"The specified data disk {volume_id} is unavailable: it does not exist.",
                    rule="ims_data_volume",
                    volume_id=volume_id,
                )
            owners = [a.get("server_id") for a in volume.attachments if a.get("server_id")]
            server = self.servers.get(owners[0]) if owners else None
            if server is None:
                raise Invalid(
                    f"The specified data disk {volume_id} is unavailable: it is not "
                    "attached to an ECS.",
                    rule="ims_data_volume",
                    volume_id=volume_id,
                )
            if volume.id not in [v.id for v in self._data_volumes(server)]:
                raise Invalid(
                    f"The specified data disk {volume_id} is unavailable: it is the "
                    f"system disk of ECS {server.id}.",
                    rule="ims_data_volume",
                    volume_id=volume_id,
                )
            servers[server.id] = server
            volumes.append((spec, volume, server))
        if len(servers) > 1:
            raise Invalid(
                f"The disks in the request come from different ECSs: {', '.join(sorted(servers))}.",
                rule="ims_data_servers",
            )
        server = next(iter(servers.values()))
        provenance.check_imageable(context, server, "ims_data")
        parent = self._new_ims_job(
            context, JOB_DATA, data={"server_id": server.id, "image_ids": []}
        )
        for spec, volume, _ in volumes:
            props = {
                "__imagetype": "private",
                "__isregistered": "true",
                "__image_source_type": "uds",
                "__data_origin": f"volume,{volume.id}",
                "virtual_env_type": "DataImage",
                "__lazyloading": "true",
                "image_type": "private",
            }
            image = self._new_ims_image(
                context,
                name=spec["name"],
                properties=props,
                min_disk=volume.size,
                tags=spec.get("tags") or (),
                description=spec.get("description"),
                enterprise_project_id=enterprise_project_id,
                origin=provenance.from_server(
                    "ims_data", server, volume_id=volume.id, job_id=parent.id
                ),
            )
            self._new_ims_job(
                context,
                JOB_DATA_SUB,
                parent=parent,
                entities={"image_id": image.id, "image_name": image.name},
                data={"server_id": server.id, "volume_id": volume.id, "image_ids": [image.id]},
            )
            parent.data["image_ids"].append(image.id)
        self.start_job("ims_image", "ims_job", parent.id, JOB_STEPS)
        return parent

    @operation
    def ims_create_whole_image(
        self,
        context: Context,
        *,
        name: str,
        instance_id: str | None = None,
        backup_id: str | None = None,
        description: str | None = None,
        tags: Iterable[str] = (),
        min_ram: int | None = None,
        max_ram: int | None = None,
        vault_id: str | None = None,
        enterprise_project_id: str | None = None,
    ) -> ImsJob:
        """IMS ``POST /v1/cloudimages/wholeimages/action`` from an ECS; returns the job."""
        authorize(context, "ims:images:create", write=True)
        if backup_id and not instance_id:
            raise Invalid(
                "fakeecs makes full-ECS images from an ECS only (instance_id); "
                "CSBS/CBR backups are not simulated.",
                rule="ims_backup_source",
            )
        if instance_id and backup_id:
            raise Invalid(
                "instance_id and backup_id cannot both be given.", rule="ims_both_sources"
            )
        if not instance_id:
            raise Invalid("The ECS ID is not specified.", rule="ims_no_source")
        server = self._ims_server(context, instance_id)
        provenance.check_imageable(context, server, "ims_whole")
        props = self._system_properties(server, whole=True)
        props["__backup_id"] = self.ids.uuid()
        data_volumes = [v.id for v in self._data_volumes(server)]
        image = self._new_ims_image(
            context,
            name=name,
            properties=props,
            min_disk=self._system_disk_gib(server),
            min_ram=min_ram or server.system_metadata.get("min_ram", 0),
            tags=tags,
            description=description,
            max_ram=max_ram,
            enterprise_project_id=enterprise_project_id,
            origin=provenance.from_server(
                "ims_whole",
                server,
                data_volume_ids=data_volumes,
                vault_id=vault_id,
                backup_id=props["__backup_id"],
            ),
        )
        job = self._new_ims_job(
            context,
            JOB_WHOLE,
            entities={"image_id": image.id, "image_name": image.name},
            data={"server_id": server.id, "image_ids": [image.id]},
        )
        image.origin["job_id"] = job.id
        self.start_job("ims_image", "ims_job", job.id, JOB_STEPS)
        return job

    # -- export ------------------------------------------------------------------

    @operation
    def ims_export_image(
        self,
        context: Context,
        image_id: str,
        *,
        bucket_url: str | None,
        file_format: str | None = None,
        quick: bool = False,
    ) -> ImsJob:
        """IMS ``POST /v1/cloudimages/{image_id}/file``: export to ``bucket:file``."""
        authorize(context, "ims:images:export", write=True)
        image = self._ims_image(context, image_id)
        if image.owner != context.project_id:
            if image.visibility == "public":
                raise Invalid(
                    f"The public image {image_id} cannot be exported.",
                    rule="export_public",
                    image_id=image_id,
                )
            raise Forbidden(
                "This operation can be performed only by the image owner.",
                rule="owner",
                image_id=image_id,
            )
        provenance.check_exportable(image)
        if image.status != "active":
            raise Invalid(
                f"The image {image_id} is unavailable (status {image.status}).",
                rule="image_status",
                image_id=image_id,
                status=image.status,
            )
        bucket, sep, file_name = (bucket_url or "").partition(":")
        if not bucket:
            raise Invalid("The specified bucket name is empty.", rule="bucket_empty")
        if not sep or not file_name or not BUCKET.match(bucket):
            raise Invalid(
                f"The specified bucket cannot be accessed: bucket_url {bucket_url!r} "
                "must be <bucket name>:<file name>.",
                rule="bucket",
            )
        if quick and file_format:
            raise Invalid("file_format cannot be given with is_quick_export.", rule="export_format")
        if not quick and file_format not in EXPORT_FORMATS:
            raise Invalid(
                f"The specified image format {file_format!r} is not supported; use "
                f"one of {', '.join(EXPORT_FORMATS)}.",
                rule="export_format",
            )
        for job in self.ims_jobs:
            if (
                job.job_type == JOB_EXPORT
                and job.data.get("image_id") == image_id
                and job.status in ("INIT", "RUNNING")
            ):
                raise Conflict(
                    f"The image {image_id} is being exported.",
                    rule="export_running",
                    image_id=image_id,
                )
        for item in self.image_exports:
            if item.bucket == bucket and item.file_name == file_name:
                raise Conflict(
                    f"The image file {bucket}:{file_name} already exists.",
                    rule="export_exists",
                    bucket=bucket,
                    file_name=file_name,
                )
        job = self._new_ims_job(
            context,
            JOB_EXPORT,
            entities={"image_id": image.id},
            data={
                "image_id": image.id,
                "bucket": bucket,
                "file_name": file_name,
                "quick": bool(quick),
                "file_format": file_format or image.disk_format,
            },
        )
        self.start_job("ims_export", "ims_job", job.id, JOB_STEPS)
        return job

    @operation
    def list_image_exports(
        self,
        context: Context | None = None,
        *,
        image_id: str | None = None,
        bucket: str | None = None,
    ) -> list[ExportedObject]:
        """Every object IMS has written to OBS (oldest first), optionally filtered."""
        found, _ = self.image_exports.page(newest_first=False)
        return [
            item
            for item in found
            if (context is None or context.is_admin or item.project_id == context.project_id)
            and (image_id is None or item.image_id == image_id)
            and (bucket is None or item.bucket == bucket)
        ]

    # -- listing, updating and deleting through IMS --------------------------------

    @operation
    def ims_list_images(
        self,
        context: Context,
        *,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort: list[tuple[str, str]] | None = None,
    ) -> tuple[list[Image], bool]:
        """``GET /v2/cloudimages``: visible images matching ``filters``; ``(images, more)``.

        ``filters`` maps a field (core attribute, property or Huawei field) to a
        string; ``created_at``/``updated_at`` take ``(op, epoch)``; ``tag`` a list.
        """
        self.touch("image", lambda: [i.id for i in self.images if i.owner == context.project_id])
        filters = dict(filters or {})
        tags = filters.pop("tag", None) or []
        times: dict[str, tuple[str, float]] = {
            k: filters.pop(k) for k in ("created_at", "updated_at") if k in filters
        }
        member_status = filters.pop("member_status", None)

        def value(image: Image, key: str) -> str | None:
            if key in (
                "id",
                "name",
                "status",
                "visibility",
                "owner",
                "disk_format",
                "container_format",
                "min_disk",
                "min_ram",
                "protected",
            ):
                found = getattr(image, key)
                return str(found).lower() if isinstance(found, bool) else str(found)
            fields = huawei_fields(image)
            if key in fields:
                return str(fields[key])
            prop: str | None = image.properties.get(key)
            return prop

        def keep(image: Image) -> bool:
            if not self._image_visible(context, image):
                return False
            if member_status and image.visibility != "shared":
                return False
            if any(tag not in image.tags for tag in tags):
                return False
            for key, (op, moment) in times.items():
                if not time_matches(getattr(image, key), op, moment):
                    return False
            return all(value(image, key) == str(expected) for key, expected in filters.items())

        if marker is not None and self.images.get(marker) is None:
            raise Invalid(f"The marker {marker} is not an image.", rule="marker")
        where = image_where(
            context, filters, visibility=filters.get("visibility", "all"), tags=tags, times=times
        )
        if not sort or sort[0] == ("created_at", "desc"):
            return self.images.page(marker=marker, limit=limit, keep=keep, where=where)
        numeric = ("created_at", "updated_at", "min_disk", "min_ram", "size")

        def sort_value(image: Image, key: str) -> Any:
            return getattr(image, key) if key in numeric else value(image, key)

        return sorted_page(
            self.images,
            keep,
            sort[:1],
            sort_value,
            marker,
            limit,
            where,
            viewable=("name", "status", "created_at", "updated_at"),
            nulls_as_text=True,
        )

    @operation
    def ims_update_image(
        self, context: Context, image_id: str, changes: Iterable[dict[str, Any]]
    ) -> Image:
        """IMS ``PATCH /v2/cloudimages/{id}``: only active images; ``replace`` adds."""
        image = self._ims_image(context, image_id)
        if image.status != "active":
            raise Invalid(
                f"The image {image_id} is unavailable (status {image.status}); only "
                "active images can be updated.",
                rule="image_status",
                image_id=image_id,
                status=image.status,
            )
        staged = []
        for given in changes:
            change = dict(given)
            if (
                change["op"] == "replace"
                and change["path"] not in image.properties
                and change["path"] not in IMAGE_CORE_WRITABLE
            ):
                change["op"] = "add"
            staged.append(change)
        updated: Image = self.update_image(context, image_id, staged)
        return updated

    @operation
    def ims_delete_image(
        self, context: Context, image_id: str, *, delete_backup: bool = False
    ) -> Image:
        """Glance ``DELETE /v2/images/{id}`` as IMS serves it.

        An image an IMS job is still making cannot be deleted; a full-ECS
        image's backup is deleted with it when ``delete_backup`` is true.
        """
        image = self._ims_image(context, image_id)
        if provenance.kind(image) in IMS_KINDS and image.status in ("queued", "saving"):
            raise Conflict(
                f"The image {image_id} is being created and cannot be deleted.",
                rule="image_creating",
                image_id=image_id,
                status=image.status,
            )
        deleted: Image = self.delete_image(context, image_id)
        if delete_backup and provenance.kind(image) == "ims_whole":
            deleted.origin["backup_deleted"] = True
        return deleted

    # -- the jobs on the virtual clock -------------------------------------------------

    def _set_job_status(
        self,
        job: ImsJob,
        status: str,
        at: float,
        *,
        error_code: str | None = None,
        fail_reason: str | None = None,
    ) -> None:
        transitions.check("ims_job", job.status, status)
        job.status = status
        job.process_percent = STEP_PERCENT["done"] if status == "SUCCESS" else job.process_percent
        if status in ("SUCCESS", "FAIL"):
            job.end_time = at
            job.current_task = None
        if error_code:
            job.error_code = error_code
            job.fail_reason = fail_reason

    def _step_ims_image(self, job: Job, step: str, at: float) -> None:
        ims_job = self.ims_jobs.get(job.target_id)
        if ims_job is None or ims_job.status in ("SUCCESS", "FAIL"):
            return
        units = self.ims_sub_jobs(ims_job) or [ims_job]
        for unit in units:
            if unit.status not in ("SUCCESS", "FAIL"):
                self._advance_image_unit(unit, step, at)
        if ims_job not in units:
            failed = [u for u in units if u.status == "FAIL"]
            if ims_job.status == "INIT":
                self._set_job_status(ims_job, "RUNNING", at)
            if all(u.status in ("SUCCESS", "FAIL") for u in units):
                if failed:
                    self._set_job_status(
                        ims_job,
                        "FAIL",
                        at,
                        error_code=failed[0].error_code,
                        fail_reason=failed[0].fail_reason,
                    )
                else:
                    self._set_job_status(ims_job, "SUCCESS", at)
            else:
                ims_job.process_percent = STEP_PERCENT[step]
                ims_job.current_task = step
        if ims_job.status in ("SUCCESS", "FAIL"):
            self.jobs.pop(job.id, None)

    def _advance_image_unit(self, unit: ImsJob, step: str, at: float) -> None:
        image = self.images.get(unit.entities.get("image_id", ""))
        if image is None or image.status in ("deleted", "killed"):
            self._set_job_status(
                unit,
                "FAIL",
                at,
                error_code="IMG.0144",
                fail_reason=f"The image {unit.entities.get('image_id')} was "
                "deleted before the job finished.",
            )
            return
        if unit.status == "INIT":
            self._set_job_status(unit, "RUNNING", at)
        unit.current_task = step
        unit.process_percent = STEP_PERCENT[step]
        if step == "running" and image.status == "queued":
            self._set_image_status(image, "saving", at)
        elif step == "done":
            if image.status == "queued":
                self._set_image_status(image, "saving", at)
            give_generated_data(image)
            image.virtual_size = max(image.min_disk, 1) * GiB
            image.properties["__image_size"] = str(image.size)
            self._set_image_status(image, "active", at)
            self._set_job_status(unit, "SUCCESS", at)

    def _step_ims_export(self, job: Job, step: str, at: float) -> None:
        ims_job = self.ims_jobs.get(job.target_id)
        if ims_job is None or ims_job.status in ("SUCCESS", "FAIL"):
            return
        image = self.images.get(ims_job.data["image_id"])
        if image is None or image.status != "active":
            self._set_job_status(
                ims_job,
                "FAIL",
                at,
                error_code="IMG.0144",
                fail_reason=f"The image {ims_job.data['image_id']} was deleted "
                "before the export finished.",
            )
            self.jobs.pop(job.id, None)
            return
        if ims_job.status == "INIT":
            self._set_job_status(ims_job, "RUNNING", at)
        ims_job.current_task = step
        ims_job.process_percent = STEP_PERCENT[step]
        if step != "done":
            return
        data = ims_job.data
        record = ExportedObject(
            id=self.ids.uuid(),
            image_id=image.id,
            project_id=ims_job.project_id,
            bucket=data["bucket"],
            file_name=data["file_name"],
            file_format=data["file_format"],
            created_at=at,
            seq=self.next_seq(),
            job_id=ims_job.id,
            quick=data["quick"],
            size=image.size,
            image_kind=provenance.kind(image),
        )
        self.image_exports.add(record)
        data["export_id"] = record.id
        self._set_job_status(ims_job, "SUCCESS", at)
