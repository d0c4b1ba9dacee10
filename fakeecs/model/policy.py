"""Who may do what: the caller's context and the role rules.

Like Keystone-backed policy on ECS: ``admin`` may do anything, ``member`` may
read and write its own project, ``reader`` may only read.
"""

from dataclasses import dataclass, field

from .errors import Forbidden


@dataclass(frozen=True)
class Context:
    """The authenticated caller of one request."""

    user_id: str
    project_id: str
    roles: tuple[str, ...] = field(default_factory=tuple)
    user_name: str = ""
    project_name: str = ""

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def can_write(self) -> bool:
        return self.is_admin or "member" in self.roles


def authorize(context: Context, rule: str, write: bool) -> None:
    """Raise :class:`Forbidden` unless the caller's roles allow ``rule``."""
    if write and not context.can_write:
        raise Forbidden(f"Policy doesn't allow {rule} to be performed.", rule=rule)


def authorize_admin(context: Context, rule: str) -> None:
    """Raise :class:`Forbidden` unless the caller is an admin (Nova's ``admin_api`` rules)."""
    if not context.is_admin:
        raise Forbidden(f"Policy doesn't allow {rule} to be performed.", rule=rule)
