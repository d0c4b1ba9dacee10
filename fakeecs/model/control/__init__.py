"""The control plane as plain Python: reset and state, time and transitions, resources,
fault rules and the request journal.

:class:`ControlMixin` is the leftmost base of :class:`~fakeecs.model.Cloud`; it is
assembled from one room per concern, each a mixin with its own methods (none
overrides another's):

- :mod:`.state`: baseline and reset, scenarios, state export/import, seed;
- :mod:`.timing`: the virtual clock and the process durations;
- :mod:`.resources`: describe, advance and force one resource;
- :mod:`.injection`: fault rules and the request journal;
- :mod:`.inputs`: the one schema of each control input (used by the HTTP routes,
  the handles and the Python API alike) and :mod:`.operations`, the route table.

The HTTP routes under ``/_fakeecs/`` and the handles are thin layers over these::

    cloud.reset()                                  # back to the starting world
    cloud.reset(scenario="slow-cloud")             # start over from another one
    cloud.load_scenario("server-in-error")         # add a world on top (name, path or dict)
    state = cloud.export_state(); cloud.import_state(state)
    cloud.set_clock(mode="frozen"); cloud.advance_clock(30)
    cloud.set_transitions({"image_snapshot": "manual"})
    cloud.advance_resource("image", image_id)
    cloud.force_state("server", server_id, vm_state="error", fault="disk failure")
    rule = cloud.add_fault({"match": {"action": "createImage"}, "status": 500, "times": 1})
    cloud.faults; cloud.remove_fault(rule.id); cloud.clear_faults()
    cloud.journal.find(method="POST"); cloud.list_requests(); cloud.clear_requests()
    cloud.seed(42)
"""

from __future__ import annotations

import random
from typing import Any

from ..entities import AccessKey
from ..faults import FaultSet
from ..journal import Journal
from .injection import InjectionControl
from .resources import KIND_STORES, SERVER_FORCE_FIELDS, STATE_FIELD, ResourceControl
from .state import STATE_FORMAT, STATE_KEYS, STATE_VERSION, StateControl
from .timing import TimeControl

__all__ = [
    "KIND_STORES",
    "SERVER_FORCE_FIELDS",
    "STATE_FIELD",
    "STATE_FORMAT",
    "STATE_KEYS",
    "STATE_VERSION",
    "ControlMixin",
]


class ControlMixin(StateControl, TimeControl, ResourceControl, InjectionControl):
    """The control room of :class:`~fakeecs.model.Cloud`: its rooms, and their state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fault_set = FaultSet()
        self.journal = Journal()
        self._fault_random = random.Random(self.ids.seed)
        self._start = {
            "ids": self.ids.getstate(),
            "clock": self.clock.to_dict(),
            "region": self.region,
        }
        #: the worlds applied before the baseline was fixed (see apply_world)
        self._start_worlds = []
        self._start_pinned = False
        #: the starting state, built on first reset or by mark_baseline
        self._baseline = None
        #: tuple of scenario keys -> Baseline
        self._reset_cache = {}
        #: the Baseline the tracked stores started from (None: a reset imports in full)
        self._tracking = None

    def _init_stores(self) -> None:
        super()._init_stores()
        self.access_keys: dict[str, AccessKey] = {}
        self.register_store("access_keys", AccessKey)
