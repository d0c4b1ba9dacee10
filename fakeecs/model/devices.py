"""Device names of a server's disks (``/dev/vdX``), in one place."""

import hashlib
from collections.abc import Collection

PREFIX = "/dev/vd"
#: the boot disk's device (a server's ``root_device_name``)
ROOT_DEVICE = PREFIX + "a"
#: data disks take the first free of these, in order
DATA_DEVICES = tuple(PREFIX + letter for letter in "bcdefghijklmnopqrstuvwxyz")


def device_at(index: int) -> str:
    """The device of a server's ``index``-th disk when none was recorded (0: the root)."""
    return ((ROOT_DEVICE,) + DATA_DEVICES)[index] if index <= len(DATA_DEVICES) else PREFIX + "?"


def next_device(used: Collection[str | None], *, boot: bool = False) -> str | None:
    """The device a new disk gets: the root device for a boot disk while it is free, else
    the first free data device; ``None`` when every one is taken."""
    if boot and ROOT_DEVICE not in used:
        return ROOT_DEVICE
    return next((name for name in DATA_DEVICES if name not in used), None)


def host_id(project_id: str, host: str) -> str:
    """Nova's ``hostId``: the host as its project sees it (sha224 of project id and host)."""
    return hashlib.sha224((project_id + host).encode()).hexdigest() if host else ""
