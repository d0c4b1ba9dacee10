"""Fault rules and the request journal, as plain data (no HTTP here).

A :class:`FaultRule` says *which* requests fail (``match``) and *how*: a status
and body (or the owning API family's error body), added latency, a budget
(``skip`` matching requests go through first, then ``times`` fail), a seeded
probability, and ``side_effect`` (the operation still happens behind the error:
"it failed but it was created").

The HTTP layer describes each request as a :class:`RequestInfo` and asks
:meth:`FaultSet.evaluate` which rule (if any) fires; the in-process handle can
inspect and edit the same rules.

The :class:`Journal` is a bounded list of request records (dicts); when full,
the oldest is dropped and counted.
"""
import copy
import functools
import math
import re
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Optional

from .errors import Invalid, NotFound

#: keys a ``match`` may hold
MATCH_KEYS = ("method", "path", "action", "project", "family")
#: keys a rule may hold
RULE_KEYS = ("match", "status", "message", "body", "headers", "skip", "times", "latency_ms",
             "probability", "side_effect")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True)
class RequestInfo:
    """What a fault rule can match on."""

    method: str
    path: str
    action: Optional[str] = None
    project_id: Optional[str] = None
    project_name: Optional[str] = None
    family: Optional[str] = None


@functools.lru_cache(maxsize=256)
def glob_regex(pattern):
    """``*`` matches within one path segment, ``**`` across segments; the rest is literal."""
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("^" + "".join(out) + "/?$")


def path_matches(pattern, path):
    return bool(glob_regex(pattern).match(path))


def _as_list(value):
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass
class FaultRule:
    """One fault rule; ``matched`` and ``fired`` count what it has seen and done."""

    id: str
    match: dict = field(default_factory=dict)
    #: None: no error, only the latency
    status: Optional[int] = 500
    message: Optional[str] = None
    body: object = None
    headers: dict = field(default_factory=dict)
    skip: int = 0
    #: None: no limit
    times: Optional[int] = None
    latency_ms: float = 0
    probability: float = 1.0
    side_effect: bool = False
    matched: int = 0
    fired: int = 0

    def to_dict(self):
        data = asdict(self)
        data["remaining"] = None if self.times is None else max(self.times - self.fired, 0)
        return data

    @property
    def exhausted(self):
        return self.times is not None and self.fired >= self.times

    def matches(self, request):
        match = self.match
        methods = _as_list(match.get("method"))
        if methods and request.method.upper() not in {m.upper() for m in methods} and "*" not in methods:
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


