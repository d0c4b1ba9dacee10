"""The control plane as plain Python: reset, scenarios, state, time, transitions, forced
states, fault rules, the request journal and seeding.

:class:`ControlMixin` is the leftmost base of :class:`~fakeecs.model.Cloud`; the
HTTP routes under ``/_fakeecs/`` and the in-process handle are thin layers over
these methods::

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

State export walks ``self.stores`` (every registered store of every room), so
rooms added later round-trip without changes here.
"""
import copy
import functools
import heapq
import math
import random
import time
from collections import deque
from dataclasses import MISSING, fields, is_dataclass

from .. import __version__
from . import transitions
from .clock import AUTO_FLAVOURS, VirtualClock, isoformat, parse_time
from .entities import AccessKey, Entity
from .errors import Conflict, Invalid, NotFound
from .faults import FaultSet, Journal, RequestInfo
from .ids import IdGenerator
from .store import Collection, TrackedDict
from .undo import Baseline, Strings, build, plain, record, restore_touched

STATE_FORMAT = "fakeecs-state"
STATE_VERSION = 1
STATE_KEYS = ("format", "version", "fakeecs", "region", "clock", "ids", "seq", "transitions",
              "heap", "stores")

#: the field that holds the state of each kind with a transition table
STATE_FIELD = {"server": "vm_state"}
#: fields a forced server state may set besides vm_state
SERVER_FORCE_FIELDS = ("vm_state", "task_state", "power_state", "fault", "locked")
#: kinds whose store name is not simply ``<kind>s``
KIND_STORES = {"server": "servers", "image": "images", "volume": "volumes",
               "snapshot": "snapshots", "job": "jobs", "flavor": "flavors",
               "availability_zone": "availability_zones", "project": "projects",
               "user": "users", "domain": "domains", "access_key": "access_keys"}

_NO_DEFAULT = object()


def _iso(epoch):
    return isoformat(epoch, micro=True) + "Z"


def _is_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


