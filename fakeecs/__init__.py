"""fakeecs: an in-memory Huawei Cloud ECS (OpenStack Nova) for tests."""

__version__ = "0.1.0"


def __getattr__(name):
    """``from fakeecs import FakeCloud`` without importing Flask for ``import fakeecs``."""
    if name in ("FakeCloud", "RemoteFakeCloud", "FakeEcsError"):
        from . import handle

        return getattr(handle, name)
    raise AttributeError(f"module 'fakeecs' has no attribute {name!r}")
