"""Huawei-native routes on the same port as the OpenStack ones.

* IMS (``/v1|v2|v2.1/cloudimages...``, the job queries) and Glance at the root
  (``/v2/images...``): :mod:`.ims`;
* ECS ``/v1[.1]/{project_id}/cloudservers...`` (servers, their jobs): :mod:`.ecs`;
* EVS ``/v2/{project_id}/cloudsnapshots...``: :mod:`.evs`;
* IAM ``/v3/projects``: :mod:`.iam`;
* VPC ``/v1/{project_id}/vpcs|subnets`` (read-only): :mod:`.vpc`;
* AK/SK signatures, accepted on every route that asks for a caller: :mod:`.aksk`.

Path clashes (huawei-clients.md 8.5 and 9): Nova's project-id converter only
matches ``[0-9a-f-]+``, so ``/v2/images``, ``/v2/cloudimages`` and
``/v2.1/cloudimages`` never reach Nova's routes; each path claims its error
family through :data:`fakeecs.api.FAMILY_RESOLVERS`.
"""

from .. import FAMILY_RESOLVERS
from ..auth import AUTHENTICATORS
from . import aksk, common, ecs, evs, iam, ims, vpc


def register(app):
    common.register_families()
    if common.resolve_family not in FAMILY_RESOLVERS:
        FAMILY_RESOLVERS.append(common.resolve_family)
    if aksk.authenticate not in AUTHENTICATORS:
        AUTHENTICATORS.append(aksk.authenticate)
    app.extensions[aksk.EXTENSION] = True
    for module in (ims, ecs, evs, iam, vpc):
        module.register(app)
    hooks = app.config["FAKEECS_HOOKS"]["after"]
    if common.add_request_id not in hooks:
        hooks.append(common.add_request_id)
