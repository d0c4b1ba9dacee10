"""Reset, scenarios, state export and import, and seeding: the control plane's state room.

A reset goes back to a :class:`~fakeecs.model.undo.Baseline` (the cheap reset of
:mod:`fakeecs.model.undo`); an export is versioned JSON-friendly data walking
``self.stores`` (every registered store of every room), so rooms added later
round-trip without changes here.
"""
from __future__ import annotations

import heapq
import time
from typing import Any

from ... import __version__
from .. import transitions
from ..errors import Invalid
from ..ids import IdGenerator
from ..undo import Baseline, Strings, restore_touched
from .host import ControlHost
from .stores import export_store, import_store
from .timing import check_clock, is_number

STATE_FORMAT = "fakeecs-state"
STATE_VERSION = 1
STATE_KEYS = ("format", "version", "fakeecs", "region", "clock", "ids", "seq", "transitions",
              "heap", "stores")


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
        self.clock.set(now=now, mode=start["mode"], speed=start["speed"],
                       auto=start.get("auto", "off"))

    def _build(self, worlds: list[Any]) -> dict[str, Any]:
        """The export of a blank cloud with ``worlds`` applied; the state is left unchanged."""
        from ..world import apply_world

        saved, tokens = self._export(), self.tokens
        try:
            self._blank()
            for world in worlds:
                apply_world(self, world, record=False)
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
                    pinned = (self._start["clock"]["mode"] == "frozen"
                              or any((w.get("clock") or {}).get("now") is not None
                                     for w in worlds))
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
                getattr(getattr(self, name), "touched", None) is not None for name in self.stores):
            self._import(baseline.export)
            self._start_tracking(baseline)
            return
        identity = False
        for name, cls in self.stores.items():
            changed = restore_touched(getattr(self, name), cls, baseline.records.get(name, {}))
            identity = identity or (changed and name in ("users", "projects"))
        self._commit_scalars(baseline.export, check_clock(baseline.export["clock"]),
                             self._checked_transitions(baseline.export))
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
                apply_world(self, world, record=False)
            except Exception:
                self._import(saved)
                raise
            added = {name: len(getattr(self, name)) - count for name, count in before.items()
                     if len(getattr(self, name)) != count}
            return {"scenario": world.source, "added": added}

    # -- state export / import ---------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """The whole state as versioned, JSON-friendly data (a fresh copy)."""
        with self.lock:
            self.settle()
            return self._export()

    def import_state(self, data: Any) -> dict[str, str]:
        """Replace the whole state with an export; refused (Invalid) without changing anything."""
        with self.lock:
            self._import(data)
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

    def _import(self, data: Any) -> None:
        """Validate everything first, then swap it in (all or nothing)."""
        if not isinstance(data, dict):
            raise Invalid("state: must be a JSON object (an export of GET /_fakeecs/state)",
                          rule="state")
        if data.get("format") != STATE_FORMAT:
            raise Invalid(f"state.format: must be {STATE_FORMAT!r}, not {data.get('format')!r}",
                          rule="state")
        if data.get("version") != STATE_VERSION:
            raise Invalid(f"state.version: this fakeecs reads version {STATE_VERSION}, "
                          f"not {data.get('version')!r}", rule="state")
        unknown = sorted(set(data) - set(STATE_KEYS))
        if unknown:
            raise Invalid(f"state: unknown key(s) {', '.join(unknown)}", rule="state")
        region = data.get("region", self.region)
        if not isinstance(region, str) or not region:
            raise Invalid("state.region: must be a non-empty string", rule="state")
        clock = check_clock(data.get("clock"))
        ids = IdGenerator()
        try:
            ids.setstate(data["ids"])
        except (KeyError, TypeError, ValueError) as error:
            raise Invalid(f"state.ids: not a generator state ({error})", rule="state") from None
        seq = data.get("seq", 0)
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise Invalid("state.seq: must be an integer >= 0", rule="state")
        new_transitions = self._checked_transitions(data)
        heap = data.get("heap") or []
        if not isinstance(heap, list) or not all(
                isinstance(e, list) and len(e) == 2 and is_number(e[0]) and isinstance(e[1], str)
                for e in heap):
            raise Invalid("state.heap: must be a list of [due, job_id] pairs", rule="state")
        raw_stores = data.get("stores") or {}
        if not isinstance(raw_stores, dict):
            raise Invalid("state.stores: must be an object of stores", rule="state")
        unknown = sorted(set(raw_stores) - set(self.stores))
        if unknown:
            raise Invalid(f"state.stores: unknown store(s) {', '.join(unknown)}; "
                          f"known: {', '.join(self.stores)}", rule="state")
        share = Strings().share
        built = {name: import_store(getattr(self, name), cls, raw_stores.get(name),
                                    f"state.stores.{name}", share)
                 for name, cls in self.stores.items()}
        # -- commit (nothing below can fail) --
        for name, store in built.items():
            setattr(self, name, store)
        self._tracking = None
        self._commit_scalars(data, clock, new_transitions)
        self._prune_tokens()

    def _checked_transitions(self, data: dict[str, Any]) -> dict[str, Any]:
        checked = dict(transitions.PROCESS_DEFAULTS)
        checked.update(self._check_transitions(data.get("transitions") or {},
                                               "state.transitions"))
        return checked

    def _commit_scalars(self, data: dict[str, Any], clock: dict[str, Any],
                        new_transitions: dict[str, Any]) -> None:
        """Everything of a checked export but the stores: region, clock, ids, seq, heap."""
        self.region = data.get("region", self.region)
        self.clock.set(now=clock["now"], mode=clock["mode"], speed=clock["speed"],
                       auto=clock["auto"])
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
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise Invalid(f"seed: must be an integer or a string, not {value!r}", rule="seed")
        with self.lock:
            self.ids.reseed(value)
            self._fault_random.seed(value)
            return {"seed": value}
