"""The cloud as plain Python: no HTTP, no Flask."""

from .autoclock import AutoClockMixin
from .clock import VirtualClock
from .cloud import CloudBase, operation
from .compute import ComputeMixin
from .control import ControlMixin
from .ecs import EcsMixin
from .errors import Conflict, DomainError, Forbidden, Invalid, NotFound, OverQuota, Unauthorized
from .images import ImageMixin
from .ims import ImsMixin
from .network import NetworkMixin
from .policy import Context
from .storage import StorageMixin
from .world import apply_world


class Cloud(
    ControlMixin,
    AutoClockMixin,
    EcsMixin,
    NetworkMixin,
    ImsMixin,
    StorageMixin,
    ImageMixin,
    ComputeMixin,
    CloudBase,
):
    """The whole simulated cloud."""

    # the explicit hooks between rooms (see CloudBase)
    SERVER_WATCHERS = ("_ecs_track",)
    ADDRESS_PLANNERS = ("_subnet_addresses",)


__all__ = [
    "Cloud",
    "Conflict",
    "Context",
    "DomainError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "OverQuota",
    "Unauthorized",
    "VirtualClock",
    "apply_world",
    "operation",
]
