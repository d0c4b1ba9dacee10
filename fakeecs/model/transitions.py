"""Explicit transition tables for every resource kind, and the timed processes.

Every state change in the model goes through :func:`check`, so a table here is
the single statement of what can follow what.  The control plane uses the same
tables to refuse forcing a state a resource can never be in.
"""

from .errors import Invalid

# --- servers -----------------------------------------------------------------

SERVER_VM_STATES = (
    "building",
    "active",
    "stopped",
    "paused",
    "suspended",
    "error",
    "deleted",
    "rescued",
    "resized",
    "shelved",
    "shelved_offloaded",
    "soft-delete",
)

#: vm_state -> vm_states reachable from it through an operation or a failure.
SERVER_TRANSITIONS = {
    "building": {"active", "error", "deleted"},
    "active": {"active", "stopped", "paused", "suspended", "error", "deleted"},
    "stopped": {"active", "stopped", "error", "deleted"},
    "paused": {"active", "error", "deleted"},
    "suspended": {"active", "error", "deleted"},
    "error": {"active", "stopped", "error", "deleted"},
    "rescued": {"active", "error", "deleted"},
    "resized": {"active", "error", "deleted"},
    "shelved": {"shelved_offloaded", "active", "error", "deleted"},
    "shelved_offloaded": {"active", "error", "deleted"},
    "soft-delete": {"active", "deleted"},
    "deleted": set(),
}

SERVER_TASK_STATES = (
    None,
    "scheduling",
    "block_device_mapping",
    "networking",
    "spawning",
    "image_snapshot_pending",
    "image_snapshot",
    "image_pending_upload",
    "image_uploading",
    "powering-off",
    "powering-on",
    "pausing",
    "unpausing",
    "suspending",
    "resuming",
    "rebooting",
    "rebooting_hard",
    "deleting",
)

POWER_STATES = {
    "NOSTATE": 0,
    "RUNNING": 1,
    "PAUSED": 3,
    "SHUTDOWN": 4,
    "CRASHED": 6,
    "SUSPENDED": 7,
}

#: the power state a server settles in for each vm_state
SETTLED_POWER = {
    "building": 0,
    "active": 1,
    "stopped": 4,
    "paused": 3,
    "suspended": 7,
    "error": 0,
    "rescued": 1,
    "resized": 1,
    "shelved": 4,
    "shelved_offloaded": 4,
    "soft-delete": 4,
    "deleted": 0,
}

#: Nova's API status for (vm_state, task_state); task_state None is the default
SERVER_STATUS: dict[str, dict[str | None, str]] = {
    "active": {None: "ACTIVE", "rebooting": "REBOOT", "rebooting_hard": "HARD_REBOOT"},
    "building": {None: "BUILD"},
    "stopped": {None: "SHUTOFF"},
    "resized": {None: "VERIFY_RESIZE"},
    "paused": {None: "PAUSED"},
    "suspended": {None: "SUSPENDED"},
    "rescued": {None: "RESCUE"},
    "error": {None: "ERROR"},
    "deleted": {None: "DELETED"},
    "soft-delete": {None: "SOFT_DELETED"},
    "shelved": {None: "SHELVED"},
    "shelved_offloaded": {None: "SHELVED_OFFLOADED"},
}


def server_status(vm_state: str, task_state: str | None) -> str:
    by_task = SERVER_STATUS.get(vm_state, {})
    return by_task.get(task_state, by_task.get(None, "UNKNOWN"))


#: server actions: name -> (allowed vm_states, task_state while running, resulting vm_state)
#: ``None`` for allowed states means "no state check" (lock/unlock).
SERVER_ACTIONS = {
    "stop": ({"active", "error"}, "powering-off", "stopped"),
    "start": ({"stopped"}, "powering-on", "active"),
    "pause": ({"active"}, "pausing", "paused"),
    "unpause": ({"paused"}, "unpausing", "active"),
    "suspend": ({"active"}, "suspending", "suspended"),
    "resume": ({"suspended"}, "resuming", "active"),
    "reboot_soft": ({"active"}, "rebooting", "active"),
    "reboot_hard": (
        {"active", "stopped", "paused", "suspended", "error"},
        "rebooting_hard",
        "active",
    ),
}

#: vm_states in which a volume may be attached or detached (nova.compute.api
#: ``attach_volume``/``detach_volume``: also no task_state and launched)
VOLUME_ATTACH_VM_STATES = (
    "active",
    "paused",
    "stopped",
    "resized",
    "soft-delete",
    "shelved",
    "shelved_offloaded",
)

#: states from which a server may be imaged (nova.compute.api.snapshot)
SNAPSHOT_VM_STATES = ("active", "stopped", "paused", "suspended")

# --- images (Glance, glance/domain/__init__.py) --------------------------------

IMAGE_STATUSES = (
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
)

IMAGE_TRANSITIONS = {
    "queued": {"saving", "uploading", "importing", "active", "deleted"},
    "saving": {"active", "killed", "deleted", "queued"},
    "uploading": {"importing", "queued", "deleted"},
    "importing": {"active", "deleted", "queued"},
    "active": {"pending_delete", "deleted", "deactivated"},
    "killed": {"deleted"},
    "pending_delete": {"deleted", "active"},
    "deactivated": {"active", "deleted"},
    "deleted": set(),
}

