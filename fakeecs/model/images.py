"""Glance images, and the native ``createImage`` server action that makes them."""

import base64
import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    TypedDict,
)

from . import glance_schema, provenance, transitions
from .cloud import operation
from .entities import Image, Job, Server
from .errors import Conflict, Forbidden, Invalid, NotFound, OverQuota
from .pager import image_where, sorted_page
from .policy import Context, authorize
from .timefilter import time_matches

if TYPE_CHECKING:
    from .ids import IdGenerator
    from .store import Collection

#: a list's sort: ``(key, "asc"|"desc")`` pairs
Sort = list[tuple[str, str]]

#: Nova's default ``metadata_items`` quota, checked below microversion 2.39
METADATA_ITEMS_QUOTA = 128
GiB = 1024**3

#: Glance core attributes that a client may set (from :mod:`.glance_schema`)
IMAGE_CORE_WRITABLE = glance_schema.CORE_WRITABLE


class ImageChange(TypedDict, total=False):
    """One JSON-patch operation of :meth:`ImageMixin.update_image` (the key, not a pointer)."""

    op: str
    path: str
    value: Any


#: Glance's ``image_tag_quota`` (glance/common/config.py)
IMAGE_TAG_QUOTA = 128
#: bytes of an image whose data fakeecs makes up (createImage, IMS and scenario server
#: images): small, so a test downloads and checks it in no time
GENERATED_DATA_SIZE = 64 * 1024
_BLOCK = hashlib.sha512().digest_size
#: statuses in which an image has data (Glance: it has locations)
DATA_STATUSES = ("active", "deactivated")


def _digests(payload: bytes) -> tuple[str, str]:
    return (hashlib.md5(payload).hexdigest(), hashlib.sha512(payload).hexdigest())


def _common_block(block: int) -> bytes:
    return hashlib.sha512(f"fakeecs image data {block}".encode()).digest()


