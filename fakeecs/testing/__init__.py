"""Testing helpers shipped with fakeecs.

* :mod:`fakeecs.testing.strategies`: Hypothesis strategies (createImage bodies,
  names, metadata, microversions, server specs, scenario worlds);
* :mod:`fakeecs.testing.stateful`: :class:`~fakeecs.testing.stateful.FakeEcsMachine`,
  a Hypothesis state machine that drives a cloud over HTTP against a reference model;
* :mod:`fakeecs.testing.client`: a small Keystone-authenticated HTTP client.

The pytest fixtures live in :mod:`fakeecs.pytest_plugin` (loaded automatically).
"""

_LAZY = {"Client": "client", "FakeEcsMachine": "stateful", "strategies": None, "stateful": None}


def __getattr__(name):
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'fakeecs.testing' has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_LAZY[name] or name}")
    return module if _LAZY[name] is None else getattr(module, name)


__all__ = ["Client", "FakeEcsMachine", "stateful", "strategies"]
