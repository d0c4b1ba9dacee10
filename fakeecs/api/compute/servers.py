"""Servers, their actions (createImage first), availability zones and flavors."""

import re

from flask import Response, g, jsonify, request

from ...model import legacy_bdm
from ...model.compute import generated_admin_pass
from ...model.server_filters import ServerQuery, parse_isotime
from ..auth import base_url, cloud, require_token
from ..errors import ApiError
from ..jsonbody import json_body
from ..params import BoolQuery, bool_from_string, malformed, nova_page_limit, validated
from . import bp, check_project, legacy, route, schemas, views

#: ``all_tenants``: present and empty means true, else a strict boolean word
ALL_TENANTS = BoolQuery(
    not_boolean="Unrecognized value '{value}', acceptable values are: {words}", empty=True
)
#: list filters that take comma-separated tags (2.26+), and the ServerQuery field of each
TAG_FILTERS = {
    "tags": "tags",
    "tags-any": "tags_any",
    "not-tags": "not_tags",
    "not-tags-any": "not_tags_any",
}
#: every status Nova's ``_STATE_MAP`` knows (2.38+ refuses the others)
KNOWN_STATUSES = (
    "ACTIVE",
    "BUILD",
    "REBUILD",
    "REBOOT",
    "HARD_REBOOT",
    "PASSWORD",
    "RESIZE",
    "VERIFY_RESIZE",
    "REVERT_RESIZE",
    "MIGRATING",
    "SHUTOFF",
    "PAUSED",
    "SUSPENDED",
    "RESCUE",
    "ERROR",
    "DELETED",
    "SOFT_DELETED",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "UNKNOWN",
)


def _server_view(server):
    flavor = cloud().flavors.get(server.flavor_id)
    return views.server(server, flavor, g.context, g.version, base_url())


# -- servers -------------------------------------------------------------------


def _list_query() -> tuple:
    """The list's :class:`ServerQuery` and its ``deleted`` option from the query string."""
    args = request.args
    query = ServerQuery()
    if args.get("name"):
        try:
            query.name = re.compile(args["name"])
        except re.error as error:
            raise ApiError(400, f"Invalid regular expression in name filter: {error}") from None
    if args.get("status"):
        query.status = args["status"].upper()
        if query.status not in KNOWN_STATUSES and g.version >= (2, 38) and not legacy():
            raise ApiError(400, "Invalid status value")
    if "changes-since" in args:
        value = args["changes-since"]
        try:
            query.changes_since = parse_isotime(value)
        except ValueError:
            raise ApiError(
                400,
                "Invalid input for query parameters changes-since. Value: "
                f"{value}. {value!r} is not a 'date-time'",
            ) from None
    if g.version >= (2, 26) and not legacy():
        for param, attr in TAG_FILTERS.items():
            if args.get(param):
                setattr(query, attr, tuple(tag for tag in args[param].split(",") if tag))
    deleted = None
    if "deleted" in args:
        deleted = bool_from_string(args["deleted"]) is True
    return query, deleted


def _list(detail, project_id):
    limit = nova_page_limit()
    query, deleted = _list_query()
    all_projects = ALL_TENANTS.read("all_tenants")
    if all_projects:
        # only with all_tenants does Nova read tenant_id / project_id
        query.project_id = request.args.get("tenant_id") or request.args.get("project_id")
    found, more = cloud().list_servers(
        g.context,
        query,
        limit=limit,
        marker=request.args.get("marker"),
        all_projects=all_projects,
        deleted=deleted,
        view="detail" if detail else "index",
    )
    render = _server_view if detail else (lambda s: views.server_brief(s, base_url()))
    body = {"servers": [render(server) for server in found]}
    if more and found:
        path = request.base_url
        body["servers_links"] = [
            {"rel": "next", "href": f"{path}?limit={limit}&marker={found[-1].id}"}
        ]
    return jsonify(body)


@route("/servers", methods=["GET"])
def list_servers(project_id):
    return _list(False, project_id)


@route("/servers/detail", methods=["GET"])
def list_servers_detail(project_id):
    return _list(True, project_id)


@route("/servers", methods=["POST"])
def create_server(project_id):
    body = json_body(malformed)
    outer = validated(CREATE_SERVER, body)
    spec = validated(schemas.server_spec(g.version, legacy()), outer["server"])
    image_id = spec.get("imageRef") or None
    block_devices = legacy_bdm.convert(
        spec.get("block_device_mapping"), spec.get("block_device_mapping_v2"), bool(image_id)
    )
    # below 2.19 Nova makes the description the server's name
    description = spec.get("description") if g.version >= (2, 19) else spec["name"]
    server = cloud().create_server(
        g.context,
        name=spec["name"],
        flavor_id=spec["flavorRef"],
        image_id=image_id,
        availability_zone=spec.get("availability_zone"),
        metadata=spec.get("metadata"),
        networks=spec.get("networks", "auto"),
        description=description,
        key_name=spec.get("key_name"),
        block_devices=block_devices or None,
        tags=spec.get("tags"),
        user_data=spec.get("user_data"),
        config_drive=spec.get("config_drive", False),
        access_ipv4=spec.get("accessIPv4"),
        access_ipv6=spec.get("accessIPv6"),
        disk_config=spec.get("disk_config"),
    )
    admin_pass = spec.get("adminPass") or generated_admin_pass(server.id)
    response = jsonify(
        {
            "server": {
                "id": server.id,
                "links": views.links(base_url(), server.project_id, "servers", server.id),
                "OS-DCF:diskConfig": "MANUAL",
                "security_groups": [{"name": "default"}],
                "adminPass": admin_pass,
            }
        }
    )
    response.status_code = 202
    response.headers["Location"] = f"{base_url()}/v2.1/{server.project_id}/servers/{server.id}"
    return response


