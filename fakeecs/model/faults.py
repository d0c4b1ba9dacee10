"""Fault rules, as plain data (no HTTP here).

A :class:`FaultRule` says *which* requests fail (``match``) and *how*: a status
and body (or the owning API family's error body), added latency, a budget
(``skip`` matching requests go through first, then ``times`` fail), a seeded
probability, and ``side_effect`` (the operation still happens behind the error:
"it failed but it was created").

A rule is added from a typed :class:`FaultSpec`: the control plane's schema
(:mod:`fakeecs.model.control.inputs`) builds one from a request body; the
rules a match value and a side effect must follow are stated once here
(:func:`check_match_values`, :func:`check_side_effect`) and called by it.

The HTTP layer describes each request as a :class:`RequestInfo` and asks
:meth:`FaultSet.evaluate` which rule (if any) fires; the in-process handle can
inspect and edit the same rules.  The request journal is :mod:`fakeecs.model.journal`.
"""

from __future__ import annotations

import random as _random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .errors import NotFound
from .pathglob import glob_regex, path_matches

__all__ = [
    "HTTP_METHODS",
    "MATCH_KEYS",
    "FaultRule",
    "FaultSet",
    "FaultSpec",
    "RequestInfo",
    "check_match_values",
    "check_side_effect",
    "glob_regex",
    "path_matches",
]

#: keys a ``match`` may hold
MATCH_KEYS = ("method", "path", "action", "project", "family")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

#: a match value: one string or a list of them
MatchValue = str | list[str]


@dataclass(frozen=True)
class RequestInfo:
    """What a fault rule can match on."""

    method: str
    path: str
    action: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    family: str | None = None


def _as_list(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_match_values(key: str, values: list[str]) -> None:
    """The rule for the values of ``match.<key>`` beyond their type (ValueError says why)."""
    if key == "method":
        bad = [v for v in values if v.upper() not in HTTP_METHODS and v != "*"]
        if bad:
            raise ValueError(f"unknown HTTP method {bad[0]!r}")
    if key == "path":
        bad = [v for v in values if not v.startswith(("/", "*"))]
        if bad:
            raise ValueError(
                f"{bad[0]!r} must start with '/' (a glob: '*' matches within a "
                "segment, '**' across segments)"
            )


def check_side_effect(status: int | None, side_effect: bool) -> None:
    """A side effect needs an error to answer with (ValueError says why)."""
    if status is None and side_effect:
        raise ValueError("needs a status (an error to answer with)")


@dataclass
class FaultSpec:
    """A checked fault rule, before it has an id."""

    match: dict[str, MatchValue] = field(default_factory=dict)
    #: None: no error, only the latency
    status: int | None = 500
    message: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    skip: int = 0
    #: None: no limit
    times: int | None = None
    latency_ms: float = 0
    probability: float = 1.0
    side_effect: bool = False


@dataclass
class FaultRule(FaultSpec):
    """One fault rule; ``matched`` and ``fired`` count what it has seen and done."""

    id: str = ""
    matched: int = 0
    fired: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["remaining"] = None if self.times is None else max(self.times - self.fired, 0)
        return data

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, request: RequestInfo) -> bool:
        match = self.match
        methods = _as_list(match.get("method"))
        if (
            methods
            and request.method.upper() not in {m.upper() for m in methods}
            and "*" not in methods
        ):
            return False
        paths = _as_list(match.get("path"))
        if paths and not any(path_matches(p, request.path) for p in paths):
            return False
        actions = _as_list(match.get("action"))
        if actions and request.action not in actions:
            return False
        projects = _as_list(match.get("project"))
        if projects and not ({request.project_id, request.project_name} & set(projects)):
            return False
        families = _as_list(match.get("family"))
        if families and request.family not in families:
            return False
        return True


class FaultSet:
    """The ordered fault rules; the first rule that fires wins."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._counter = 0

    def add(self, spec: FaultSpec) -> FaultRule:
        """Add a checked rule; it gets the next id."""
        self._counter += 1
        values = {f.name: getattr(spec, f.name) for f in fields(FaultSpec)}
        rule = FaultRule(id=f"fault-{self._counter}", **values)
        self.rules.append(rule)
        return rule

    def get(self, rule_id: str) -> FaultRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise NotFound("fault", rule_id, f"no fault rule {rule_id}")

    def remove(self, rule_id: str) -> FaultRule:
        rule = self.get(rule_id)
        self.rules.remove(rule)
        return rule

    def clear(self) -> None:
        self.rules = []

    def evaluate(self, request: RequestInfo, random: _random.Random) -> FaultRule | None:
        """The rule that fires for ``request`` (counters updated), or None."""
        for rule in self.rules:
            if rule.exhausted or not rule.matches(request):
                continue
            rule.matched += 1
            if rule.matched <= rule.skip:
                continue
            if rule.probability < 1.0 and random.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None
