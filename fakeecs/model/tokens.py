"""What a Keystone token body shows, read under the cloud's lock."""

from typing import Any

from .cloud import CloudBase, operation


@operation
def token_subject(cloud: CloudBase, token_id: str) -> dict[str, Any] | None:
    """A copy of ``token_id``'s record with its user, project and their domains.

    ``None`` for an unknown token; ``live`` is False once it has expired.  Besides
    the record's fields: ``user``, ``project``, ``user_domain`` and
    ``project_domain``, each ``{"id", "name"}``.  The API renders this copy, so a
    view never reads the stores without the lock.
    """
    record = cloud.tokens.get(token_id)
    if record is None:
        return None
    user = cloud.users[record["user_id"]]
    project = cloud.projects[record["project_id"]]
    user_domain = cloud.domains[user.domain_id]
    project_domain = cloud.domains[project.domain_id]
    return {
        **record,
        "roles": list(record["roles"]),
        "methods": list(record["methods"]),
        "live": cloud.live_token(token_id) is not None,
        "user": {"id": user.id, "name": user.name},
        "project": {"id": project.id, "name": project.name},
        "user_domain": {"id": user_domain.id, "name": user_domain.name},
        "project_domain": {"id": project_domain.id, "name": project_domain.name},
    }
