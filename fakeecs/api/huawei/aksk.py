"""AK/SK (``SDK-HMAC-SHA256``) authentication for every route that asks for a caller.

Registered in :data:`fakeecs.api.auth.AUTHENTICATORS`, so ``require_token()``
accepts a signed request on the OpenStack routes (Nova, Glance, ...) as well
as on the Huawei-native ones.  The signature is checked against the access
keys the scenario defines, with ``X-Sdk-Date`` at most 15 minutes from the
virtual clock; any failure is a 401 in the API gateway's body.  The project
is the one in the URL, else ``X-Project-Id``, else the key's own project.
"""

from flask import current_app, g, request

from ...model import Forbidden, Unauthorized, signing
from ..auth import cloud
from .common import gateway_error

#: the app extension that switches AK/SK on for one app
EXTENSION = "fakeecs.aksk"


def authenticate():
    """An authenticator: a :class:`Context` for a signed request, ``None`` if unsigned."""
    authorization = request.environ.get("HTTP_AUTHORIZATION", "")
    if not signing.is_signed(authorization) or not current_app.extensions.get(EXTENSION):
        return None
    the_cloud = cloud()
    try:
        access_key = signing.verify(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers=request.headers,
            body=request.get_data(cache=True),
            secret_for=the_cloud.access_key_secret,
            now=the_cloud.now(),
        )
    except signing.SignatureError as error:
        raise gateway_error(401, "APIG.0301", error.message) from None
    project_id = (
        (request.view_args or {}).get("project_id") or request.headers.get("X-Project-Id") or None
    )
    try:
        context = the_cloud.context_for_access_key(access_key, project_id)
    except Forbidden as error:
        raise gateway_error(403, "APIG.0302", error.message) from None
    except Unauthorized as error:
        raise gateway_error(401, "APIG.0301", error.message) from None
    g.access_key = access_key
    return context