def validate_rule(spec):
    """Check a rule spec (a dict) and return the keyword arguments of a :class:`FaultRule`.

    Raises :class:`Invalid` naming the key and the problem.
    """
    if not isinstance(spec, dict):
        raise Invalid("a fault rule must be a JSON object", rule="fault")
    unknown = sorted(set(spec) - set(RULE_KEYS))
    if unknown:
        raise Invalid(f"unknown fault rule key(s) {', '.join(unknown)}; known: {', '.join(RULE_KEYS)}",
                      rule="fault")
    match = spec.get("match") or {}
    if not isinstance(match, dict):
        raise Invalid("match: must be an object", rule="fault")
    unknown = sorted(set(match) - set(MATCH_KEYS))
    if unknown:
        raise Invalid(f"match: unknown key(s) {', '.join(unknown)}; known: {', '.join(MATCH_KEYS)}",
                      rule="fault")
    for key, value in match.items():
        values = _as_list(value)
        if not values or not all(isinstance(v, str) and v for v in values):
            raise Invalid(f"match.{key}: must be a non-empty string or a list of them", rule="fault")
        if key == "method":
            bad = [v for v in values if v.upper() not in HTTP_METHODS and v != "*"]
            if bad:
                raise Invalid(f"match.method: unknown HTTP method {bad[0]!r}", rule="fault")
        if key == "path":
            bad = [v for v in values if not v.startswith(("/", "*"))]
            if bad:
                raise Invalid(f"match.path: {bad[0]!r} must start with '/' (a glob: '*' matches "
                              "within a segment, '**' across segments)", rule="fault")
    kwargs = {"match": copy.deepcopy(match)}
    status = spec.get("status", 500)
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)
                               or not 100 <= status <= 599):
        raise Invalid(f"status: must be an HTTP status between 100 and 599 (or null), not {status!r}",
                      rule="fault")
    kwargs["status"] = status
    message = spec.get("message")
    if message is not None and not isinstance(message, str):
        raise Invalid("message: must be a string", rule="fault")
    kwargs["message"] = message
    kwargs["body"] = copy.deepcopy(spec.get("body"))
    headers = spec.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in headers.items()):
        raise Invalid("headers: must be an object of strings", rule="fault")
    kwargs["headers"] = dict(headers)
    for key, minimum in (("skip", 0), ("times", 1)):
        value = spec.get(key, 0 if key == "skip" else None)
        if value is None and key == "times":
            kwargs[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise Invalid(f"{key}: must be an integer >= {minimum}, not {value!r}", rule="fault")
        kwargs[key] = value
    latency = spec.get("latency_ms", 0)
    if (isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency < 0
            or not math.isfinite(latency)):
        raise Invalid(f"latency_ms: must be a number >= 0, not {latency!r}", rule="fault")
    kwargs["latency_ms"] = latency
    probability = spec.get("probability", 1.0)
    if (isinstance(probability, bool) or not isinstance(probability, (int, float))
            or not 0 <= probability <= 1):
        raise Invalid(f"probability: must be a number between 0 and 1, not {probability!r}",
                      rule="fault")
    kwargs["probability"] = float(probability)
    side_effect = spec.get("side_effect", False)
    if not isinstance(side_effect, bool):
        raise Invalid("side_effect: must be true or false", rule="fault")
    kwargs["side_effect"] = side_effect
    if status is None and side_effect:
        raise Invalid("side_effect: needs a status (an error to answer with)", rule="fault")
    return kwargs


class FaultSet:
    """The ordered fault rules; the first rule that fires wins."""

    def __init__(self):
        self.rules = []
        self._counter = 0

    def add(self, spec):
        kwargs = validate_rule(spec)
        self._counter += 1
        rule = FaultRule(id=f"fault-{self._counter}", **kwargs)
        self.rules.append(rule)
        return rule

    def get(self, rule_id):
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise NotFound("fault", rule_id, f"no fault rule {rule_id}")

    def remove(self, rule_id):
        rule = self.get(rule_id)
        self.rules.remove(rule)
        return rule

    def clear(self):
        self.rules = []

    def evaluate(self, request, random):
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


class Journal:
    """A bounded journal of request records (dicts), oldest dropped first.

    Recording is cheap: a record may come with ``details``, a callable returning
    more fields (decoded bodies, masked headers, ...) that runs only when someone
    reads the journal, once per record.
    """

    DEFAULT_LIMIT = 1000

    def __init__(self, limit=DEFAULT_LIMIT):
        self._lock = threading.Lock()
        self._entries = deque(maxlen=limit)
        self.dropped = 0
        self._seq = 0

    @property
    def limit(self):
        return self._entries.maxlen

    def resize(self, limit):
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise Invalid(f"journal limit must be an integer >= 1, not {limit!r}", rule="journal")
        with self._lock:
            keep = list(self._entries)[-limit:]
            self.dropped += len(self._entries) - len(keep)
            self._entries = deque(keep, maxlen=limit)

    def record(self, entry, details=None):
        """Append ``entry`` (a dict); it gets an increasing ``seq``.  ``details()``, if
        given, returns the fields to add when the entry is first read."""
        entry = dict(entry)
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append([entry, details])
        return entry

    def entries(self):
        """Every record, oldest first, with its details filled in."""
        with self._lock:
            items = list(self._entries)
        for item in items:
            details = item[1]
            if details is not None:
                item[1] = None
                try:
                    item[0].update(details())
                except Exception as error:  # reading the journal never fails
                    item[0]["details_error"] = f"{type(error).__name__}: {error}"
        return [item[0] for item in items]

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def __len__(self):
        return len(self._entries)

    def find(self, *, method=None, path=None, status=None, action=None, project=None,
             since=None, limit=None):
        """Matching records, oldest first; ``path`` is a glob, ``since`` a seq."""
        found = []
        for entry in self.entries():
            if method and entry.get("method", "").upper() != method.upper():
                continue
            if path and not path_matches(path, entry.get("path", "")):
                continue
            if status is not None and entry.get("status") != status:
                continue
            if action and entry.get("action") != action:
                continue
            if project and project not in (entry.get("project_id"), entry.get("project_name")):
                continue
            if since is not None and entry["seq"] <= since:
                continue
            found.append(entry)
        if limit is not None:
            found = found[-limit:] if limit else []
        return found