@functools.lru_cache(maxsize=1)
def _common_head() -> bytes:
    """The first 64 KiB of the stream every made-up image shares (computed once)."""
    return b"".join(_common_block(block) for block in range(GENERATED_DATA_SIZE // _BLOCK))


def _common_bytes(start: int, stop: int) -> Iterator[bytes]:
    """Bytes ``start..stop-1`` of the shared stream, in pieces of at most 64 KiB."""
    head = _common_head()
    if start < len(head):
        yield head[start : min(stop, len(head))]
        start = len(head)
    while start < stop:
        end = min(stop, start + (1 << 16))
        first = start // _BLOCK
        out = b"".join(_common_block(block) for block in range(first, (end - 1) // _BLOCK + 1))
        offset = start - first * _BLOCK
        yield out[offset : offset + end - start]
        start = end


def _tail(image_id: str, size: int) -> bytes:
    """The image's own last bytes (at most 64): what makes its data its own."""
    digest = hashlib.sha512(f"fakeecs image data {image_id} {size}".encode()).digest()
    return digest[: min(size, _BLOCK)]


def generated_chunks(
    image_id: str, size: int, start: int = 0, stop: int | None = None
) -> Iterator[bytes]:
    """Bytes ``start..stop-1`` of the made-up data of ``image_id``, ``size`` bytes long.

    All but the last 64 bytes are a stream every such image shares (byte ``n`` is
    byte ``n % 64`` of ``sha512("fakeecs image data <n // 64>")``); the last 64 (or
    fewer) are ``sha512("fakeecs image data <id> <size>")``.  Any range is computed
    directly, the same in every run and after a state export and import, and the
    digests of 64 KiB of it cost a hash of 64 bytes (:func:`give_generated_data`).
    """
    stop = size if stop is None else min(stop, size)
    tail = _tail(image_id, size)
    shared = size - len(tail)
    if start < min(stop, shared):
        yield from _common_bytes(start, min(stop, shared))
    if stop > shared:
        yield tail[max(start - shared, 0) : stop - shared]


@functools.lru_cache(maxsize=8)
def _shared_hashes(length: int) -> tuple[Any, Any]:
    """MD5 and SHA-512 states after the first ``length`` bytes of the shared stream."""
    md5, sha512 = hashlib.md5(), hashlib.sha512()
    for piece in _common_bytes(0, length):
        md5.update(piece)
        sha512.update(piece)
    return md5, sha512


def give_generated_data(image: Image, size: int = GENERATED_DATA_SIZE) -> None:
    """Record made-up data of ``size`` bytes on ``image``: size, checksum, os_hash_*.

    The one rule for images whose bytes fakeecs invents (createImage, IMS, images
    of scenario files); :meth:`ImageMixin.image_data` serves the same bytes.
    """
    tail = _tail(image.id, size)
    md5, sha512 = (state.copy() for state in _shared_hashes(size - len(tail)))
    md5.update(tail)
    sha512.update(tail)
    image.size = size
    image.checksum, image.os_hash_value = md5.hexdigest(), sha512.hexdigest()
    image.os_hash_algo = "sha512"
    image.payload = None


def record_bytes(image: Image, payload: bytes) -> None:
    """``size``, ``checksum`` (MD5) and ``os_hash_*`` (SHA-512) true to ``payload``."""
    image.size = len(payload)
    image.checksum, image.os_hash_value = _digests(payload)
    image.os_hash_algo = "sha512"


class ImageBytes:
    """The data of one image: ``size``, ``checksum`` and ``chunks(start, stop)``."""

    def __init__(self, image: Image) -> None:
        if image.size is None:
            raise ValueError(f"image {image.id} has no data")
        self.image_id = image.id
        self.size: int = image.size
        self.checksum = image.checksum
        self._payload = base64.b64decode(image.payload) if image.payload is not None else None

    def chunks(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """Bytes ``start..stop-1`` (``stop`` defaults to the end), in pieces."""
        stop = self.size if stop is None else min(stop, self.size)
        if start >= stop:
            return iter(())
        if self._payload is not None:
            return iter((self._payload[start:stop],))
        return generated_chunks(self.image_id, self.size, start, stop)


class ImageMixin:
    """The image room of :class:`~fakeecs.model.Cloud`."""

    if TYPE_CHECKING:  # what the room uses of the rest of the cloud
        images: Collection
        servers: Collection
        jobs: dict[str, Job]
        ids: IdGenerator

        def now(self) -> float: ...
        def next_seq(self) -> int: ...
        def touch(
            self, kind: str, ids: str | Iterable[str] | Callable[[], Iterable[str]]
        ) -> None: ...
        def start_job(
            self,
            process: str,
            kind: str,
            target_id: str,
            steps: Sequence[str],
            data: dict[str, Any] | None = None,
        ) -> Job: ...
        def jobs_for(self, kind: str, target_id: str) -> list[Job]: ...
        def _server(self, context: Context, server_id: str) -> Server: ...

    # -- visibility ----------------------------------------------------------

    def _image_visible(self, context: Context, image: Image) -> bool:
        if image.status == "deleted":
            return False
        return image.visibility in ("public", "community") or image.owner == context.project_id

    def _image(self, context: Context, image_id: str) -> Image:
        image: Image | None = self.images.get(image_id)
        if image is None or not self._image_visible(context, image):
            raise NotFound("image", image_id, f"No image found with ID {image_id}")
        return image

    @operation
    def get_image(self, context: Context, image_id: str) -> Image:
        self.touch("image", image_id)
        return self._image(context, image_id)

    @operation
    def list_images(
        self,
        context: Context,
        *,
        filters: dict[str, Any] | None = None,
        limit: int | None = None,
        marker: str | None = None,
        sort: Sort | None = None,
        keep_also: Callable[[Image], bool] | None = None,
    ) -> tuple[list[Image], bool]:
        """Visible images after ``marker``; returns ``(images, more)``.

        ``filters`` may hold name, status, visibility, owner, os_hidden, tag,
        ``id``, ``created_at``/``updated_at`` as ``(operator, epoch)`` and any
        custom property; ``sort`` is a list of ``(key, dir)``; ``keep_also`` a
        further predicate (the Nova proxy's filters).
        """
        self.touch("image", lambda: [i.id for i in self.images if i.owner == context.project_id])
        filters = dict(filters or {})
        visibility = filters.pop("visibility", None)
        hidden = filters.pop("os_hidden", False)
        tags = filters.pop("tag", None) or []
        times: dict[str, tuple[str, float]] = {
            k: filters.pop(k) for k in ("created_at", "updated_at") if k in filters
        }
        where = image_where(context, filters, visibility=visibility, tags=tags, times=times)

        def keep(image: Image) -> bool:
            if not self._image_visible(context, image):
                return False
            if (
                visibility is None
                and image.visibility == "community"
                and image.owner != context.project_id
            ):
                return False
            if visibility not in (None, "all") and image.visibility != visibility:
                return False
            if hidden is not None and bool(image.os_hidden) != bool(hidden):
                return False
            if any(tag not in image.tags for tag in tags):
                return False
            for key, (op, moment) in times.items():
                # Glance keeps and shows whole seconds
                if not time_matches(int(getattr(image, key)), op, moment):
                    return False
            for key, value in filters.items():
                if str(self._image_field(image, key)) != str(value):
                    return False
            return keep_also is None or keep_also(image)

        if marker is not None:
            found = self.images.get(marker)
            if found is None or not self._image_visible(context, found):
                raise Invalid("Invalid marker. Image could not be found.", rule="marker")
        default_sort = [("created_at", "desc"), ("id", "desc")]
        if not sort or sort == default_sort or sort == [("created_at", "desc")]:
            return self.images.page(marker=marker, limit=limit, keep=keep, where=where)
        return sorted_page(
            self.images,
            keep,
            sort,
            self._image_field,
            marker,
            limit,
            where,
            viewable=("name", "status", "owner", "visibility", "created_at", "updated_at"),
        )

    @staticmethod
    def _image_field(image: Image, key: str) -> Any:
        if key in image.properties:
            return image.properties[key]
        return getattr(image, key, None)

    # -- Glance writes ---------------------------------------------------------

    @operation
    def create_image(
        self,
        context: Context,
        *,
        image_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        origin: Mapping[str, Any] | None = None,
        **core: Any,
    ) -> Image:
        """Register an image record (``queued``) as Glance's ``POST /v2/images`` does."""
        authorize(context, "add_image", write=True)
        if image_id is not None and image_id in self.images:
            raise Conflict(f"An image with identifier {image_id} already exists", rule="duplicate")
        if core.get("visibility") == "public" and not context.is_admin:
            raise Forbidden(
                "You are not authorized to complete publicize_image action.", rule="publicize_image"
            )
        now = self.now()
        image = Image(
            id=image_id or self.ids.uuid(),
            name=core.pop("name", None),
            owner=context.project_id,
            status="queued",
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
            properties={k: str(v) for k, v in (properties or {}).items()},
            origin=dict(origin or {"kind": "upload"}),
        )
        for key, value in core.items():
            setattr(image, key, value)
        self.images.add(image)
        return image

    @operation
    def upload_image_data(self, context: Context, image_id: str, payload: bytes) -> Image:
        authorize(context, "upload_image", write=True)
        image = self._owned_image(context, image_id)
        if image.status != "queued":
            raise Conflict(
                f"Image status transition from {image.status} to saving is not allowed",
                rule="transition",
            )
        if not image.disk_format or not image.container_format:
            raise Invalid(
                "Properties disk_format, container_format must be set prior to saving data.",
                rule="formats",
            )
        self._set_image_status(image, "saving")
        record_bytes(image, payload)
        image.virtual_size = None
        image.payload = base64.b64encode(payload).decode("ascii")
        self._set_image_status(image, "active")
        return image

    @operation
    def image_data(self, context: Context, image_id: str) -> ImageBytes | None:
        """Glance's download: the image's :class:`ImageBytes`, or ``None`` without data.

        Uploaded images serve what was uploaded; every other image serves the
        bytes of :func:`generated_chunks` (its ``size`` as recorded).  A
        deactivated image is refused to non-admins.
        """
        image = self._image(context, image_id)
        if image.status == "deactivated" and not context.is_admin:
            raise Forbidden(
                "The requested image has been deactivated. Image data download is forbidden.",
                rule="deactivated",
            )
        if image.status not in DATA_STATUSES or image.size is None:
            return None
        return ImageBytes(image)

    def _tag_target(self, context: Context, image_id: str, verb: str) -> Image:
        image: Image | None = self.images.get(image_id)
        if image is None or not self._image_visible(context, image):
            raise NotFound("image", image_id, f"Image {image_id} not found.")
        if (image.owner != context.project_id and not context.is_admin) or not context.can_write:
            raise Forbidden(f"Not allowed to {verb} tags for image {image_id}.", rule="owner")
        return image

    @operation
    def add_image_tag(self, context: Context, image_id: str, tag: str) -> Image:
        """Glance ``PUT /v2/images/{id}/tags/{tag}``: a set, at most ``IMAGE_TAG_QUOTA``."""
        image = self._tag_target(context, image_id, "update")
        tags = list(image.tags) + ([tag] if tag not in image.tags else [])
        if len(tags) > IMAGE_TAG_QUOTA:
            raise OverQuota(
                f"Image tag limit exceeded for image {image_id}: The limit has been "
                "exceeded on the number of allowed image tags. Attempted: "
                f"{len(tags)}, Maximum: {IMAGE_TAG_QUOTA}:",
                rule="image_tag_quota",
            )
        image.tags = tags
        image.updated_at = self.now()
        return image

    @operation
    def remove_image_tag(self, context: Context, image_id: str, tag: str) -> Image:
        """Glance ``DELETE /v2/images/{id}/tags/{tag}``; ``NotFound`` (rule ``tag``) if absent."""
        image = self._tag_target(context, image_id, "delete")
        if tag not in image.tags:
            raise NotFound("image_tag", tag, "The resource could not be found.")
        image.tags = [t for t in image.tags if t != tag]
        image.updated_at = self.now()
        return image

    def _owned_image(self, context: Context, image_id: str) -> Image:
        image = self._image(context, image_id)
        if image.owner != context.project_id and not context.is_admin:
            raise Forbidden(f"You are not permitted to modify image {image_id}.", rule="owner")
        return image

    def _set_image_status(self, image: Image, status: str, at: float | None = None) -> None:
        transitions.check("image", image.status, status)
        image.status = status
        image.updated_at = self.now() if at is None else at

    @operation
    def update_image(
        self, context: Context, image_id: str, changes: Iterable[ImageChange]
    ) -> Image:
        """Apply Glance JSON-patch ``changes``: dicts with op, path (a key) and value."""
        authorize(context, "modify_image", write=True)
        image = self._owned_image(context, image_id)
        staged_core, staged_props = {}, dict(image.properties)
        for change in changes:
            op, key, value = change["op"], change["path"], change.get("value")
            refused = glance_schema.refusal(key, glance_schema.READ_ONLY_ON_PATCH)
            if refused is not None:
                raise Forbidden(refused[1], rule=refused[0])
            if key in IMAGE_CORE_WRITABLE:
                if op == "remove":
                    raise Forbidden(f"Properties {key} cannot be removed.", rule="core")
                staged_core[key] = value
            elif op == "remove":
                if key not in staged_props:
                    raise Conflict(f"Property {key} does not exist.", rule="missing")
                del staged_props[key]
            elif op == "add" or key in staged_props:
                staged_props[key] = str(value)
            else:
                raise Conflict(f"Property {key} does not exist.", rule="missing")
        if staged_core.get("visibility") == "public" and not context.is_admin:
            raise Forbidden(
                "You are not authorized to complete publicize_image action.", rule="publicize_image"
            )
        for key, value in staged_core.items():
            setattr(image, key, value)
        image.properties = staged_props
        image.updated_at = self.now()
        return image

    @operation
    def delete_image(self, context: Context, image_id: str) -> Image:
        """Delete an image; never its snapshots (constraint 4)."""
        authorize(context, "delete_image", write=True)
        image = self._image(context, image_id)
        if image.owner != context.project_id and not context.is_admin:
            raise Forbidden("You are not permitted to delete this image.", rule="owner")
        if image.protected:
            raise Forbidden(
                f"Image {image_id} is protected and cannot be deleted.", rule="protected"
            )
        provenance.delete_image_only(self, image)
        return image

    # -- the native createImage action -------------------------------------------

    @operation
    def create_server_image(
        self,
        context: Context,
        server_id: str,
        name: str,
        metadata: Mapping[str, str] | None = None,
        *,
        check_metadata_quota: bool = False,
    ) -> Image:
        """Nova's ``createImage``: an image of ``server_id`` (Queens order of checks)."""
        metadata = dict(metadata or {})
        authorize(context, "os_compute_api:servers:create_image", write=True)
        if check_metadata_quota and len(metadata) > METADATA_ITEMS_QUOTA:
            raise OverQuota("Image metadata limit exceeded", rule="metadata_items")
        server = self._server(context, server_id)
        metadata = snapshot_metadata(metadata)
        provenance.check_imageable(context, server, "nova_snapshot")
        if server.volume_backed:
            return self._snapshot_volume_backed(context, server, name, metadata)
        meta = server.system_metadata
        properties = self._snapshot_properties(context, server)
        properties.update(
            {"instance_uuid": server.id, "user_id": context.user_id, "image_type": "snapshot"}
        )
        properties.update(metadata)
        image = self._new_snapshot_image(
            context,
            server,
            name,
            properties,
            min_disk=meta.get("min_disk", 0),
            min_ram=meta.get("min_ram", 0),
        )
        server.task_state = "image_snapshot_pending"
        server.updated_at = self.now()
        self.start_job(
            "image_snapshot",
            "server",
            server.id,
            ["image_snapshot", "image_pending_upload", "image_uploading", "active"],
            {"image_id": image.id},
        )
        return image

    def _snapshot_properties(self, context: Context, server: Server) -> dict[str, Any]:
        """Properties every server snapshot inherits (Nova's system metadata)."""
        meta = server.system_metadata
        properties = dict(meta.get("properties", {}))
        properties["base_image_ref"] = meta.get("base_image_ref", server.image_id or "")
        properties["owner_project_name"] = context.project_name
        properties["owner_user_name"] = context.user_name
        properties["boot_roles"] = ",".join(context.roles)
        properties.update(provenance.SNAPSHOT_PLATFORM_FIELDS)
        return properties

    def _new_snapshot_image(
        self,
        context: Context,
        server: Server,
        name: str,
        properties: Mapping[str, Any],
        **core: Any,
    ) -> Image:
        now = self.now()
        image = Image(
            id=self.ids.uuid(),
            name=name,
            owner=context.project_id,
            status="queued",
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
            visibility="private",
            properties={k: str(v) for k, v in properties.items()},
            origin=provenance.from_server(
                "nova_snapshot", server, volume_backed=server.volume_backed
            ),
            **core,
        )
        self.images.add(image)
        return image

    def abandon_snapshots(self, server: Server, at: float) -> None:
        """Stop the server's running snapshots and delete their unfinished images.

        Nova's ``delete_image_on_error``: a snapshot that cannot finish (the server
        failed or is being deleted) leaves no half-made image behind.
        """
        for job in self.jobs_for("server", server.id):
            if job.process != "image_snapshot":
                continue
            image = self.images.get(job.data.get("image_id"))
            if image is not None and image.status in ("queued", "saving"):
                provenance.delete_image_only(self, image, at)
            self.jobs.pop(job.id, None)
            if server.task_state and server.task_state.startswith("image_"):
                server.task_state = None

    def _snapshot_volume_backed(
        self, context: Context, server: Server, name: str, metadata: dict[str, str]
    ) -> Image:
        raise Invalid("Volume-backed snapshots are not supported.", rule="volume_backed")

    def _step_image_snapshot(self, job: Job, step: str, at: float) -> None:
        server = self.servers.get(job.target_id)
        image = self.images.get(job.data["image_id"])
        if server is None or image is None or image.status in ("deleted", "killed"):
            if server is not None and server.task_state and server.task_state.startswith("image_"):
                server.task_state = None
                server.updated_at = at
            if server is None and image is not None and image.status != "active":
                # the source vanished mid-snapshot: Nova deletes the image it was filling
                provenance.delete_image_only(self, image, at)
            self.jobs.pop(job.id, None)
            return
        if step in ("image_snapshot", "image_pending_upload", "image_uploading"):
            server.task_state = step
            server.updated_at = at
        if step == "image_pending_upload":
            image.disk_format = "qcow2"
            image.container_format = server.system_metadata.get("container_format") or "bare"
            image.properties.update(
                {
                    "image_location": "snapshot",
                    "image_state": "available",
                    "owner_id": server.project_id,
                }
            )
            image.updated_at = at
        elif step == "image_uploading":
            self._set_image_status(image, "saving", at)
        elif step == "active":
            give_generated_data(image)
            image.virtual_size = max(image.min_disk, 1) * GiB
            self._set_image_status(image, "active", at)
            server.task_state = None
            server.updated_at = at


#: keys Nova drops before it sends the image to Glance (``_convert_to_v2``)
SNAPSHOT_DROPPED_KEYS = ("status", "created_at", "updated_at", "deleted_at", "size", "deleted")


def snapshot_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """User metadata as Glance will take it: dropped keys go, refused keys raise (Glance
    refuses its reserved and ``_disallowed_properties`` keys; Nova passes the 403 on)."""
    kept = {k: v for k, v in metadata.items() if k not in SNAPSHOT_DROPPED_KEYS}
    for key in kept:
        refused = glance_schema.refusal(key, glance_schema.DISALLOWED)
        if refused is not None:
            raise Forbidden(refused[1], rule=refused[0])
    return kept