# --- block storage (Cinder) ----------------------------------------------------

VOLUME_TRANSITIONS = {
    "creating": {"available", "error"},
    "available": {"in-use", "deleting", "error", "reserved", "extending"},
    "reserved": {"in-use", "available"},
    "in-use": {"available", "error", "extending"},
    "extending": {"available", "in-use", "error_extending"},
    "error_extending": {"deleting", "available"},
    "deleting": {"deleted", "error_deleting"},
    "error": {"deleting", "available"},
    "error_deleting": {"deleting", "available"},
    # reachable only through an admin's os-reset_status
    "attaching": {"in-use", "available", "error"},
    "detaching": {"available", "in-use", "error"},
    "maintenance": {"available", "in-use", "error"},
    "managing": {"available", "error_managing"},
    "error_managing": {"deleting", "available"},
    "deleted": set(),
}

SNAPSHOT_TRANSITIONS = {
    "creating": {"available", "error"},
    "available": {"deleting", "error"},
    "deleting": {"deleted", "error_deleting"},
    "error": {"deleting", "available"},
    "error_deleting": {"deleting", "available"},
    # reachable only through an admin's os-reset_status
    "updating": {"available", "error"},
    "unmanaging": {"available", "error"},
    "backing-up": {"available", "error"},
    "restoring": {"available", "error"},
    "deleted": set(),
}

#: statuses ``os-reset_status`` may set (cinder/api/contrib/admin_actions.py)
VOLUME_RESET_STATUSES = (
    "creating",
    "available",
    "deleting",
    "error",
    "error_deleting",
    "error_managing",
    "managing",
    "attaching",
    "in-use",
    "detaching",
    "maintenance",
)
VOLUME_ATTACH_STATUSES = ("attached", "detached")
VOLUME_MIGRATION_STATUSES = ("migrating", "error", "success", "completing", "none", "starting")
SNAPSHOT_RESET_STATUSES = (
    "error",
    "available",
    "creating",
    "deleting",
    "deleted",
    "updating",
    "error_deleting",
    "unmanaging",
    "backing-up",
    "restoring",
)

# --- what a scenario may seed (each a subset of a table above) ------------------

#: every vm_state but ``deleted`` (a deleted server is not in the world)
SEEDABLE_VM_STATES = tuple(state for state in SERVER_VM_STATES if state != "deleted")
SEEDABLE_TASK_STATES = tuple(state for state in SERVER_TASK_STATES if state is not None)
SEEDABLE_IMAGE_STATUSES = tuple(status for status in IMAGE_STATUSES if status != "deleted")
#: the volume and snapshot statuses the normal walks reach (not the admin-only ones)
SEEDABLE_VOLUME_STATUSES = (
    "creating",
    "available",
    "reserved",
    "in-use",
    "error",
    "error_deleting",
    "deleting",
)
SEEDABLE_SNAPSHOT_STATUSES = ("creating", "available", "error", "error_deleting", "deleting")

# --- IMS asynchronous jobs (ims_03_0905: INIT, RUNNING, SUCCESS, FAIL) ----------

IMS_JOB_TRANSITIONS = {
    "INIT": {"RUNNING", "FAIL"},
    "RUNNING": {"RUNNING", "SUCCESS", "FAIL"},
    "SUCCESS": set(),
    "FAIL": set(),
}

TABLES = {
    "server": SERVER_TRANSITIONS,
    "image": IMAGE_TRANSITIONS,
    "volume": VOLUME_TRANSITIONS,
    "snapshot": SNAPSHOT_TRANSITIONS,
    "ims_job": IMS_JOB_TRANSITIONS,
}


def can_move(kind: str, current: str, target: str) -> bool:
    return target in TABLES[kind].get(current, ())


def check(kind: str, current: str, target: str) -> None:
    """Refuse a move the table does not allow (a bug in the model, or a bad force)."""
    if not can_move(kind, current, target):
        raise Invalid(
            f"a {kind} cannot go from {current!r} to {target!r}",
            rule="transition",
            kind=kind,
            current=current,
            target=target,
        )


def known_states(kind: str) -> tuple[str, ...]:
    return tuple(TABLES[kind])


# --- timed processes -------------------------------------------------------------

#: process name -> default duration in virtual seconds, spread evenly over its steps
PROCESS_DEFAULTS = {
    "server_build": 1.0,
    "server_action": 0.5,
    "server_delete": 0.5,
    "image_snapshot": 2.0,
    # Cinder (storage room)
    "volume_create": 1.0,
    "volume_delete": 0.5,
    "snapshot_create": 1.0,
    "snapshot_delete": 0.5,
    "volume_extend": 0.5,
    # IMS jobs (image from a server, data-disk images, full-ECS image, export to OBS)
    "ims_image": 30.0,
    "ims_export": 20.0,
    # ECS-native attach/detach jobs (the other ECS jobs follow the server's own processes)
    "ecs_volume": 1.0,
}
