"""Domain errors: what went wrong in the cloud, never how HTTP says it.

Each API family decides its own status code and body from these; the model
only records the facts (which resource, which rule, which state).
"""

from typing import Any


class DomainError(Exception):
    """Base of every error the model raises on purpose."""

    def __init__(self, message: str, **facts: Any) -> None:
        super().__init__(message)
        self.message = message
        self.facts = facts


class NotFound(DomainError):
    """A resource does not exist, or is not visible to the caller."""

    def __init__(self, kind: str, resource_id: Any, message: str | None = None) -> None:
        self.kind = kind
        self.resource_id = resource_id
        super().__init__(
            message or f"{kind} {resource_id} could not be found.",
            kind=kind,
            resource_id=resource_id,
        )


class Conflict(DomainError):
    """The resource is in a state that forbids the operation."""

    def __init__(
        self,
        message: str,
        *,
        action: str | None = None,
        attr: str | None = None,
        state: Any = None,
        **facts: Any,
    ) -> None:
        self.action = action
        self.attr = attr
        self.state = state
        super().__init__(message, action=action, attr=attr, state=state, **facts)


class Invalid(DomainError):
    """The request is well-formed but asks for something the cloud refuses."""

    def __init__(self, message: str, *, rule: str | None = None, **facts: Any) -> None:
        self.rule = rule
        super().__init__(message, rule=rule, **facts)


class Forbidden(DomainError):
    """The caller may not do this (policy, role or quota)."""

    def __init__(self, message: str, *, rule: str | None = None, **facts: Any) -> None:
        self.rule = rule
        super().__init__(message, rule=rule, **facts)


class OverQuota(Forbidden):
    """A quota or limit would be exceeded."""


class Unauthorized(DomainError):
    """Credentials or token are missing or wrong."""
