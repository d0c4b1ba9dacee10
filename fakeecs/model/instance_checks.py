"""Nova's declared instance checks (``check_instance_lock`` / ``check_instance_state``).

Each guarded compute call names one :class:`StateRule` in :data:`STATE_RULES`;
:func:`check_instance` applies it in Nova's order: the lock (non-admins only),
then ``vm_state``, then ``task_state``, then ``launched_at``.  A refusal is the
``InstanceInvalidState`` conflict Nova turns into a 409.
"""

from dataclasses import dataclass
from typing import Any

from .entities import Server
from .errors import Conflict
from .policy import Context
from .transitions import SNAPSHOT_VM_STATES

#: the vm_states in which a server's metadata and tags may change
ALTERABLE_VM_STATES = ("active", "paused", "suspended", "stopped")

#: ``task_states=ANY`` skips the task_state check (Nova's explicit ``task_state=None``)
ANY = None


@dataclass(frozen=True)
class StateRule:
    """One guarded call: what it is called in the 409 and what it requires."""

    action: str
    vm_states: tuple[str, ...]
    task_states: tuple[str | None, ...] | None = (None,)
    must_have_launched: bool = False
    check_lock: bool = False
    #: the rule name the refusal carries (API families that word it their own way map it)
    rule: str | None = None


STATE_RULES = {
    rule.action: rule
    for rule in (
        # nova/compute/api.py update_instance_metadata / delete_instance_metadata
        StateRule(
            "update metadata", ALTERABLE_VM_STATES, ANY, must_have_launched=True, check_lock=True
        ),
        StateRule(
            "delete metadata", ALTERABLE_VM_STATES, ANY, must_have_launched=True, check_lock=True
        ),
        # nova/api/openstack/compute/server_tags.py _check_instance_in_valid_state
        StateRule("update tag", ALTERABLE_VM_STATES, ANY),
        StateRule("update tags", ALTERABLE_VM_STATES, ANY),
        StateRule("delete tag", ALTERABLE_VM_STATES, ANY),
        StateRule("delete tags", ALTERABLE_VM_STATES, ANY),
        # nova/compute/api.py snapshot (the createImage action); constraint 1: not in error
        StateRule("createImage", SNAPSHOT_VM_STATES, must_have_launched=True, rule="imageable"),
        # IMS system/data-disk and full-ECS images of an ECS: the same states (constraint 1)
        StateRule("ims createImage", SNAPSHOT_VM_STATES, must_have_launched=True, rule="imageable"),
        StateRule(
            "ims createWholeImage", SNAPSHOT_VM_STATES, must_have_launched=True, rule="imageable"
        ),
    )
}


def invalid_state(action: str, server_id: str, attr: str, state: Any, **facts: Any) -> Conflict:
    """Nova's ``InstanceInvalidState`` as a domain error."""
    return Conflict(
        f"Cannot '{action}' instance {server_id} while it is in {attr} {state}",
        action=action,
        attr=attr,
        state=state,
        server_id=server_id,
        **facts,
    )


def check_lock(context: Context, server: Server) -> None:
    """``check_instance_lock``: a locked server refuses everyone but admins."""
    if server.locked and not context.is_admin:
        raise Conflict(f"Instance {server.id} is locked", rule="locked", server_id=server.id)


def check_instance(context: Context, server: Server, action: str) -> None:
    """Apply the :class:`StateRule` named ``action`` to ``server`` (or raise ``Conflict``)."""
    rule = STATE_RULES[action]
    facts = {"rule": rule.rule, "vm_state": server.vm_state} if rule.rule else {}
    if rule.check_lock:
        check_lock(context, server)
    if rule.vm_states is not None and server.vm_state not in rule.vm_states:
        raise invalid_state(action, server.id, "vm_state", server.vm_state, **facts)
    if rule.task_states is not None and server.task_state not in rule.task_states:
        raise invalid_state(action, server.id, "task_state", server.task_state, **facts)
    if rule.must_have_launched and server.launched_at is None:
        raise invalid_state(action, server.id, "launched_at", None, **facts)
