"""Resources under the control plane: describe, advance one process, force a state.

Forcing moves along the shortest legal path of the kind's transition table
(:mod:`fakeecs.model.transitions`); a state the resource can never reach is refused.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .. import transitions
from ..errors import Conflict, Invalid, NotFound
from .host import ControlHost
from .inputs import ForceFields, check_value, load_force, parse_steps
from .timing import iso

#: the field that holds the state of each kind with a transition table
STATE_FIELD = {"server": "vm_state"}
#: fields a forced server state may set besides vm_state
SERVER_FORCE_FIELDS = ("vm_state", "task_state", "power_state", "fault", "locked")
#: kinds whose store name is not simply ``<kind>s``
KIND_STORES = {
    "server": "servers",
    "image": "images",
    "volume": "volumes",
    "snapshot": "snapshots",
    "job": "jobs",
    "flavor": "flavors",
    "availability_zone": "availability_zones",
    "project": "projects",
    "user": "users",
    "domain": "domains",
    "access_key": "access_keys",
}


class ResourceControl(ControlHost):
    """Describe, advance and force one resource."""

    def resource_kinds(self) -> dict[str, str]:
        kinds = dict(KIND_STORES)
        for name in self.stores:
            if name.endswith("s") and name[:-1] not in kinds:
                kinds[name[:-1]] = name
        return {kind: store for kind, store in kinds.items() if store in self.stores}

    def _resource(self, kind: str, resource_id: str) -> Any:
        kinds = self.resource_kinds()
        store = kinds.get(kind)
        if store is None:
            raise Invalid(
                f"unknown resource kind {kind!r}; known: {', '.join(sorted(kinds))}", rule="kind"
            )
        item = getattr(self, store).get(resource_id)
        if item is None:
            raise NotFound(kind, resource_id, f"no {kind} {resource_id}")
        return item

    def _pending_jobs(self, kind: str, resource_id: str) -> list[Any]:
        if kind == "job":
            job = self.jobs.get(resource_id)
            return [job] if job is not None else []
        direct = [j for j in self.jobs.values() if j.kind == kind and j.target_id == resource_id]
        related = [
            j
            for j in self.jobs.values()
            if j not in direct and resource_id in [v for v in j.data.values() if isinstance(v, str)]
        ]
        return direct + related

    def describe_resource(self, kind: str, resource_id: str) -> dict[str, Any]:
        """The state of one resource and the processes pending on it."""
        with self.lock:
            return self._describe(kind, resource_id)

    def _describe(self, kind: str, resource_id: str) -> dict[str, Any]:
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
            {
                "job_id": job.id,
                "process": job.process,
                "target": {"kind": job.kind, "id": job.target_id},
                "steps": list(job.steps),
                "due": iso(job.due) if job.due is not None else None,
                "manual": job.due is None,
            }
            for job in self._pending_jobs(kind, resource_id)
        ]
        return result

    def advance_resource(self, kind: str, resource_id: str, steps: Any = 1) -> dict[str, Any]:
        """Run the next ``steps`` step(s) of the process pending on one resource, now.

        ``steps`` may be ``"all"`` to run the process to its end.  Raises
        :class:`Conflict` when nothing is pending.
        """
        steps = check_value(parse_steps, "steps", steps)
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
                raise Conflict(
                    f"{kind} {resource_id} has no pending process to advance",
                    rule="nothing_pending",
                )
            result = self._describe(kind, resource_id)
            result["advanced"] = ran
            return result

    def force_state(
        self, kind: str, resource_id: str, checked: ForceFields | None = None, /, **given: Any
    ) -> dict[str, Any]:
        """Force a resource's state, moving along the shortest legal path of its table.

        A server takes ``vm_state``, ``task_state``, ``power_state``, ``fault`` (a
        message or ``{"code", "message", "details"}``) and ``locked``; other kinds
        take ``status``.  States the resource can never reach are refused.  The
        fields are ``checked`` (by :class:`~.inputs.ForceBody`) or given as keywords.
        """
        fields_ = (checked if checked is not None else load_force(given)).given
        with self.lock:
            self.settle()
            item = self._resource(kind, resource_id)
            table = transitions.TABLES.get(kind)
            state_field = STATE_FIELD.get(kind, "status")
            allowed = SERVER_FORCE_FIELDS if kind == "server" else (state_field,)
            if table is None:
                raise Invalid(
                    f"a {kind} has no state table; kinds with states: "
                    f"{', '.join(transitions.TABLES)}",
                    rule="kind",
                )
            if not fields_:
                raise Invalid(f"give at least one of: {', '.join(allowed)}", rule="force")
            unknown = sorted(set(fields_) - set(allowed))
            if unknown:
                raise Invalid(
                    f"unknown field(s) {', '.join(unknown)} for a {kind}; "
                    f"allowed: {', '.join(allowed)}",
                    rule="force",
                )
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

    def _state_path(
        self, kind: str, table: dict[str, set[str]], current: str, target: Any
    ) -> list[str]:
        if not isinstance(target, str) or target not in table:
            raise Invalid(
                f"{target!r} is not a {kind} state; known: {', '.join(table)}", rule="state"
            )
        if target == "deleted":
            raise Invalid(
                f"a {kind} cannot be forced to 'deleted'; delete it through its API", rule="state"
            )
        if target == current:
            return []
        previous: dict[str, str | None] = {current: None}
        queue = deque([current])
        while queue:
            state = queue.popleft()
            for following in sorted(table.get(state, ())):
                if following not in previous:
                    previous[following] = state
                    queue.append(following)
        if target not in previous:
            raise Invalid(
                f"a {kind} in {current!r} can never become {target!r}",
                rule="state",
                current=current,
                target=target,
            )
        path: list[str] = [target]
        while (step := previous[path[-1]]) != current and step is not None:
            path.append(step)
        return list(reversed(path))

    def _move(self, kind: str, item: Any, state_field: str, state: str) -> None:
        transitions.check(kind, getattr(item, state_field), state)
        setattr(item, state_field, state)
        if hasattr(item, "updated_at"):
            item.updated_at = self.now()

    def _force_server(self, server: Any, path: list[str], fields_: dict[str, Any]) -> None:
        task_given = "task_state" in fields_
        task = fields_.get("task_state")
        if task_given and task not in transitions.SERVER_TASK_STATES:
            raise Invalid(
                f"task_state: {task!r} is not a task state; known: "
                f"{', '.join(str(t) for t in transitions.SERVER_TASK_STATES)}",
                rule="state",
            )
        power = fields_.get("power_state")
        if power is not None:
            if isinstance(power, str) and power.upper() in transitions.POWER_STATES:
                power = transitions.POWER_STATES[power.upper()]
            if power not in transitions.POWER_STATES.values() or isinstance(power, bool):
                raise Invalid(
                    f"power_state: must be one of {transitions.POWER_STATES}, not "
                    f"{fields_['power_state']!r}",
                    rule="state",
                )
        fault = fields_.get("fault")
        if fault is not None:
            fault = dict(fault, created=self.now())
        locked = fields_.get("locked")
        # -- apply --
        helper = getattr(self, "force_server_error", None)
        if (
            path
            and path[-1] == "error"
            and helper is not None
            and transitions.can_move("server", server.vm_state, "error")
        ):
            # the storage room's failure: stops a build, abandons a snapshot in progress
            message = (fault or {}).get("message") or "forced into error by fakeecs"
            helper(server.id, message, code=(fault or {}).get("code", 500))
            path = []
            if fault is not None:
                fault["created"] = (
                    server.fault.get("created", self.now()) if server.fault else self.now()
                )
        for state in path:
            self.set_server_state(server, state, task_state=None)
            if state == "active" and server.launched_at is None:
                server.launched_at = self.now()
        if server.vm_state == "error" and fault is None and path:
            fault = {
                "code": 500,
                "message": "forced into error by fakeecs",
                "details": "",
                "created": self.now(),
            }
        if fault is not None:
            server.fault = fault
        if task_given:
            server.task_state = task
        if power is not None:
            server.power_state = power
        if locked is not None:
            server.locked = locked
        server.updated_at = self.now()
