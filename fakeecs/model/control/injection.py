"""Fault rules and the request journal under the control plane: the injection room."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..faults import FaultRule, FaultSpec, RequestInfo
from .host import ControlHost
from .inputs import FaultBody, load

#: what :meth:`InjectionControl.match_fault` takes: the request, as facts or a dict,
#: or a callable building them (called only when rules are set)
#: the one schema of a fault rule, for HTTP, the handles and the Python API alike
FAULT_BODY = FaultBody()
RequestLike = RequestInfo | dict[str, Any] | Callable[[], Any]


class InjectionControl(ControlHost):
    """Add, list and remove fault rules; read and clear the request journal."""

    @property
    def faults(self) -> list[FaultRule]:
        """The fault rules, in the order they are tried."""
        with self.lock:
            return list(self._fault_set.rules)

    def add_fault(self, spec: FaultSpec | dict[str, Any] | None = None, **kwargs: Any) -> FaultRule:
        """Add a fault rule: a checked :class:`FaultSpec` (what the control plane's schema
        gives), or a plain dict and/or keyword arguments, checked by that same schema."""
        if not isinstance(spec, FaultSpec):
            loaded: FaultSpec = load(FAULT_BODY, dict(spec or {}, **kwargs), rule="fault")
            spec = loaded
        with self.lock:
            return self._fault_set.add(spec)

    def get_fault(self, rule_id: str) -> FaultRule:
        with self.lock:
            return self._fault_set.get(rule_id)

    def remove_fault(self, rule_id: str) -> FaultRule:
        with self.lock:
            return self._fault_set.remove(rule_id)

    def clear_faults(self) -> None:
        with self.lock:
            self._fault_set.clear()

    def match_fault(self, request: RequestLike) -> FaultRule | None:
        """The rule that fires for ``request`` (a :class:`RequestInfo` or dict, or a callable
        building one, called only when rules are set), or None."""
        if not self._fault_set.rules:  # no rule, no cost
            return None
        if callable(request):
            request = request()
        if isinstance(request, dict):
            request = RequestInfo(**request)
        assert isinstance(request, RequestInfo)
        with self.lock:
            return self._fault_set.evaluate(request, self._fault_random)

    # -- request journal -------------------------------------------------------------------

    def list_requests(self, **filters: Any) -> dict[str, Any]:
        """``{"requests": [...], "dropped": N}`` from the journal (filters: method, path glob,
        status, action, project, since, limit)."""
        return {"requests": self.journal.find(**filters), "dropped": self.journal.dropped}

    def clear_requests(self) -> None:
        self.journal.clear()
