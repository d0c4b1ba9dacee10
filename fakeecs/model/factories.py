"""The one factory of images, shared by the rooms and by scenarios.

Each stored entity kind has one factory that gives it its id, timestamps and
sequence number; scenarios (:mod:`fakeecs.model.world`) call the same ones as
the API operations:

==========  ===================================================
server      :meth:`ComputeMixin.new_server <fakeecs.model.compute.ComputeMixin.new_server>`
volume      :meth:`StorageMixin.new_volume <fakeecs.model.storage.StorageMixin.new_volume>`
snapshot    :meth:`StorageMixin.new_snapshot <fakeecs.model.storage.StorageMixin.new_snapshot>`
image       :func:`new_image` (here: Glance, IMS and scenarios make images)
vpc/subnet  ``NetworkMixin.add_vpc`` / ``add_subnet``
==========  ===================================================
"""

from typing import Any, Protocol

from .entities import Image
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