@route("/servers/<server_id>", methods=["GET"])
def show_server(project_id, server_id):
    return jsonify({"server": _server_view(cloud().get_server(g.context, server_id))})


@route("/servers/<server_id>", methods=["PUT"])
def update_server(project_id: str, server_id: str) -> Response:
    """``PUT /servers/{id}``: answers with the core view (no extension keys)."""
    outer = validated(UPDATE_SERVER, json_body(malformed))
    spec = validated(schemas.update_spec(g.version, legacy()), outer["server"])
    names = {
        "name": "name",
        "description": "description",
        "accessIPv4": "access_ipv4",
        "accessIPv6": "access_ipv6",
        "disk_config": "disk_config",
    }
    server = cloud().update_server(
        g.context, server_id, **{names[key]: value for key, value in spec.items()}
    )
    flavor = cloud().flavors.get(server.flavor_id)
    return jsonify(
        {
            "server": views.server_core(
                server, flavor, g.context, g.version, base_url(), extended_addresses=False
            )
        }
    )


@route("/servers/<server_id>", methods=["DELETE"])
def delete_server(project_id, server_id):
    cloud().delete_server(g.context, server_id)
    return Response(status=204)


# -- actions -------------------------------------------------------------------


def _peek(body):
    """Nova's ``action_peek``: the single key of the body."""
    if body is None or isinstance(body, (bool, int, float)):
        raise ApiError(404, "The resource could not be found.")
    if len(body) != 1:
        raise malformed()
    if not isinstance(body, dict):
        raise ApiError(404, "The resource could not be found.")
    return next(iter(body))


@route("/servers/<server_id>/action", methods=["POST"])
def server_action(project_id, server_id):
    body = json_body(malformed)
    name = _peek(body)
    handler = ACTIONS.get(name)
    if handler is None:
        raise ApiError(400, f"There is no such action: {name}")
    check_project(g.context)
    return handler(server_id, body[name])


def create_image(server_id, spec):
    data = validated(schemas.CreateImage, spec, relaxed=legacy())
    old_style = legacy() or g.version < (2, 45)
    image = cloud().create_server_image(
        g.context,
        server_id,
        data["name"],
        data.get("metadata"),
        check_metadata_quota=legacy() or g.version < (2, 39),
    )
    if old_style:
        response = Response(b"", status=202, content_type="text/html; charset=UTF-8")
        response.headers["Location"] = f"{base_url()}/image/images/{image.id}"
        return response
    response = Response(
        f'{{"image_id": "{image.id}"}}', status=202, content_type="application/json"
    )
    return response


def _simple(action):
    def handler(server_id, spec):
        cloud().server_action(g.context, server_id, action)
        return Response(status=202)

    return handler


def reboot(server_id, spec):
    data = validated(schemas.Reboot, spec)
    kind = data["type"]
    if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
        raise ApiError(
            400,
            f"Invalid input for field/attribute type. Value: {kind}. "
            f"{kind!r} is not one of ['HARD', 'Hard', 'SOFT', 'Soft']",
        )
    cloud().server_action(g.context, server_id, "reboot_" + kind.lower())
    return Response(status=202)


def _lock(locked):
    def handler(server_id, spec):
        cloud().set_server_lock(g.context, server_id, locked)
        return Response(status=202)

    return handler


ACTIONS = {
    "createImage": create_image,
    "os-stop": _simple("stop"),
    "os-start": _simple("start"),
    "pause": _simple("pause"),
    "unpause": _simple("unpause"),
    "suspend": _simple("suspend"),
    "resume": _simple("resume"),
    "reboot": reboot,
    "lock": _lock(True),
    "unlock": _lock(False),
}


# -- availability zones and flavors ---------------------------------------------


@route("/os-availability-zone", methods=["GET"])
def availability_zones(project_id):
    zones = cloud().list_availability_zones()
    return jsonify({"availabilityZoneInfo": [views.availability_zone(z, False) for z in zones]})


@route("/os-availability-zone/detail", methods=["GET"])
def availability_zones_detail(project_id):
    zones = cloud().list_availability_zones()
    return jsonify({"availabilityZoneInfo": [views.availability_zone(z, True) for z in zones]})


@route("/flavors", methods=["GET"])
def list_flavors(project_id):
    pid = g.context.project_id
    return jsonify(
        {
            "flavors": [
                views.flavor(f, base_url(), pid, detail=False) for f in cloud().list_flavors()
            ]
        }
    )


@route("/flavors/detail", methods=["GET"])
def list_flavors_detail(project_id):
    pid = g.context.project_id
    return jsonify(
        {
            "flavors": [
                views.flavor(f, base_url(), pid, version=g.version) for f in cloud().list_flavors()
            ]
        }
    )


@route("/flavors/<flavor_id>", methods=["GET"])
def show_flavor(project_id, flavor_id):
    flavor = cloud().get_flavor(flavor_id)
    return jsonify(
        {"flavor": views.flavor(flavor, base_url(), g.context.project_id, version=g.version)}
    )


CREATE_SERVER = schemas.CreateServer()
UPDATE_SERVER = schemas.UpdateServer()

__all__ = ["bp", "require_token"]
