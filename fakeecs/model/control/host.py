"""What the control rooms use of the rest of :class:`~fakeecs.model.Cloud` (for the type checker).

Each control room is a mixin with its own methods only; none overrides another's.
The attributes and methods below are declared for mypy and exist only on the
assembled cloud: at run time this class is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random
    import threading

    from ..clock import VirtualClock
    from ..entities import Job, Server
    from ..faults import FaultSet
    from ..ids import IdGenerator
    from ..journal import Journal
    from ..undo import Baseline


class ControlHost:
    """The cloud as the control rooms see it."""

    if TYPE_CHECKING:
        lock: threading.RLock
        clock: VirtualClock
        ids: IdGenerator
        region: str
        stores: dict[str, Any]
        tokens: dict[str, dict[str, Any]]
        users: Any
        projects: Any
        jobs: dict[str, Job]
        transitions: dict[str, Any]
        _heap: list[tuple[float, str]]
        _seq: int
        # the control rooms' own state (set up by ControlMixin.__init__)
        _fault_set: FaultSet
        journal: Journal
        _fault_random: random.Random
        _start: dict[str, Any]
        _start_worlds: list[Any]
        _start_pinned: bool
        _baseline: Baseline | None
        _reset_cache: dict[tuple[Any, ...], Baseline]
        _tracking: Baseline | None

        # -- the rest of the cloud --
        def settle(self) -> None: ...
        def now(self) -> float: ...
        def run_step(self, job: Job, at: float) -> None: ...
        def register_store(self, name: str, cls: Any) -> None: ...
        def _init_stores(self) -> None: ...
        def set_server_state(
            self,
            server: Server,
            vm_state: str,
            *,
            at: float | None = None,
            task_state: str | None = None,
            fault: Any = None,
        ) -> None: ...

        # -- across control rooms --
        def _export(self) -> dict[str, Any]: ...
        def _import(self, data: Any) -> None: ...
        def _check_transitions(
            self, mapping: Any, where: str = "transitions"
        ) -> dict[str, Any]: ...
        def _advance_to(self, target: float) -> None: ...
        def resource_kinds(self) -> dict[str, str]: ...
