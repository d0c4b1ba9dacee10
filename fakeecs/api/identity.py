"""Keystone v3: version discovery and password/token authentication."""

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates_schema

from ..model import Unauthorized
from ..model.clock import isoformat
from ..model.tokens import token_subject
from .auth import UNAUTHORIZED, base_url, cloud, require_token
from .errors import ApiError, keystone_message
from .jsonbody import json_body
from .params import built

bp = Blueprint("identity", __name__)
#: keystone's ValidationError for a body that is not JSON (its json_body middleware)
MALFORMED = (
    "Expecting to find valid JSON in request body. The server could not comply with "
    "the request since it is either malformed or otherwise incorrect. The client is "
    "assumed to be in error."
)

#: extra catalog entries other blueprints add: callables (base, project_id) -> entry
CATALOG_EXTRAS: list[Callable[[str, str], dict[str, Any]]] = []


def v3_entry():
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base_url()}/v3/"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
    }


@bp.get("/")
def versions():
    response = jsonify({"versions": {"values": [v3_entry()]}})
    response.status_code = 300
    return response


@bp.get("/v3")
def version():
    return jsonify({"version": v3_entry()})


# -- request schemas ------------------------------------------------------------


class _Named(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String()
    name = fields.String()

    @validates_schema
    def _id_or_name(self, data, **kwargs):
        if not data.get("id") and not data.get("name"):
            raise ValidationError("an id or a name is required")


class _Domain(_Named):
    pass


class _UserRef(_Named):
    domain = fields.Nested(_Domain)
    password = fields.String()


class _Password(Schema):
    class Meta:
        unknown = EXCLUDE

    user = fields.Nested(_UserRef, required=True)


class _TokenRef(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True)


class _Identity(Schema):
    class Meta:
        unknown = EXCLUDE

    methods = fields.List(fields.String(), required=True)
    password = fields.Nested(_Password)
    token = fields.Nested(_TokenRef)


class _ProjectScope(_Named):
    domain = fields.Nested(_Domain)


class _Scope(Schema):
    class Meta:
        unknown = EXCLUDE

    project = fields.Nested(_ProjectScope)


class _Auth(Schema):
    class Meta:
        unknown = EXCLUDE

    identity = fields.Nested(_Identity, required=True)
    scope = fields.Raw()


class AuthRequest(Schema):
    class Meta:
        unknown = EXCLUDE

    auth = fields.Nested(_Auth, required=True)


def _ref(named):
    """``{"id"}`` or ``{"name", "domain_id"|"domain_name"}`` for the model."""
    if not named:
        return None
    if named.get("id"):
        return {"id": named["id"]}
    domain = named.get("domain") or {}
    return {
        "name": named.get("name"),
        "domain_id": domain.get("id"),
        "domain_name": domain.get("name"),
    }


@bp.post("/v3/auth/tokens")
def issue_token():
    g.family = "keystone"
    body = json_body(lambda: ApiError(400, MALFORMED))
    try:
        data = built(AuthRequest).load(body if isinstance(body, dict) else {"auth": None})
    except ValidationError as error:
        raise ApiError(400, keystone_message(error)) from None
    identity = data["auth"]["identity"]
    scope_raw = data["auth"].get("scope")
    scope = None
    if scope_raw is not None:
        try:
            scope_data = built(_Scope).load(scope_raw if isinstance(scope_raw, dict) else {})
        except ValidationError as error:
            raise ApiError(400, keystone_message(error, "scope.")) from None
        if "project" not in scope_data:
            raise ApiError(400, "Only project scope is supported by fakeecs.")
        scope = _ref(scope_data["project"])
    methods = identity["methods"]
    try:
        if "password" in methods and identity.get("password"):
            user = identity["password"]["user"]
            token_id, _record = cloud().issue_token(
                user=_ref(user), password=user.get("password"), scope=scope
            )
        elif "token" in methods and identity.get("token"):
            token_id, _record = cloud().issue_token(token=identity["token"]["id"], scope=scope)
        else:
            raise ApiError(400, "Expecting a password or token method with its data.")
    except Unauthorized:
        raise ApiError(401, UNAUTHORIZED) from None
    subject = token_subject(cloud(), token_id)
    if subject is None:  # a reset between issuing and rendering dropped the token
        raise ApiError(401, UNAUTHORIZED)
    response = jsonify({"token": token_body(subject)})
    response.status_code = 201
    response.headers["X-Subject-Token"] = token_id
    return response


@bp.get("/v3/auth/tokens")
@bp.route("/v3/auth/tokens", methods=["HEAD"])
def check_token():
    g.family = "keystone"
    require_token()
    subject = request.headers.get("X-Subject-Token", "")
    record = token_subject(cloud(), subject)
    if record is None:
        raise ApiError(404, f"Could not find token: {subject}.")
    if not record["live"]:  # keystone's answer for an expired token
        raise ApiError(404, "Failed to validate token")
    if request.method == "HEAD":
        return Response(status=200, headers={"X-Subject-Token": subject})
    response = jsonify({"token": token_body(record)})
    response.headers["X-Subject-Token"] = subject
    return response


def role_id(name):
    return hashlib.md5(name.encode()).hexdigest()


def token_body(record: dict[str, Any]) -> dict[str, Any]:
    """A Keystone token body from :func:`~fakeecs.model.tokens.token_subject` (a copy made under the lock)."""
    user, project = record["user"], record["project"]
    return {
        "methods": record["methods"],
        "expires_at": record["expires_at"],
        "issued_at": isoformat(record["issued_at"], micro=True) + "Z",
        "audit_ids": [hashlib.md5(str(record["issued_at"]).encode()).hexdigest()[:22]],
        "user": {
            "id": user["id"],
            "name": user["name"],
            "password_expires_at": None,
            "domain": dict(record["user_domain"]),
        },
        "project": {
            "id": project["id"],
            "name": project["name"],
            "is_domain": False,
            "domain": dict(record["project_domain"]),
        },
        "roles": [{"id": role_id(name), "name": name} for name in record["roles"]],
        "catalog": catalog(project["id"]),
    }


def catalog(project_id):
    base = base_url()
    region = cloud().region

    def entry(kind, name, url):
        endpoint_id = hashlib.md5(f"{kind}{url}".encode()).hexdigest()
        return {
            "type": kind,
            "name": name,
            "id": hashlib.md5(kind.encode()).hexdigest(),
            "endpoints": [
                {
                    "id": endpoint_id,
                    "interface": "public",
                    "region": region,
                    "region_id": region,
                    "url": url,
                }
            ],
        }

    entries = [
        entry("compute", "nova", f"{base}/v2.1/{project_id}"),
        entry("image", "glance", f"{base}/image"),
        entry("volumev3", "cinderv3", f"{base}/volume/v3/{project_id}"),
        entry("block-storage", "cinder", f"{base}/volume/v3/{project_id}"),
        entry("identity", "keystone", f"{base}/v3"),
    ]
    for extra in CATALOG_EXTRAS:
        entries.append(entry(*extra(base, project_id)))
    return entries


def register(app):
    app.register_blueprint(bp)
