"""The control plane's route table: one row per operation, shared by every caller.

Each :class:`Operation` names its HTTP method and path under ``/_fakeecs``, the
schemas of its body and query (:mod:`fakeecs.model.control.inputs`), how it
calls the model with the loaded (typed) values, and how a handle's Python call
becomes a request (:attr:`Operation.request`).  The HTTP routes
(:mod:`.routes`), the OpenAPI document (:mod:`.openapi`), the in-process
:class:`~fakeecs.handle.FakeCloud` and :class:`~fakeecs.handle.RemoteFakeCloud`
all read this table, so an input is checked by the same schema whichever way
it comes in.  No Flask here.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

from ... import __version__
from ...model.control import inputs
from ...model.control.inputs import load

#: the control plane's URL prefix
PREFIX = "/_fakeecs"


@dataclass
class Call:
    """One call of an operation, shaped as a request: path parameters, JSON body, query."""

    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    query: dict[str, Any] | None = None


#: ``run(model, params, body, query)``: the model call, with the loaded body and query
Runner = Callable[[Any, dict[str, str], Any, Any], Any]


@dataclass(frozen=True)
class Operation:
    """One control operation: its route, its schemas and the model call."""

    name: str
    method: str
    #: Flask rule under PREFIX, e.g. ``/faults/<rule_id>``
    path: str
    summary: str
    run: Runner
    body: Schema | None = None
    query: Schema | None = None
    status: int = 200
    #: an empty body is allowed (and loaded as ``{}``)
    body_optional: bool = False
    #: a handle's arguments as a :class:`Call` (default: path parameters in order)
    request: Callable[..., Call] | None = None
    #: the prefix of the body's keys in error messages (``state.version: ...``)
    where: str = ""

    @property
    def params(self) -> list[str]:
        """The path parameters, in order."""
        return [part[1:-1] for part in self.path.split("/") if part.startswith("<")]

    def url(self, params: dict[str, str]) -> str:
        """The path under PREFIX with ``params`` filled in (quoted)."""
        from urllib.parse import quote

        path = self.path
        for name in self.params:
            path = path.replace(f"<{name}>", quote(str(params[name]), safe=""))
        return path

    def call(self, *args: Any, **kwargs: Any) -> Call:
        """A handle's Python call as a :class:`Call`."""
        if self.request is not None:
            return self.request(*args, **kwargs)
        return Call(params=dict(zip(self.params, args, strict=False)))

    def invoke(self, model: Any, call: Call) -> Any:
        """Check the body and query with this operation's schemas, then call the model."""
        body = None
        if self.body is not None:
            raw = call.body
            if raw is None and self.body_optional:
                raw = {}
            body = load(self.body, raw, self.where)
        query = load(self.query, call.query or {}) if self.query is not None else None
        return self.run(model, call.params, body, query)


# -- how handle calls become requests ------------------------------------------------------------


def _reset_request(scenario: Any = None) -> Call:
    if scenario is None:
        return Call()
    items = scenario if isinstance(scenario, (list, tuple)) else [scenario]
    return Call(body={"scenario": list(items)})


def _scenario_request(scenario: Any) -> Call:
    if isinstance(scenario, dict):
        return Call(body={"scenario": scenario})
    if isinstance(scenario, str) and (
        "/" in scenario or scenario.endswith((".yaml", ".yml")) or os.path.isfile(scenario)
    ):
        return Call(body={"path": scenario})
    return Call(body={"name": scenario})


