"""Reset, scenarios, state export and import, and seeding: the control plane's state room.

A reset goes back to a :class:`~fakeecs.model.undo.Baseline` (the cheap reset of
:mod:`fakeecs.model.undo`); an export is versioned JSON-friendly data walking
``self.stores`` (every registered store of every room), so rooms added later
round-trip without changes here.
"""

from __future__ import annotations

import heapq
import time
from typing import TYPE_CHECKING, Any, cast

from ... import __version__
from .. import transitions
from ..errors import Invalid
from ..undo import Baseline, Strings, restore_touched
from .host import ControlHost
from .inputs import STATE_FORMAT, STATE_KEYS, STATE_VERSION, check_value, load_state, parse_seed
from .stores import export_store, import_store

if TYPE_CHECKING:
    from .. import Cloud

__all__ = ["STATE_FORMAT", "STATE_KEYS", "STATE_VERSION", "StateControl"]


class StateControl(ControlHost):
    """Baseline and reset, scenarios, export/import, seed."""

    # -- baseline and reset ------------------------------------------------------

    def note_start_world(self, world: Any) -> None:
        """Remember a world applied while the cloud is being built (apply_world calls this)."""
        if self._baseline is None:
            self._start_worlds.append(world)
            if (world.get("clock") or {}).get("now") is not None:
                self._start_pinned = True

    def mark_baseline(self) -> None:
        """Make the current state the one :meth:`reset` goes back to."""
        with self.lock:
            self._baseline = Baseline(self._export(), self.clock.mode == "frozen")
            self._start_worlds = []
            self._start_tracking(self._baseline)

    def _blank(self) -> None:
        """The empty cloud of construction time: no stores, first ids, first clock."""
        self._init_stores()
        self._tracking = None
        self.region = self._start["region"]
        self.ids.setstate(self._start["ids"])
        start = self._start["clock"]
        now = start["now"] if start["mode"] == "frozen" else time.time()
        self.clock.set(
            now=now, mode=start["mode"], speed=start["speed"], auto=start.get("auto", "off")
        )

    def _build(self, worlds: list[Any]) -> dict[str, Any]:
        """The export of a blank cloud with ``worlds`` applied; the state is left unchanged."""
        from ..world import apply_world

        saved, tokens = self._export(), self.tokens
        try:
            self._blank()
            for world in worlds:
                apply_world(cast("Cloud", self), world, record=False)
            return self._export()
        finally:
            self.tokens = tokens
            self._import(saved)

    def reset(self, scenario: Any = None) -> dict[str, Any]:
        """Back to the starting state (or start over from ``scenario``: names, paths or dicts).

        Faults and the request journal are cleared; tokens of users and projects
        that still exist stay valid.  Parsed scenarios and built states are
        cached, so a reset is an import of a prepared state.
        """
        with self.lock:
            if scenario is None:
                if self._baseline is None:
                    pinned = self._start_pinned or self._start["clock"]["mode"] == "frozen"
                    self._baseline = Baseline(self._build(self._start_worlds), pinned)
                    self._start_worlds = []
                target = self._baseline
                names = ["(start)"]
            else:
                items = scenario if isinstance(scenario, (list, tuple)) else [scenario]
                if not items:
                    raise Invalid("scenario: give at least one scenario", rule="scenario")
                worlds = [self._read_world(item) for item in items]
                key = tuple(w.source_key for w in worlds)
                cached = self._reset_cache.get(key) if None not in key else None
                if cached is None:
                    pinned = self._start["clock"]["mode"] == "frozen" or any(
                        (w.get("clock") or {}).get("now") is not None for w in worlds
                    )
                    cached = Baseline(self._build(worlds), pinned)
                    if None not in key:
                        self._reset_cache[key] = cached
                target = cached
                names = [w.source for w in worlds]
            self._restore(target)
            if self.clock.mode == "realtime" and not target.pinned:
                self.clock.set(now=time.time())
            self._fault_set.clear()
            self.journal.clear()
            return {"status": "reset", "scenarios": names}

    def _restore(self, baseline: Baseline) -> None:
        """Make the state ``baseline``'s: rebuild what changed since it, or import it whole."""
        if self._tracking is not baseline or not all(
            getattr(getattr(self, name), "touched", None) is not None for name in self.stores
        ):
            self._import(baseline.export)
            self._start_tracking(baseline)
            return
        identity = False
        for name, cls in self.stores.items():
            changed = restore_touched(getattr(self, name), cls, baseline.records.get(name, {}))
            identity = identity or (changed and name in ("users", "projects"))
        self._commit_scalars(baseline.export, self._checked_transitions(baseline.export))
        if identity:
            self._prune_tokens()

    def _start_tracking(self, baseline: Baseline) -> None:
        """The live stores equal ``baseline``: record what changes from here."""
        for name in self.stores:
            store = getattr(self, name)
            if hasattr(store, "track"):  # a store that cannot track makes every reset whole
                store.track()
        self._tracking = baseline

    # -- scenarios ---------------------------------------------------------------

    def _read_world(self, item: Any) -> Any:
        from .. import scenario as scenarios

        try:
            if isinstance(item, dict):
                return scenarios.validate(item, source="<inline>")  # type: ignore[operator, unused-ignore]
            if isinstance(item, str):
                return scenarios.load(item)
        except scenarios.ScenarioError as error:
            raise Invalid(str(error), rule="scenario") from None
        except FileNotFoundError as error:
            raise Invalid(str(error), rule="scenario") from None
        raise Invalid("scenario: a name, a path or an inline scenario object", rule="scenario")

    def load_scenario(self, scenario: Any) -> dict[str, Any]:
        """Add the world of ``scenario`` (name, path or dict) on top of the current state.

        All or nothing: a scenario that fails half-way leaves the state as it was.
        Returns ``{"scenario": source, "added": {store: count}}``.
        """
        from ..world import apply_world

        world = self._read_world(scenario)
        with self.lock:
            self.settle()
            before = {name: len(getattr(self, name)) for name in self.stores}
            saved = self._export()
            try:
                apply_world(cast("Cloud", self), world, record=False)
            except Exception:
                self._import(saved)
                raise
            added = {
                name: len(getattr(self, name)) - count
                for name, count in before.items()
                if len(getattr(self, name)) != count
            }
            return {"scenario": world.source, "added": added}

    # -- state export / import ---------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """The whole state as versioned, JSON-friendly data (a fresh copy)."""
        with self.lock:
            self.settle()
            return self._export()

    def import_state(self, data: Any) -> dict[str, str]:
        """Replace the whole state with an export; refused (Invalid) without changing anything.

        The export is checked by :class:`~.inputs.StateBody`, then its stores and
        transitions against this cloud's (semantic checks)."""
        checked = load_state(data)
        with self.lock:
            self._import(checked)
            return {"status": "imported"}

    def snapshot(self) -> dict[str, Any]:
        """In-process alias of :meth:`export_state`, for fixture rollback."""
        return self.export_state()

    def restore(self, data: Any) -> dict[str, str]:
        """In-process alias of :meth:`import_state`, for fixture rollback."""
        return self.import_state(data)

    def _export(self) -> dict[str, Any]:
        stores = {name: export_store(getattr(self, name)) for name in self.stores}
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "fakeecs": __version__,
            "region": self.region,
            "clock": self.clock.to_dict(),
            "ids": self.ids.getstate(),
            "seq": self._seq,
            "transitions": dict(self.transitions),
            "heap": [[due, job_id] for due, job_id in self._heap],
            "stores": stores,
        }

    def _import(self, data: dict[str, Any]) -> None:
        """Swap in a checked export (its own, or one :func:`~.inputs.load_state` took):
        build every store first, then commit (all or nothing)."""
        new_transitions = self._checked_transitions(data)
        raw_stores = data.get("stores") or {}
        unknown = sorted(set(raw_stores) - set(self.stores))
        if unknown:
            raise Invalid(
                f"state.stores: unknown store(s) {', '.join(unknown)}; "
                f"known: {', '.join(self.stores)}",
                rule="state",
            )
        share = Strings().share
        built = {
            name: import_store(
                getattr(self, name), cls, raw_stores.get(name), f"state.stores.{name}", share
            )
            for name, cls in self.stores.items()
        }
        # -- commit (nothing below can fail) --
        for name, store in built.items():
            setattr(self, name, store)
        self._tracking = None
        self._commit_scalars(data, new_transitions)
        self._prune_tokens()

    def _checked_transitions(self, data: dict[str, Any]) -> dict[str, Any]:
        checked = dict(transitions.PROCESS_DEFAULTS)
        checked.update(self._check_transitions(data.get("transitions") or {}, "state.transitions"))
        return checked

    def _commit_scalars(self, data: dict[str, Any], new_transitions: dict[str, Any]) -> None:
        """Everything of a checked export but the stores: region, clock, ids, seq, heap."""
        self.region = data.get("region", self.region)
        clock = data["clock"]
        self.clock.set(
            now=clock["now"],
            mode=clock["mode"],
            speed=clock.get("speed", 1.0),
            auto=clock.get("auto", "off"),
        )
        self.ids.setstate(data["ids"])
        self._seq = data.get("seq", 0)
        self.transitions = new_transitions
        self._heap = [(float(due), job_id) for due, job_id in data.get("heap") or []]
        heapq.heapify(self._heap)

    def _prune_tokens(self) -> None:
        """Tokens are credentials, not state: keep those whose user and project still exist."""
        tokens = getattr(self, "tokens", None)
        if not isinstance(tokens, dict):
            return
        for token_id, record in list(tokens.items()):
            user = self.users.get(record.get("user_id"))
            if user is None or record.get("project_id") not in self.projects:
                del tokens[token_id]

    # -- seeding ---------------------------------------------------------------------------

    def seed(self, value: Any) -> dict[str, Any]:
        """Seed the id generator and the fault probability generator."""
        value = check_value(parse_seed, "seed", value)
        with self.lock:
            self.ids.reseed(value)
            self._fault_random.seed(value)
            return {"seed": value}
