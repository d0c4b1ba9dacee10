"""The one factory of images, and of Huawei jobs, shared by the rooms and by scenarios.

Each stored entity kind has one factory that gives it its id, timestamps and
sequence number; scenarios (:mod:`fakeecs.model.world`) call the same ones as
the API operations:

==========  ===================================================
server      :meth:`ComputeMixin.new_server <fakeecs.model.compute.ComputeMixin.new_server>`
volume      :meth:`StorageMixin.new_volume <fakeecs.model.storage.StorageMixin.new_volume>`
snapshot    :meth:`StorageMixin.new_snapshot <fakeecs.model.storage.StorageMixin.new_snapshot>`
image       :func:`new_image` (here: Glance, IMS and scenarios make images)
vpc/subnet  ``NetworkMixin.add_vpc`` / ``add_subnet``
job         :func:`new_job` (IMS and ECS jobs, and their sub-jobs)
==========  ===================================================
"""

from typing import Any, Protocol, TypeVar

from .entities import Image, ImsJob
from .ids import IdGenerator
from .store import Collection


class _Cloud(Protocol):
    """What :func:`new_image` needs of the cloud."""

    ids: IdGenerator
    images: Collection

    def now(self) -> float: ...

    def next_seq(self) -> int: ...


def new_image(
    cloud: _Cloud,
    *,
    name: str | None,
    owner: str,
    origin: dict[str, Any],
    status: str = "queued",
    image_id: str | None = None,
    created_at: float | None = None,
    visibility: str = "private",
    properties: dict[str, Any] | None = None,
    **core: Any,
) -> Image:
    """Add an image record: properties as text, ``core`` further :class:`Image` fields."""
    now = cloud.now() if created_at is None else created_at
    image = Image(
        id=image_id or cloud.ids.uuid(),
        name=name,
        owner=owner,
        status=status,
        created_at=now,
        updated_at=now,
        seq=cloud.next_seq(),
        visibility=visibility,
        properties={k: str(v) for k, v in (properties or {}).items()},
        origin=dict(origin),
        **core,
    )
    cloud.images.add(image)
    return image


J = TypeVar("J", bound=ImsJob)


def new_job(
    cloud: _Cloud,
    store: Collection,
    kind: type[J],
    project_id: str,
    job_type: str,
    *,
    entities: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    parent: ImsJob | None = None,
) -> J:
    """Add a Huawei asynchronous job (``INIT``) of ``kind`` to ``store``; a sub-job of
    ``parent`` is listed among the parent's ``sub_job_ids``."""
    job = kind(
        id=cloud.ids.hex32(),
        job_type=job_type,
        project_id=project_id,
        status="INIT",
        begin_time=cloud.now(),
        seq=cloud.next_seq(),
        entities=dict(entities or {}),
        data=dict(data or {}),
        parent_id=parent.id if parent else None,
    )
    store.add(job)
    if parent is not None:
        parent.sub_job_ids.append(job.id)
    return job
