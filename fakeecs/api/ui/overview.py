"""The dashboard's picture of the cloud: plain dicts read under the lock.

Reading here never calls the model's read operations, so looking at the
dashboard does not move an auto clock (:mod:`fakeecs.model.autoclock`); a
realtime clock is settled first so the states are current.
"""

from typing import Any

from ...model import transitions
from ...model.clock import isoformat

#: the stores shown per project, with the attribute that names the owner
PROJECT_STORES = (
    ("servers", "project_id"),
    ("images", "owner"),
    ("volumes", "project_id"),
    ("snapshots", "project_id"),
    ("ims_jobs", "project_id"),
)


def when(epoch: float | None) -> str | None:
    """A virtual time as ``2026-01-01T00:00:00.500000Z`` (None stays None)."""
    return None if epoch is None else isoformat(epoch, micro=True) + "Z"


def _name_of(cloud, store: str, item_id: str | None) -> str | None:
    item = getattr(cloud, store, {}).get(item_id) if item_id else None
    return getattr(item, "name", None) if item is not None else None


def server_row(cloud, server) -> dict[str, Any]:
    return {
        "id": server.id,
        "name": server.name,
        "status": transitions.server_status(server.vm_state, server.task_state),
        "vm_state": server.vm_state,
        "task_state": server.task_state,
        "power_state": server.power_state,
        "zone": server.availability_zone,
        "flavor": server.flavor_id,
        "image_id": server.image_id or None,
        "image_name": _name_of(cloud, "images", server.image_id),
        "locked": server.locked,
        "fault": (server.fault or {}).get("message"),
        "volumes": [bd.get("volume_id") for bd in server.block_devices],
        "created": when(server.created_at),
        "updated": when(server.updated_at),
    }


def image_row(cloud, image) -> dict[str, Any]:
    origin = image.origin or {}
    server_id = origin.get("server_id")
    return {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "origin": origin.get("kind", "upload"),
        "server_id": server_id,
        "server_name": _name_of(cloud, "servers", server_id),
        "server_exists": server_id in cloud.servers if server_id else False,
        "zone": origin.get("availability_zone"),
        "size": image.size,
        "created": when(image.created_at),
        "updated": when(image.updated_at),
    }


def volume_row(cloud, volume) -> dict[str, Any]:
    return {
        "id": volume.id,
        "name": volume.name,
        "status": volume.status,
        "size": volume.size,
        "zone": volume.availability_zone,
        "bootable": volume.bootable,
        "servers": [a.get("server_id") for a in volume.attachments],
        "source_image": volume.source_image_id,
        "snapshot_id": volume.snapshot_id,
        "created": when(volume.created_at),
    }


def snapshot_row(cloud, snapshot) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "name": snapshot.name,
        "status": snapshot.status,
        "volume_id": snapshot.volume_id,
        "volume_name": _name_of(cloud, "volumes", snapshot.volume_id),
        "size": snapshot.size,
        "created": when(snapshot.created_at),
    }


def ims_job_row(cloud, job) -> dict[str, Any]:
    return {
        "id": job.id,
        "type": job.job_type,
        "status": job.status,
        "percent": job.process_percent,
        "task": job.current_task,
        "image_id": (job.entities or {}).get("image_id"),
        "parent_id": job.parent_id,
        "fail_reason": job.fail_reason,
        "begin": when(job.begin_time),
        "end": when(job.end_time),
    }


ROWS = {
    "servers": server_row,
    "images": image_row,
    "volumes": volume_row,
    "snapshots": snapshot_row,
    "ims_jobs": ims_job_row,
}


def _target_project(cloud, job) -> str | None:
    store = cloud.resource_kinds().get(job.kind)
    item = getattr(cloud, store, {}).get(job.target_id) if store else None
    return getattr(item, "project_id", None) if item is not None else None


def process_rows(cloud) -> list[dict[str, Any]]:
    """Every pending timed or manual process, soonest first (manual last)."""
    rows = []
    for job in cloud.jobs.values():
        store = cloud.resource_kinds().get(job.kind)
        rows.append(
            {
                "id": job.id,
                "process": job.process,
                "kind": job.kind,
                "target_id": job.target_id,
                "target_name": _name_of(cloud, store, job.target_id) if store else None,
                "project_id": _target_project(cloud, job),
                "steps": list(job.steps),
                "due": when(job.due),
                "manual": job.due is None,
            }
        )
    rows.sort(key=lambda row: (row["manual"], row["due"] or "", row["id"]))
    return rows


def projects(cloud) -> list[dict[str, Any]]:
    """Each project with its resources, newest first; public images of no project apart."""
    result = []
    for project in cloud.projects.values():
        entry = {"id": project.id, "name": project.name}
        for store, owner in PROJECT_STORES:
            items = [
                item for item in getattr(cloud, store, {}) if getattr(item, owner) == project.id
            ]
            items.sort(key=lambda item: getattr(item, "seq", 0), reverse=True)
            entry[store] = [ROWS[store](cloud, item) for item in items]
        result.append(entry)
    return result


def shared_images(cloud) -> list[dict[str, Any]]:
    """Images owned by no project of this cloud (the scenario's public base images)."""
    return [image_row(cloud, image) for image in cloud.images if image.owner not in cloud.projects]


def overview(cloud) -> dict[str, Any]:
    """Everything the state page shows, read at one moment."""
    with cloud.lock:
        cloud.settle()
        return {
            "clock": cloud.get_clock(),
            "region": cloud.region,
            "projects": projects(cloud),
            "shared_images": shared_images(cloud),
            "processes": process_rows(cloud),
        }