class ControlMixin:
    """The control room of :class:`~fakeecs.model.Cloud`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fault_set = FaultSet()
        self.journal = Journal()
        self._fault_random = random.Random(self.ids.seed)
        self._start = {"ids": self.ids.getstate(), "clock": self.clock.to_dict(),
                       "region": self.region}
        #: the worlds applied before the baseline was fixed (see apply_world)
        self._start_worlds = []
        self._start_pinned = False
        #: (export, pinned) of the starting state, built on first reset or by mark_baseline
        self._baseline = None
        #: tuple of scenario keys -> (export, pinned)
        self._reset_cache = {}
        #: the Baseline the tracked stores started from (None: a reset imports in full)
        self._tracking = None

    def _init_stores(self):
        super()._init_stores()
        self.access_keys = {}
        self.register_store("access_keys", AccessKey)

    # -- baseline and reset ------------------------------------------------------

    def note_start_world(self, world):
        """Remember a world applied while the cloud is being built (apply_world calls this)."""
        if self._baseline is None:
            self._start_worlds.append(world)
            if (world.get("clock") or {}).get("now") is not None:
                self._start_pinned = True

    def mark_baseline(self):
        """Make the current state the one :meth:`reset` goes back to."""
        with self.lock:
            self._baseline = Baseline(self._export(), self.clock.mode == "frozen")
            self._start_worlds = []
            self._start_tracking(self._baseline)

    def _blank(self):
        """The empty cloud of construction time: no stores, first ids, first clock."""
        self._init_stores()
        self._tracking = None
        self.region = self._start["region"]
        self.ids.setstate(self._start["ids"])
        start = self._start["clock"]
        now = start["now"] if start["mode"] == "frozen" else time.time()
        self.clock.set(now=now, mode=start["mode"], speed=start["speed"],
                       auto=start.get("auto", "off"))

    def _build(self, worlds):
        """The export of a blank cloud with ``worlds`` applied; the state is left unchanged."""
        from .world import apply_world

        saved, tokens = self._export(), self.tokens
        try:
            self._blank()
            for world in worlds:
                apply_world(self, world, record=False)
            return self._export()
        finally:
            self.tokens = tokens
            self._import(saved)

    def reset(self, scenario=None):
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
                snapshot, pinned = self._baseline
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
                              or any((w.get("clock") or {}).get("now") is not None for w in worlds))
                    cached = Baseline(self._build(worlds), pinned)
                    if None not in key:
                        self._reset_cache[key] = cached
                snapshot, pinned = cached
                names = [w.source for w in worlds]
            self._restore(self._baseline if scenario is None else cached)
            if self.clock.mode == "realtime" and not pinned:
                self.clock.set(now=time.time())
            self._fault_set.clear()
            self.journal.clear()
            return {"status": "reset", "scenarios": names}

    def _restore(self, baseline):
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
        self._commit_scalars(baseline.export, _check_clock(baseline.export["clock"]),
                             self._checked_transitions(baseline.export))
        if identity:
            self._prune_tokens()

    def _start_tracking(self, baseline):
        """The live stores equal ``baseline``: record what changes from here."""
        for name in self.stores:
            store = getattr(self, name)
            if hasattr(store, "track"):  # a store that cannot track makes every reset whole
                store.track()
        self._tracking = baseline

    # -- scenarios ---------------------------------------------------------------

    def _read_world(self, item):
        from . import scenario as scenarios

        try:
            if isinstance(item, dict):
                return scenarios.validate(item, source="<inline>")
            if isinstance(item, str):
                return scenarios.load(item)
        except scenarios.ScenarioError as error:
            raise Invalid(str(error), rule="scenario") from None
        except FileNotFoundError as error:
            raise Invalid(str(error), rule="scenario") from None
        raise Invalid("scenario: a name, a path or an inline scenario object", rule="scenario")

    def load_scenario(self, scenario):
        """Add the world of ``scenario`` (name, path or dict) on top of the current state.

        All or nothing: a scenario that fails half-way leaves the state as it was.
        Returns ``{"scenario": source, "added": {store: count}}``.
        """
        from .world import apply_world

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

    def export_state(self):
        """The whole state as versioned, JSON-friendly data (a fresh copy)."""
        with self.lock:
            self.settle()
            return self._export()

    def import_state(self, data):
        """Replace the whole state with an export; refused (Invalid) without changing anything."""
        with self.lock:
            self._import(data)
            return {"status": "imported"}

    #: in-process aliases for fixture rollback
    def snapshot(self):
        return self.export_state()

    def restore(self, data):
        return self.import_state(data)

    def _export(self):
        stores = {}
        for name in self.stores:
            stores[name] = _export_store(getattr(self, name))
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

    def _import(self, data):
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
        clock = _check_clock(data.get("clock"))
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
                isinstance(e, list) and len(e) == 2 and _is_number(e[0]) and isinstance(e[1], str)
                for e in heap):
            raise Invalid("state.heap: must be a list of [due, job_id] pairs", rule="state")
        raw_stores = data.get("stores") or {}
        if not isinstance(raw_stores, dict):
            raise Invalid("state.stores: must be an object of stores", rule="state")
        unknown = sorted(set(raw_stores) - set(self.stores))
        if unknown:
            raise Invalid(f"state.stores: unknown store(s) {', '.join(unknown)}; "
                          f"known: {', '.join(self.stores)}", rule="state")
        built = {}
        share = Strings().share
        for name, cls in self.stores.items():
            built[name] = _import_store(getattr(self, name), cls, raw_stores.get(name),
                                        f"state.stores.{name}", share)
        # -- commit (nothing below can fail) --
        for name, store in built.items():
            setattr(self, name, store)
        self._tracking = None
        self._commit_scalars(data, clock, new_transitions)
        self._prune_tokens()

    def _checked_transitions(self, data):
        checked = dict(transitions.PROCESS_DEFAULTS)
        checked.update(self._check_transitions(data.get("transitions") or {}, "state.transitions"))
        return checked

    def _commit_scalars(self, data, clock, new_transitions):
        """Everything of a checked export but the stores: region, clock, ids, seq, heap."""
        self.region = data.get("region", self.region)
        self.clock.set(now=clock["now"], mode=clock["mode"], speed=clock["speed"],
                       auto=clock["auto"])
        self.ids.setstate(data["ids"])
        self._seq = data.get("seq", 0)
        self.transitions = new_transitions
        self._heap = [(float(due), job_id) for due, job_id in data.get("heap") or []]
        heapq.heapify(self._heap)

    def _prune_tokens(self):
        """Tokens are credentials, not state: keep those whose user and project still exist."""
        tokens = getattr(self, "tokens", None)
        if not isinstance(tokens, dict):
            return
        for token_id, record in list(tokens.items()):
            user = self.users.get(record.get("user_id"))
            if user is None or record.get("project_id") not in self.projects:
                del tokens[token_id]

    # -- the virtual clock ---------------------------------------------------------

    def get_clock(self):
        """``{mode, speed, now, epoch}``, and ``auto`` when reads move the clock."""
        with self.lock:
            now = self.clock.now()
            state = {"mode": self.clock.mode, "speed": self.clock.speed, "now": _iso(now),
                     "epoch": now}
            if self.clock.auto != "off":
                state["auto"] = self.clock.auto
            return state

    def set_clock(self, *, mode=None, now=None, speed=None, auto=None):
        """Set the mode (``realtime``/``frozen``), speed, time and/or auto flavour.

        Moving the time forward runs every transition that falls due, in order.
        ``auto`` (``off``, ``step``, ``finish``) says how reads move the clock
        (:mod:`fakeecs.model.autoclock`).
        """
        if mode is not None and mode not in VirtualClock.MODES:
            raise Invalid(f"mode: must be one of {', '.join(VirtualClock.MODES)}, not {mode!r}",
                          rule="clock")
        if auto is not None and auto not in AUTO_FLAVOURS:
            raise Invalid(f"auto: must be one of {', '.join(AUTO_FLAVOURS)}, not {auto!r}",
                          rule="clock")
        if speed is not None and (not _is_number(speed) or speed <= 0):
            raise Invalid(f"speed: must be a number > 0, not {speed!r}", rule="clock")
        target = None
        if now is not None:
            try:
                target = parse_time(now)
            except (ValueError, TypeError, OverflowError):
                raise Invalid(f"now: not an ISO-8601 time or epoch seconds: {now!r}",
                              rule="clock") from None
        with self.lock:
            self.settle()
            if target is not None:
                if target >= self.clock.now():
                    self._advance_to(target)
                else:
                    self.clock.set(now=target)
            self.clock.set(now=target, mode=mode, speed=speed, auto=auto)
            self.settle()
            return self.get_clock()

    def advance_clock(self, seconds):
        """Move virtual time forward, running each due transition at its own time."""
        if not _is_number(seconds) or seconds < 0:
            raise Invalid(f"seconds: must be a number >= 0, not {seconds!r}", rule="clock")
        with self.lock:
            self.settle()
            self._advance_to(self.clock.now() + seconds)
            return self.get_clock()

    def _advance_to(self, target):
        while self._heap and self._heap[0][0] <= target:
            due = self._heap[0][0]
            if due > self.clock.now():
                self.clock.set(now=due)
            self.settle()
        if target > self.clock.now():
            self.clock.set(now=target)

    def charge_latency(self, latency_ms):
        """Injected latency: charged to a frozen clock (returns 0), else seconds to sleep."""
        if not latency_ms:
            return 0.0
        with self.lock:
            if self.clock.mode == "frozen":
                self._advance_to(self.clock.now() + latency_ms / 1000.0)
                return 0.0
        return latency_ms / 1000.0

    # -- transitions ---------------------------------------------------------------

    def known_processes(self):
        return list(dict.fromkeys(list(transitions.PROCESS_DEFAULTS) + list(self.transitions)))

    def get_transitions(self):
        with self.lock:
            return dict(self.transitions)

    def _check_transitions(self, mapping, where="transitions"):
        if not isinstance(mapping, dict):
            raise Invalid(f"{where}: must be an object of process: seconds or \"manual\"",
                          rule="transitions")
        known = self.known_processes()
        unknown = sorted(k for k in mapping if k not in known)
        if unknown:
            raise Invalid(f"{where}: unknown process(es) {', '.join(map(str, unknown))}; "
                          f"known: {', '.join(known)}", rule="transitions")
        checked = {}
        for name, value in mapping.items():
            if value is None:
                checked[name] = transitions.PROCESS_DEFAULTS.get(name, self.transitions.get(name))
            elif value == "immediate":
                checked[name] = 0.0
            elif value == "manual":
                checked[name] = "manual"
            elif _is_number(value) and value >= 0:
                checked[name] = float(value)
            else:
                raise Invalid(f"{where}.{name}: must be seconds >= 0, \"manual\", \"immediate\" "
                              f"or null (the default), not {value!r}", rule="transitions")
        return checked

    def set_transitions(self, mapping, *, replace=False):
        """Set process durations (seconds, ``"manual"``, ``"immediate"``, None = default).

        Pending processes whose duration changes are rescheduled: what remains of
        them takes the new duration from now (or waits, when ``manual``).
        """
        with self.lock:
            checked = self._check_transitions(mapping)
            self.settle()
            new = dict(transitions.PROCESS_DEFAULTS) if replace else dict(self.transitions)
            new.update(checked)
            changed = [name for name in new if new[name] != self.transitions.get(name)]
            self.transitions = new
            for name in changed:
                self._reschedule(name)
            return dict(self.transitions)

    def _reschedule(self, process):
        duration = self.transitions[process]
        now = self.now()
        for job in [j for j in self.jobs.values() if j.process == process]:
            if duration == "manual":
                job.due = None
                job.interval = 0.0
                continue
            job.interval = float(duration) / max(len(job.steps), 1)
            if job.interval <= 0:
                job.due = None
                while job.id in self.jobs:
                    self.run_step(job, now)
                continue
            job.due = now + job.interval
            heapq.heappush(self._heap, (job.due, job.id))

    # -- resources: describe, advance, force ----------------------------------------

    def resource_kinds(self):
        kinds = dict(KIND_STORES)
        for name in self.stores:
            if name.endswith("s") and name[:-1] not in kinds:
                kinds[name[:-1]] = name
        return {kind: store for kind, store in kinds.items() if store in self.stores}

    def _resource(self, kind, resource_id):
        kinds = self.resource_kinds()
        store = kinds.get(kind)
        if store is None:
            raise Invalid(f"unknown resource kind {kind!r}; known: {', '.join(sorted(kinds))}",
                          rule="kind")
        item = getattr(self, store).get(resource_id)
        if item is None:
            raise NotFound(kind, resource_id, f"no {kind} {resource_id}")
        return item

    def _pending_jobs(self, kind, resource_id):
        if kind == "job":
            job = self.jobs.get(resource_id)
            return [job] if job is not None else []
        direct = [j for j in self.jobs.values() if j.kind == kind and j.target_id == resource_id]
        related = [j for j in self.jobs.values() if j not in direct
                   and resource_id in [v for v in j.data.values() if isinstance(v, str)]]
        return direct + related

    def describe_resource(self, kind, resource_id):
        """The state of one resource and the processes pending on it."""
        with self.lock:
            return self._describe(kind, resource_id)

    def _describe(self, kind, resource_id):
        store = self.resource_kinds().get(kind)
        item = getattr(self, store).get(resource_id) if store else None
        result = {"kind": kind, "id": resource_id, "exists": item is not None}
        if item is not None:
            state = {}
            for name in ("vm_state", "task_state", "power_state", "status", "locked"):
                if hasattr(item, name):
                    state[name] = getattr(item, name)
            if kind == "server":
                state["status"] = transitions.server_status(item.vm_state, item.task_state)
                if item.fault:
                    state["fault"] = item.fault
            result["state"] = state
        result["pending"] = [
            {"job_id": job.id, "process": job.process, "target": {"kind": job.kind, "id": job.target_id},
             "steps": list(job.steps), "due": _iso(job.due) if job.due is not None else None,
             "manual": job.due is None}
            for job in self._pending_jobs(kind, resource_id)]
        return result

    def advance_resource(self, kind, resource_id, steps=1):
        """Run the next ``steps`` step(s) of the process pending on one resource, now.

        ``steps`` may be ``"all"`` to run the process to its end.  Raises
        :class:`Conflict` when nothing is pending.
        """
        if steps != "all" and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise Invalid(f"steps: must be an integer >= 1 or \"all\", not {steps!r}", rule="steps")
        with self.lock:
            self.settle()
            if kind != "job":
                self._resource(kind, resource_id)
            ran = 0
            while steps == "all" or ran < steps:
                jobs = self._pending_jobs(kind, resource_id)
                if not jobs:
                    break
                self.run_step(jobs[0], self.now())
                ran += 1
                if steps == "all" and ran > 10000:
                    break
            if ran == 0:
                if kind == "job":
                    raise NotFound("job", resource_id, f"no pending job {resource_id}")
                raise Conflict(f"{kind} {resource_id} has no pending process to advance",
                               rule="nothing_pending")
            result = self._describe(kind, resource_id)
            result["advanced"] = ran
            return result

    def force_state(self, kind, resource_id, **fields_):
        """Force a resource's state, moving along the shortest legal path of its table.

        A server takes ``vm_state``, ``task_state``, ``power_state``, ``fault`` (a
        message or ``{"code", "message", "details"}``) and ``locked``; other kinds
        take ``status``.  States the resource can never reach are refused.
        """
        with self.lock:
            self.settle()
            item = self._resource(kind, resource_id)
            table = transitions.TABLES.get(kind)
            state_field = STATE_FIELD.get(kind, "status")
            allowed = SERVER_FORCE_FIELDS if kind == "server" else (state_field,)
            if table is None:
                raise Invalid(f"a {kind} has no state table; kinds with states: "
                              f"{', '.join(transitions.TABLES)}", rule="kind")
            if not fields_:
                raise Invalid(f"give at least one of: {', '.join(allowed)}", rule="force")
            unknown = sorted(set(fields_) - set(allowed))
            if unknown:
                raise Invalid(f"unknown field(s) {', '.join(unknown)} for a {kind}; "
                              f"allowed: {', '.join(allowed)}", rule="force")
            path = []
            target = fields_.get(state_field)
            if target is not None:
                path = self._state_path(kind, table, getattr(item, state_field), target)
            if kind == "server":
                self._force_server(item, path, fields_)
            else:
                for state in path:
                    self._move(kind, item, state_field, state)
            return self._describe(kind, resource_id)

    def _state_path(self, kind, table, current, target):
        if not isinstance(target, str) or target not in table:
            raise Invalid(f"{target!r} is not a {kind} state; known: {', '.join(table)}",
                          rule="state")
        if target == "deleted":
            raise Invalid(f"a {kind} cannot be forced to 'deleted'; delete it through its API",
                          rule="state")
        if target == current:
            return []
        previous = {current: None}
        queue = deque([current])
        while queue:
            state = queue.popleft()
            for following in sorted(table.get(state, ())):
                if following not in previous:
                    previous[following] = state
                    queue.append(following)
        if target not in previous:
            raise Invalid(f"a {kind} in {current!r} can never become {target!r}", rule="state",
                          current=current, target=target)
        path = [target]
        while previous[path[-1]] != current:
            path.append(previous[path[-1]])
        return list(reversed(path))

    def _move(self, kind, item, state_field, state):
        transitions.check(kind, getattr(item, state_field), state)
        setattr(item, state_field, state)
        if hasattr(item, "updated_at"):
            item.updated_at = self.now()

    def _force_server(self, server, path, fields_):
        task_given = "task_state" in fields_
        task = fields_.get("task_state")
        if task_given and task not in transitions.SERVER_TASK_STATES:
            raise Invalid(f"task_state: {task!r} is not a task state; known: "
                          f"{', '.join(str(t) for t in transitions.SERVER_TASK_STATES)}",
                          rule="state")
        power = fields_.get("power_state")
        if power is not None:
            if isinstance(power, str) and power.upper() in transitions.POWER_STATES:
                power = transitions.POWER_STATES[power.upper()]
            if power not in transitions.POWER_STATES.values() or isinstance(power, bool):
                raise Invalid(f"power_state: must be one of {transitions.POWER_STATES}, not "
                              f"{fields_['power_state']!r}", rule="state")
        fault = fields_.get("fault")
        if fault is not None:
            if isinstance(fault, str):
                fault = {"code": 500, "message": fault, "details": ""}
            elif isinstance(fault, dict) and isinstance(fault.get("message"), str):
                extra = set(fault) - {"code", "message", "details"}
                code = fault.get("code", 500)
                if extra or not isinstance(code, int) or isinstance(code, bool):
                    raise Invalid("fault: a message, or {code, message, details}", rule="state")
                fault = {"code": code, "message": fault["message"],
                         "details": str(fault.get("details", ""))}
            else:
                raise Invalid("fault: a message, or {code, message, details}", rule="state")
            fault["created"] = self.now()
        locked = fields_.get("locked")
        if locked is not None and not isinstance(locked, bool):
            raise Invalid("locked: must be true or false", rule="state")
        # -- apply --
        helper = getattr(self, "force_server_error", None)
        if path and path[-1] == "error" and helper is not None and transitions.can_move(
                "server", server.vm_state, "error"):
            # the storage room's failure: stops a build, abandons a snapshot in progress
            message = (fault or {}).get("message") or "forced into error by fakeecs"
            helper(server.id, message, code=(fault or {}).get("code", 500))
            path = []
            if fault is not None:
                fault["created"] = server.fault.get("created", self.now()) if server.fault else self.now()
        for state in path:
            self.set_server_state(server, state, task_state=None)
            if state == "active" and server.launched_at is None:
                server.launched_at = self.now()
        if server.vm_state == "error" and fault is None and path:
            fault = {"code": 500, "message": "forced into error by fakeecs", "details": "",
                     "created": self.now()}
        if fault is not None:
            server.fault = fault
        if task_given:
            server.task_state = task
        if power is not None:
            server.power_state = power
        if locked is not None:
            server.locked = locked
        server.updated_at = self.now()

    # -- faults ------------------------------------------------------------------------

    @property
    def faults(self):
        """The fault rules, in the order they are tried."""
        with self.lock:
            return list(self._fault_set.rules)

    def add_fault(self, spec=None, **kwargs):
        """Add a fault rule (a dict, or keyword arguments); returns the :class:`FaultRule`."""
        with self.lock:
            return self._fault_set.add(dict(spec or {}, **kwargs))

    def get_fault(self, rule_id):
        with self.lock:
            return self._fault_set.get(rule_id)

    def remove_fault(self, rule_id):
        with self.lock:
            return self._fault_set.remove(rule_id)

    def clear_faults(self):
        with self.lock:
            self._fault_set.clear()

    def match_fault(self, request):
        """The rule that fires for ``request`` (a :class:`RequestInfo` or dict, or a callable
        building one, called only when rules are set), or None."""
        if not self._fault_set.rules:  # no rule, no cost
            return None
        if callable(request):
            request = request()
        if isinstance(request, dict):
            request = RequestInfo(**request)
        with self.lock:
            return self._fault_set.evaluate(request, self._fault_random)

    # -- request journal -------------------------------------------------------------------

    def list_requests(self, **filters):
        """``{"requests": [...], "dropped": N}`` from the journal (filters: method, path glob,
        status, action, project, since, limit)."""
        return {"requests": self.journal.find(**filters), "dropped": self.journal.dropped}

    def clear_requests(self):
        self.journal.clear()

    # -- seeding ---------------------------------------------------------------------------

    def seed(self, value):
        """Seed the id generator and the fault probability generator."""
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise Invalid(f"seed: must be an integer or a string, not {value!r}", rule="seed")
        with self.lock:
            self.ids.reseed(value)
            self._fault_random.seed(value)
            return {"seed": value}


# -- generic store (de)serialisation ------------------------------------------------------

def _dump(value):
    if type(value).to_dict is Entity.to_dict:
        return record(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return plain(value)


def _export_store(store):
    if isinstance(store, Collection):
        return [_dump(item) for item in store.values_untracked()]
    if isinstance(store, TrackedDict):
        return {key: _dump(value) for key, value in store.items_untracked()}
    if isinstance(store, dict):
        return {key: _dump(value) for key, value in store.items()}
    if isinstance(store, list):
        return [_dump(item) for item in store]
    raise TypeError(f"cannot export a store of type {type(store).__name__}")


@functools.lru_cache(maxsize=None)
def _required_fields(cls):
    if not is_dataclass(cls):
        return []
    return [f.name for f in fields(cls)
            if f.default is MISSING and f.default_factory is MISSING]


def _load(cls, value, where, share=None):
    if cls is None or cls is dict or not hasattr(cls, "from_dict"):
        return plain(value, share)
    if not isinstance(value, dict):
        raise Invalid(f"{where}: must be an object", rule="state")
    missing = [name for name in _required_fields(cls) if name not in value]
    if missing:
        raise Invalid(f"{where}: missing field(s) {', '.join(missing)}", rule="state")
    try:
        if cls.from_dict.__func__ is Entity.from_dict.__func__:
            return build(cls, value, share)
        return cls.from_dict(copy.deepcopy(value))
    except (TypeError, ValueError) as error:
        raise Invalid(f"{where}: {error}", rule="state") from None


def _import_store(current, cls, raw, where, share=None):
    if isinstance(current, Collection):
        raw = [] if raw is None else raw
        if not isinstance(raw, list):
            raise Invalid(f"{where}: must be a list", rule="state")
        store = Collection(cls)
        for index, value in enumerate(raw):
            item = _load(cls, value, f"{where}[{index}]", share)
            if item.id in store:
                raise Invalid(f"{where}[{index}]: duplicate id {item.id}", rule="state")
            if not isinstance(getattr(item, "seq", None), int):
                raise Invalid(f"{where}[{index}]: seq must be an integer", rule="state")
            store.add(item)
        return store
    if isinstance(current, dict):
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            raise Invalid(f"{where}: must be an object", rule="state")
        loaded = {key: _load(cls, value, f"{where}.{key}", share) for key, value in raw.items()}
        return TrackedDict(loaded) if isinstance(current, TrackedDict) else loaded
    if isinstance(current, list):
        raw = [] if raw is None else raw
        if not isinstance(raw, list):
            raise Invalid(f"{where}: must be a list", rule="state")
        return [_load(cls, value, f"{where}[{i}]", share) for i, value in enumerate(raw)]
    raise Invalid(f"{where}: cannot import a store of type {type(current).__name__}", rule="state")


def _check_clock(clock):
    if not isinstance(clock, dict):
        raise Invalid("state.clock: must be an object {mode, now, speed}", rule="state")
    mode = clock.get("mode")
    if mode not in VirtualClock.MODES:
        raise Invalid(f"state.clock.mode: must be one of {', '.join(VirtualClock.MODES)}",
                      rule="state")
    if not _is_number(clock.get("now")):
        raise Invalid("state.clock.now: must be epoch seconds", rule="state")
    speed = clock.get("speed", 1.0)
    if not _is_number(speed) or speed <= 0:
        raise Invalid("state.clock.speed: must be a number > 0", rule="state")
    auto = clock.get("auto", "off")
    if auto not in AUTO_FLAVOURS:
        raise Invalid(f"state.clock.auto: must be one of {', '.join(AUTO_FLAVOURS)}", rule="state")
    return {"mode": mode, "now": clock["now"], "speed": speed, "auto": auto}