def _time(value: Any) -> Any:
    """A datetime as ISO-8601 (what the clock body takes); other values as given."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    return value


def _clock_request(**options: Any) -> Call:
    body = {key: value for key, value in options.items() if value is not None}
    if "now" in body:
        body["now"] = _time(body["now"])
    return Call(body=body)


def _transitions_request(mapping: Any, replace: bool = False) -> Call:
    return Call(body=dict(mapping), query={"replace": "true"} if replace else None)


def _advance_request(kind: str, resource_id: str, steps: Any = 1) -> Call:
    return Call(params={"kind": kind, "resource_id": resource_id}, body={"steps": steps})


def _force_request(kind: str, resource_id: str, **fields: Any) -> Call:
    return Call(params={"kind": kind, "resource_id": resource_id}, body=fields)


# -- the model calls ---------------------------------------------------------------------------


def _describe(model: Any, params: dict[str, str], body: Any, query: Any) -> Any:
    kind, resource_id = params["kind"], params["resource_id"]
    result = model.describe_resource(kind, resource_id)
    if not result["exists"] and not result["pending"]:
        model._resource(kind, resource_id)  # raises the right 400/404
    return result


def _set_clock(model: Any, params: dict[str, str], body: inputs.ClockSettings, query: Any) -> Any:
    return model.set_clock(body)


def _clear_faults(model: Any, params: dict[str, str], body: Any, query: Any) -> Any:
    removed = [rule.id for rule in model.faults]
    model.clear_faults()
    return {"deleted": removed}


def _clear_requests(model: Any, params: dict[str, str], body: Any, query: Any) -> Any:
    count = len(model.journal)
    model.clear_requests()
    return {"cleared": count}


def _list_scenarios(model: Any, params: dict[str, str], body: Any, query: Any) -> Any:
    from ...model import scenario

    return {"scenarios": scenario.available()}


OPERATIONS_LIST = [
    Operation(
        "health",
        "GET",
        "/health",
        "Liveness and version",
        lambda m, p, b, q: {"status": "ok", "version": __version__, "region": m.region},
    ),
    Operation(
        "reset",
        "POST",
        "/reset",
        "Back to the starting scenario(s), or start over from another",
        lambda m, p, b, q: m.reset(b),
        body=inputs.ResetBody(),
        body_optional=True,
        request=_reset_request,
    ),
    Operation(
        "list_scenarios",
        "GET",
        "/scenarios",
        "The named scenarios that can be loaded",
        _list_scenarios,
    ),
    Operation(
        "load_scenario",
        "POST",
        "/scenarios",
        "Load a scenario on top of the current state",
        lambda m, p, b, q: m.load_scenario(b),
        body=inputs.ScenarioBody(),
        request=_scenario_request,
    ),
    Operation(
        "export_state",
        "GET",
        "/state",
        "Export the whole state (versioned JSON)",
        lambda m, p, b, q: m.export_state(),
    ),
    Operation(
        "import_state",
        "PUT",
        "/state",
        "Import a state export (replaces everything)",
        lambda m, p, b, q: m.import_state(inputs.CheckedState(b)),
        body=inputs.StateBody(),
        request=lambda state: Call(body=state),
        where="state",
    ),
    Operation(
        "get_clock", "GET", "/clock", "Read the virtual clock", lambda m, p, b, q: m.get_clock()
    ),
    Operation(
        "set_clock",
        "PUT",
        "/clock",
        "Set the clock mode, speed, time and/or auto flavour",
        _set_clock,
        body=inputs.ClockBody(),
        request=_clock_request,
    ),
    Operation(
        "advance_clock",
        "POST",
        "/clock/advance",
        "Advance the clock, running due transitions in order",
        lambda m, p, b, q: m.advance_clock(b),
        body=inputs.AdvanceBody(),
        request=lambda seconds: Call(body={"seconds": seconds}),
    ),
    Operation(
        "get_transitions",
        "GET",
        "/transitions",
        "Duration of each timed process",
        lambda m, p, b, q: m.get_transitions(),
    ),
    Operation(
        "set_transitions",
        "PUT",
        "/transitions",
        'Set process durations (seconds, "manual", "immediate", null)',
        lambda m, p, b, q: m.set_transitions(b, replace=q["replace"]),
        body=inputs.TransitionsBody(),
        query=inputs.TransitionsQuery(),
        request=_transitions_request,
    ),
    Operation(
        "reset_transitions",
        "DELETE",
        "/transitions",
        "Every process back to its default duration",
        lambda m, p, b, q: m.set_transitions(inputs.Durations(), replace=True),
    ),
    Operation(
        "describe_resource",
        "GET",
        "/resources/<kind>/<resource_id>",
        "A resource's state and pending processes",
        _describe,
    ),
    Operation(
        "advance_resource",
        "POST",
        "/resources/<kind>/<resource_id>/advance",
        "Move one resource one step (or more) along its pending process",
        lambda m, p, b, q: m.advance_resource(p["kind"], p["resource_id"], b),
        body=inputs.ResourceAdvanceBody(),
        body_optional=True,
        request=_advance_request,
    ),
    Operation(
        "force_state",
        "POST",
        "/resources/<kind>/<resource_id>/state",
        "Force a resource's state",
        lambda m, p, b, q: m.force_state(p["kind"], p["resource_id"], b),
        body=inputs.ForceBody(),
        request=_force_request,
    ),
    Operation(
        "list_faults",
        "GET",
        "/faults",
        "The fault rules, in the order they are tried",
        lambda m, p, b, q: {"faults": [rule.to_dict() for rule in m.faults]},
    ),
    Operation(
        "add_fault",
        "POST",
        "/faults",
        "Add a fault rule",
        lambda m, p, b, q: m.add_fault(b).to_dict(),
        body=inputs.FaultBody(),
        status=201,
        request=lambda spec: Call(body=spec),
    ),
    Operation("clear_faults", "DELETE", "/faults", "Remove every fault rule", _clear_faults),
    Operation(
        "get_fault",
        "GET",
        "/faults/<rule_id>",
        "One fault rule",
        lambda m, p, b, q: m.get_fault(p["rule_id"]).to_dict(),
    ),
    Operation(
        "remove_fault",
        "DELETE",
        "/faults/<rule_id>",
        "Remove one fault rule",
        lambda m, p, b, q: {"deleted": [m.remove_fault(p["rule_id"]).id]},
    ),
    Operation(
        "list_requests",
        "GET",
        "/requests",
        "The request journal (oldest first) and how many were dropped",
        lambda m, p, b, q: m.list_requests(**q),
        query=inputs.RequestsQuery(),
        request=lambda **filters: Call(query=filters or None),
    ),
    Operation(
        "clear_requests", "DELETE", "/requests", "Empty the request journal", _clear_requests
    ),
    Operation(
        "seed",
        "POST",
        "/seed",
        "Seed the id and probability generators",
        lambda m, p, b, q: m.seed(b),
        body=inputs.SeedBody(),
        request=lambda value: Call(body={"seed": value}),
    ),
]

#: operation name -> :class:`Operation`
OPERATIONS = {operation.name: operation for operation in OPERATIONS_LIST}
