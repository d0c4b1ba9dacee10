"""IAM ``GET /v3/projects?name=``: how an SDK client built with a region finds its project.

A client built with ``with_region(...)`` and no project id asks IAM for the
projects named after the region and takes the first.  On Huawei Cloud each
region has a project named after it; here the caller's project stands for
the region's project, so ``name=<the cloud's region>`` finds it.
"""

from flask import Blueprint, g, jsonify, request

from ..auth import base_url, cloud, require_token

bp = Blueprint("huawei_iam", __name__)


@bp.before_request
def _before():
    g.family = "keystone"
    require_token()


def project_view(project):
    return {
        "id": project.id,
        "name": project.name,
        "domain_id": project.domain_id,
        "enabled": True,
        "is_domain": False,
        "parent_id": project.domain_id,
        "description": "",
        "links": {"self": f"{base_url()}/v3/projects/{project.id}"},
    }


@bp.get("/v3/projects")
def list_projects():
    the_cloud = cloud()
    context = g.context
    user = the_cloud.users.get(context.user_id)
    visible = [
        p
        for p in the_cloud.projects.values()
        if p.id == context.project_id
        or (user is not None and user.roles.get(p.id))
        or context.is_admin
    ]
    name = request.args.get("name")
    if name is not None:
        if name == the_cloud.region:
            visible = [p for p in visible if p.id == context.project_id]
        else:
            visible = [p for p in visible if p.name == name]
    for key in ("domain_id", "parent_id"):
        if key in request.args:
            visible = [p for p in visible if p.domain_id == request.args[key]]
    return jsonify(
        {
            "projects": [project_view(p) for p in visible],
            "links": {"self": f"{base_url()}/v3/projects", "previous": None, "next": None},
        }
    )


def register(app):
    app.register_blueprint(bp)
