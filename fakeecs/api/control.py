"""``/_fakeecs/``: the control plane over HTTP, and the fault and journal request hooks.

Every route is a thin layer over a :class:`~fakeecs.model.control.ControlMixin`
method: validate the JSON body with a marshmallow schema, call the model,
answer JSON.  ``GET /_fakeecs/openapi.json`` is generated from the same schemas.

Access: by default the control plane answers (the CLI turns it off on a
non-loopback bind).  ``app.config["FAKEECS_CONTROL"]`` holds ``enabled`` and
``admin_token``; with a token, every control call needs it in
``X-FakeECS-Admin-Token``.
"""
import functools
import hmac
import json
import time

from flask import Blueprint, Response, current_app, g, jsonify, request
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .. import __version__
from ..model.clock import AUTO_FLAVOURS, isoformat
from ..model.faults import MATCH_KEYS, RequestInfo
from . import errors, family_for
from .errors import ApiError
from .jsonbody import CONTROL_MAX_BODY_BYTES, body_bytes, parse_json

PREFIX = "/_fakeecs"
ADMIN_HEADER = "X-FakeECS-Admin-Token"
#: request headers worth keeping in the journal (secrets are masked)
JOURNAL_HEADERS = ("Content-Type", "Accept", "User-Agent", "OpenStack-API-Version",
                   "X-OpenStack-Nova-API-Version", "X-Auth-Token", "X-Project-Id",
                   "X-Domain-Id", "X-Sdk-Date", "Authorization", "X-Subject-Token",
                   "X-Request-Id", "X-Client-Request-Id")
SECRET_HEADERS = ("X-Auth-Token", "X-Subject-Token")
#: largest request/response body kept in a journal entry, in bytes
JOURNAL_BODY_LIMIT = 16 * 1024

bp = Blueprint("control", __name__, url_prefix=PREFIX)


def cloud():
    return current_app.extensions["fakeecs"]


# -- schemas (they validate the bodies and generate the OpenAPI document) --------------------

def Bool(**kwargs):
    """A JSON boolean (``"yes"`` or ``1`` are refused)."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


class _Body(Schema):
    class Meta:
        unknown = RAISE


class NumberOrString(fields.Field):
    """A number (epoch seconds) or an ISO-8601 string."""

    _jsonschema = {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return value
        raise ValidationError("must be an ISO-8601 time or epoch seconds")


class Duration(fields.Field):
    _jsonschema = {"oneOf": [{"type": "number", "minimum": 0},
                             {"type": "string", "enum": ["manual", "immediate"]},
                             {"type": "null"}]}

    def __init__(self, **kwargs):
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("manual", "immediate"):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return value
        raise ValidationError(f"must be seconds >= 0, \"manual\", \"immediate\" or null, not {value!r}")


class StringOrList(fields.Field):
    _jsonschema = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            return value
        raise ValidationError("must be a non-empty string or a list of them")


class Steps(fields.Field):
    _jsonschema = {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["all"]}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValidationError("must be an integer >= 1 or \"all\"")


class Fault(fields.Field):
    _jsonschema = {"oneOf": [{"type": "string"}, {"type": "object", "properties": {
        "code": {"type": "integer"}, "message": {"type": "string"}, "details": {"type": "string"}},
        "required": ["message"]}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, dict)):
            return value
        raise ValidationError("must be a message or {code, message, details}")


class Seed(fields.Field):
    _jsonschema = {"oneOf": [{"type": "integer"}, {"type": "string"}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return value
        raise ValidationError("must be an integer or a string")


class ScenarioRef(fields.Field):
    _jsonschema = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value and all(isinstance(v, (str, dict)) for v in value):
            return value
        raise ValidationError("must be a scenario name or path, or a list of them")


class ResetBody(_Body):
    """Reset to the starting world, or start over from other scenario(s)."""

    scenario = ScenarioRef(metadata={"description": "name or path (or a list of them)"})


class ScenarioBody(_Body):
    """Load a scenario on top of the current state: exactly one of name, path, scenario."""

    name = fields.String(validate=validate.Length(min=1),
                         metadata={"description": "a scenario of scenarios/ (without .yaml)"})
    path = fields.String(validate=validate.Length(min=1), metadata={"description": "a YAML file"})
    scenario = fields.Dict(metadata={"description": "an inline scenario (the YAML as JSON)"})

    @validates_schema
    def _exactly_one(self, data, **kwargs):
        given = [k for k in ("name", "path", "scenario") if k in data]
        if len(given) != 1:
            raise ValidationError("give exactly one of name, path or scenario")


class StateBody(Schema):
    """An export of GET /_fakeecs/state, taken back as is."""

    class Meta:
        unknown = "include"

    format = fields.String(required=True, validate=validate.Equal("fakeecs-state"))
    version = fields.Integer(required=True, strict=True)
    region = fields.String()
    clock = fields.Dict()
    ids = fields.Dict()
    seq = fields.Integer(strict=True)
    transitions = fields.Dict()
    heap = fields.List(fields.List(fields.Raw()))
    stores = fields.Dict(keys=fields.String(), values=fields.Raw())


class ClockBody(_Body):
    """Set the clock's mode, speed, time and/or auto flavour."""

    mode = fields.String(validate=validate.OneOf(("realtime", "frozen")))
    now = NumberOrString()
    speed = fields.Float(validate=validate.Range(min=0, min_inclusive=False))
    auto = fields.String(validate=validate.OneOf(AUTO_FLAVOURS), metadata={
        "description": "how a read of a resource with pending work moves the clock: off, "
                       "step (to its next step) or finish (to the end of its process)"})

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one of mode, now, speed, auto")


class AdvanceBody(_Body):
    """Advance the clock by ``seconds``, running every transition that falls due."""

    seconds = fields.Float(required=True, validate=validate.Range(min=0))


class TransitionsBody(Schema):
    """``{process: seconds | "manual" | "immediate" | null}``."""

    class Meta:
        unknown = RAISE


class ResourceAdvanceBody(_Body):
    steps = Steps(metadata={"description": "how many steps (default 1), or \"all\""})


class ForceBody(_Body):
    """A server takes vm_state, task_state, power_state, fault, locked; others take status."""

    vm_state = fields.String()
    task_state = fields.String(allow_none=True)
    power_state = fields.Raw()
    fault = Fault()
    locked = Bool()
    status = fields.String()


class MatchBody(_Body):
    method = StringOrList(metadata={"description": "HTTP method(s)"})
    path = StringOrList(metadata={"description": "glob: * within a segment, ** across"})
    action = StringOrList(metadata={"description": "server action (first key of an /action body)"})
    project = StringOrList(metadata={"description": "project id or name"})
    family = StringOrList(metadata={"description": "API family: nova, glance, cinder, keystone, ims, ecs"})


class FaultBody(_Body):
    """A fault rule."""

    match = fields.Nested(MatchBody)
    status = fields.Integer(strict=True, allow_none=True, validate=validate.Range(100, 599),
                            metadata={"description": "null: only the latency"})
    message = fields.String()
    body = fields.Raw(allow_none=True, metadata={"description": "answer this JSON instead"})
    headers = fields.Dict(keys=fields.String(), values=fields.String())
    skip = fields.Integer(strict=True, validate=validate.Range(min=0))
    times = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1))
    latency_ms = fields.Float(validate=validate.Range(min=0))
    probability = fields.Float(validate=validate.Range(0, 1))
    side_effect = Bool(metadata={"description": "the operation still happens"})


class SeedBody(_Body):
    seed = Seed(required=True)


class RequestsQuery(_Body):
    method = fields.String()
    path = fields.String(metadata={"description": "glob"})
    status = fields.Integer()
    action = fields.String()
    project = fields.String()
    since = fields.Integer(metadata={"description": "only entries with a larger seq"})
    limit = fields.Integer(validate=validate.Range(min=0))


class Error(Schema):
    error = fields.Dict(metadata={"description": "{status, message}"})


# -- plumbing --------------------------------------------------------------------------------

def _messages(error_dict, path=""):
    if isinstance(error_dict, dict):
        for key, value in error_dict.items():
            sub = path if key == "_schema" else (f"{path}.{key}" if path else str(key))
            yield from _messages(value, sub)
    elif isinstance(error_dict, list):
        for item in error_dict:
            yield from _messages(item, path)
    else:
        yield f"{path}: {error_dict}" if path else str(error_dict)


def _load(schema, data):
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ApiError(400, "; ".join(_messages(error.messages))) from None


def _body(schema=None, *, allow_empty=False):
    raw = body_bytes(CONTROL_MAX_BODY_BYTES)
    if not raw.strip():
        if allow_empty:
            return {}
        raise ApiError(400, "a JSON body is required")
    try:
        data = parse_json(raw)
    except ValueError:
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return _load(schema, data) if schema is not None else data


def _given(raw, loaded):
    """Only the keys the client sent (marshmallow may add nothing, but be explicit)."""
    return {k: v for k, v in loaded.items() if k in raw}


def _json(data, status=200):
    response = jsonify(data)
    response.status_code = status
    return response


def _rule(rule):
    return rule.to_dict()


@bp.before_request
def _guard():
    config = current_app.config.get("FAKEECS_CONTROL") or {}
    if not config.get("enabled", True):
        raise ApiError(404, "the control plane is off: fakeecs is bound to a non-loopback "
                            "address; start it with --admin-token to enable /_fakeecs/")
    token = config.get("admin_token")
    if token:
        given = request.headers.get(ADMIN_HEADER, "")
        if not given:
            raise ApiError(401, f"this control plane needs the {ADMIN_HEADER} header")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(403, f"wrong {ADMIN_HEADER}")
    return None


# -- routes -------------------------------------------------------------------------------------

ROUTES = []


def route(path, methods, summary, body=None, query=None, status=200, tag="control"):
    def decorator(fn):
        for method in methods:
            ROUTES.append({"path": path, "method": method.lower(), "summary": summary,
                           "body": body, "query": query, "status": status, "tag": tag,
                           "name": fn.__name__})
        bp.add_url_rule(path, fn.__name__, fn, methods=methods)
        return fn

    return decorator


@route("/health", ["GET"], "Liveness and version")
def health():
    return _json({"status": "ok", "version": __version__, "region": cloud().region})


@route("/reset", ["POST"], "Back to the starting scenario(s), or start over from another",
       body=ResetBody)
def reset():
    data = _body(ResetBody(), allow_empty=True)
    return _json(cloud().reset(data.get("scenario")))


@route("/scenarios", ["GET"], "The named scenarios that can be loaded")
def list_scenarios():
    from ..model import scenario

    return _json({"scenarios": scenario.available()})


@route("/scenarios", ["POST"], "Load a scenario on top of the current state", body=ScenarioBody)
def load_scenario():
    data = _body(ScenarioBody())
    target = data.get("name") or data.get("path") or data.get("scenario")
    if "name" in data and ("/" in target or target.endswith((".yaml", ".yml"))):
        raise ApiError(400, "name: a scenario name has no '/' or extension; use path for files")
    return _json(cloud().load_scenario(target))



@route("/state", ["GET"], "Export the whole state (versioned JSON)")
def export_state():
    return _json(cloud().export_state())


@route("/state", ["PUT"], "Import a state export (replaces everything)", body=StateBody)
def import_state():
    data = _body()
    _load(StateBody(), data)
    return _json(cloud().import_state(data))


@route("/clock", ["GET"], "Read the virtual clock")
def get_clock():
    return _json(cloud().get_clock())


@route("/clock", ["PUT"], "Set the clock mode, speed, time and/or auto flavour", body=ClockBody)
def set_clock():
    data = _body(ClockBody())
    return _json(cloud().set_clock(**data))


@route("/clock/advance", ["POST"], "Advance the clock, running due transitions in order",
       body=AdvanceBody)
def advance_clock():
    data = _body(AdvanceBody())
    return _json(cloud().advance_clock(data["seconds"]))


@route("/transitions", ["GET"], "Duration of each timed process")
def get_transitions():
    return _json(cloud().get_transitions())


@route("/transitions", ["PUT"], "Set process durations (seconds, \"manual\", \"immediate\", null)",
       body=TransitionsBody)
def set_transitions():
    data = _body()
    bad = {k: v for k, v in data.items() if not _duration_ok(v)}
    if bad:
        key, value = next(iter(bad.items()))
        raise ApiError(400, f"{key}: must be seconds >= 0, \"manual\", \"immediate\" or null, "
                            f"not {json.dumps(value)}")
    replace = request.args.get("replace", "").lower() in ("1", "true", "yes")
    return _json(cloud().set_transitions(data, replace=replace))


@route("/transitions", ["DELETE"], "Every process back to its default duration")
def reset_transitions():
    return _json(cloud().set_transitions({}, replace=True))


def _duration_ok(value):
    return value is None or value in ("manual", "immediate") or (
        isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0)


@route("/resources/<kind>/<resource_id>", ["GET"], "A resource's state and pending processes")
def describe_resource(kind, resource_id):
    result = cloud().describe_resource(kind, resource_id)
    if not result["exists"] and not result["pending"]:
        cloud()._resource(kind, resource_id)  # raises the right 400/404
    return _json(result)


@route("/resources/<kind>/<resource_id>/advance", ["POST"],
       "Move one resource one step (or more) along its pending process", body=ResourceAdvanceBody)
def advance_resource(kind, resource_id):
    data = _body(ResourceAdvanceBody(), allow_empty=True)
    return _json(cloud().advance_resource(kind, resource_id, data.get("steps", 1)))


@route("/resources/<kind>/<resource_id>/state", ["POST"], "Force a resource's state",
       body=ForceBody)
def force_state(kind, resource_id):
    raw = _body()
    data = _load(ForceBody(), raw)
    return _json(cloud().force_state(kind, resource_id, **_given(raw, data)))


@route("/faults", ["GET"], "The fault rules, in the order they are tried")
def list_faults():
    return _json({"faults": [_rule(r) for r in cloud().faults]})


@route("/faults", ["POST"], "Add a fault rule", body=FaultBody, status=201)
def add_fault():
    raw = _body()
    _load(FaultBody(), raw)
    return _json(_rule(cloud().add_fault(raw)), 201)


@route("/faults", ["DELETE"], "Remove every fault rule")
def clear_faults():
    removed = [r.id for r in cloud().faults]
    cloud().clear_faults()
    return _json({"deleted": removed})


@route("/faults/<rule_id>", ["GET"], "One fault rule")
def get_fault(rule_id):
    return _json(_rule(cloud().get_fault(rule_id)))


@route("/faults/<rule_id>", ["DELETE"], "Remove one fault rule")
def remove_fault(rule_id):
    return _json({"deleted": [cloud().remove_fault(rule_id).id]})


@route("/requests", ["GET"], "The request journal (oldest first) and how many were dropped",
       query=RequestsQuery)
def list_requests():
    query = _load(RequestsQuery(), request.args.to_dict())
    return _json(cloud().list_requests(**query))


@route("/requests", ["DELETE"], "Empty the request journal")
def clear_requests():
    count = len(cloud().journal)
    cloud().clear_requests()
    return _json({"cleared": count})


@route("/seed", ["POST"], "Seed the id and probability generators", body=SeedBody)
def seed():
    data = _body(SeedBody())
    return _json(cloud().seed(data["seed"]))


@route("/openapi.json", ["GET"], "This document")
def openapi():
    return _json(openapi_document())


# -- OpenAPI from the marshmallow schemas ------------------------------------------------------------

def field_schema(field):
    custom = getattr(field, "_jsonschema", None)
    if custom is not None:
        out = dict(custom)
    elif isinstance(field, fields.Nested):
        nested = field.nested if isinstance(field.nested, type) else type(field.nested)
        out = {"$ref": f"#/components/schemas/{nested.__name__}"}
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.Dict):
        out = {"type": "object"}
        if field.value_field is not None:
            out["additionalProperties"] = field_schema(field.value_field)
    elif isinstance(field, fields.Boolean):
        out = {"type": "boolean"}
    elif isinstance(field, fields.Integer):
        out = {"type": "integer"}
    elif isinstance(field, (fields.Float, fields.Number)):
        out = {"type": "number"}
    elif isinstance(field, fields.String):
        out = {"type": "string"}
    else:
        out = {}
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            out["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                out["exclusiveMinimum" if not validator.min_inclusive else "minimum"] = validator.min
            if validator.max is not None:
                out["maximum"] = validator.max
        elif isinstance(validator, validate.Length) and validator.min is not None:
            out["minLength"] = validator.min
        elif isinstance(validator, validate.Equal):
            out["enum"] = [validator.comparable]
    if field.allow_none and "$ref" not in out and "oneOf" not in out:
        out["nullable"] = True
    description = field.metadata.get("description")
    if description:
        out["description"] = description
    return out


def schema_object(schema_cls):
    schema = schema_cls()
    out = {"type": "object", "properties": {}}
    required = []
    for name, field in schema.fields.items():
        out["properties"][name] = field_schema(field)
        if field.required:
            required.append(name)
    if required:
        out["required"] = required
    unknown = getattr(schema_cls.Meta, "unknown", RAISE) if hasattr(schema_cls, "Meta") else RAISE
    if schema_cls is TransitionsBody:
        out["additionalProperties"] = Duration._jsonschema
    elif unknown == RAISE:
        out["additionalProperties"] = False
    if schema_cls.__doc__:
        out["description"] = " ".join(schema_cls.__doc__.split())
    return out


def _collect(schema_cls, found):
    if schema_cls.__name__ in found:
        return
    found[schema_cls.__name__] = schema_object(schema_cls)
    for field in schema_cls().fields.values():
        if isinstance(field, fields.Nested):
            nested = field.nested if isinstance(field.nested, type) else type(field.nested)
            _collect(nested, found)


def openapi_document():
    components = {}
    _collect(Error, components)
    paths = {}
    for entry in ROUTES:
        path = PREFIX + entry["path"].replace("<", "{").replace(">", "}")
        operation = {"summary": entry["summary"], "operationId": entry["name"],
                     "tags": [entry["tag"]], "responses": {
                         str(entry["status"]): {"description": "OK", "content": {
                             "application/json": {"schema": {"type": "object"}}}},
                         "400": {"description": "bad input", "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/Error"}}}}}}
        parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in ("kind", "resource_id", "rule_id") if f"<{name}>" in entry["path"]]
        if entry["query"] is not None:
            for name, field in entry["query"]().fields.items():
                parameters.append({"name": name, "in": "query", "required": False,
                                   "schema": field_schema(field)})
        if parameters:
            operation["parameters"] = parameters
        if entry["body"] is not None:
            _collect(entry["body"], components)
            operation["requestBody"] = {
                "required": entry["body"] not in (ResetBody, ResourceAdvanceBody),
                "content": {"application/json": {"schema": {
                    "$ref": f"#/components/schemas/{entry['body'].__name__}"}}}}
        paths.setdefault(path, {})[entry["method"]] = operation
    from .ui import openapi_paths

    paths.update(openapi_paths())  # the dashboard, /_fakeecs/ui
    return {
        "openapi": "3.0.3",
        "info": {"title": "fakeecs control plane", "version": __version__,
                 "description": "Reset, scenarios, state, virtual time, transitions, forced "
                                "states, fault injection and the request journal."},
        "components": {"schemas": components,
                       "securitySchemes": {"adminToken": {"type": "apiKey", "in": "header",
                                                          "name": ADMIN_HEADER}}},
        "paths": paths,
    }


# -- request hooks: fault injection and the journal ----------------------------------------------

def _is_control(path):
    return path == PREFIX or path.startswith(PREFIX + "/")


#: (journal name, WSGI environ key) of the request headers the journal keeps
_JOURNAL_ENVIRON = tuple(
    (name, name.upper().replace("-", "_") if name == "Content-Type"
     else "HTTP_" + name.upper().replace("-", "_")) for name in JOURNAL_HEADERS)


def _action(method, path, raw):
    """The action of ``POST .../action`` (the body's only key), from the raw body."""
    if method != "POST" or not path.rstrip("/").endswith("/action") or not raw:
        return None
    try:
        body = parse_json(raw)
    except ValueError:
        return None
    if isinstance(body, dict) and body:
        return next(iter(body))
    return None


def _request_raw(req=None):
    """The request body when it is small enough to look at, else ``None`` (an oversized
    or streamed upload is never read by the hooks; a request without a body costs nothing)."""
    req = req or request._get_current_object()
    environ = req.environ
    length = req.content_length
    if length is None:
        if "HTTP_TRANSFER_ENCODING" not in environ:
            return b""
        return req.get_data(cache=True)
    return req.get_data(cache=True) if length <= JOURNAL_BODY_LIMIT else None


def _project(model):
    """The project a request is for: its token's, else a project id in the path."""
    token = request.headers.get("X-Auth-Token")
    record = model.tokens.get(token) if token else None
    project_id = record.get("project_id") if record else None
    if project_id is None:
        project_id = request.headers.get("X-Project-Id")
    if project_id is None:
        for segment in request.path.split("/"):
            if segment in model.projects:
                project_id = segment
                break
    project = model.projects.get(project_id) if project_id else None
    return project_id, project.name if project is not None else None


def _describe_request():
    """The request's facts (family, project, action), worked out once per request."""
    info = g.get("fakeecs_request")
    if info is None:
        path, method = request.path, request.method
        project_id, project_name = _project(cloud())
        info = g.fakeecs_request = RequestInfo(
            method=method, path=path, action=_action(method, path, _request_raw()),
            project_id=project_id, project_name=project_name,
            family=g.get("path_family") or family_for(path))
    return info


def _fault_response(rule, family):
    if rule.body is not None:
        response = Response(json.dumps(rule.body), status=rule.status,
                            content_type="application/json")
    else:
        message = rule.message or f"fakeecs injected fault ({rule.id})"
        family = family if family in errors.RENDERERS else "nova"
        response = errors.render(family, rule.status, message)
    for key, value in rule.headers.items():
        response.headers[key] = value
    response.headers["X-FakeECS-Fault"] = rule.id
    return response


def before_hook():
    """Record the start, then let a matching fault rule delay and/or answer the request;
    with no fault rule set this costs a clock read."""
    if _is_control(request.path):
        return None
    g.fakeecs_started = time.perf_counter()
    model = cloud()
    rule = model.match_fault(_describe_request)
    if rule is None:
        return None
    g.fakeecs_fault = rule
    sleep = model.charge_latency(rule.latency_ms)
    if sleep:
        time.sleep(sleep)
    if rule.status is None or rule.side_effect:
        return None
    return _fault_response(rule, g.fakeecs_request.family)


def after_hook(response):
    """Swap in a side-effect fault's error, then journal the exchange."""
    if _is_control(request.path):
        return response
    rule = g.get("fakeecs_fault")
    if rule is not None and rule.side_effect and rule.status is not None:
        request_id = response.headers.get("X-OpenStack-Request-ID")
        response = _fault_response(rule, _describe_request().family)
        if request_id:
            response.headers["X-OpenStack-Request-ID"] = request_id
    try:
        _journal(response, rule)
    except Exception:  # the journal must never break a response
        current_app.logger.exception("fakeecs: could not journal %s %s", request.method, request.path)
    return response


def _masked(name, value):
    if name in SECRET_HEADERS:
        return value[:6] + "..." if len(value) > 6 else "***"
    if name == "Authorization":
        head, _, _ = value.partition("Signature=")
        return head + ("Signature=***" if "Signature=" in value else "")
    return value


def _body_record(raw, content_type, length=None):
    if not raw:
        return {"truncated": True, "bytes": length} if length else None
    if len(raw) > JOURNAL_BODY_LIMIT:
        return {"truncated": True, "bytes": len(raw)}
    if "json" in (content_type or "") or raw[:1] in (b"{", b"["):
        try:
            return parse_json(raw)
        except ValueError:
            pass
    if "octet-stream" in (content_type or ""):
        return {"bytes": len(raw)}
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": len(raw)}


def _journal(response, rule):
    """Record the exchange cheaply: raw bytes and references now, decoding on read."""
    model = cloud()
    req, facts = request._get_current_object(), g._get_current_object()
    environ = req.environ
    method, path = req.method, req.path
    info = facts.get("fakeecs_request")
    if info is not None:
        project_id, project_name = info.project_id, info.project_name
    else:
        project_id, project_name = _project(model)
    started = facts.get("fakeecs_started")
    now = model.now()
    headers = [(name, environ[key]) for name, key in _JOURNAL_ENVIRON if key in environ]
    response_raw = None
    if not response.direct_passthrough and not response.is_streamed:
        response_raw = response.get_data()
    details = functools.partial(
        _journal_details, now=now, method=method, path=path, args=req.args, headers=headers,
        raw=_request_raw(req), content_type=environ.get("CONTENT_TYPE"),
        length=req.content_length, action=info.action if info is not None else None,
        known=info is not None, response_raw=response_raw,
        response_type=response.content_type)
    model.journal.record({
        "epoch": now,
        "method": method,
        "path": path,
        "project_id": project_id,
        "project_name": project_name,
        "family": facts.get("path_family") or family_for(path),
        "status": response.status_code,
        "request_id": response.headers.get("X-OpenStack-Request-ID") or facts.get("request_id"),
        "fault": rule.id if rule is not None and rule.status is not None else None,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3) if started else None,
    }, details)


def _journal_details(*, now, method, path, args, headers, raw, content_type, length, action,
                     known, response_raw, response_type):
    """The journal fields decoded only when someone reads the journal."""
    query = {}
    for key in args:
        values = args.getlist(key)
        query[key] = values[0] if len(values) == 1 else values
    return {
        "time": isoformat(now, micro=True) + "Z",
        "query": query,
        "headers": {name: _masked(name, value) for name, value in headers},
        "body": _body_record(raw, content_type, length),
        "action": action if known else _action(method, path, raw),
        "response": _body_record(response_raw, response_type),
    }


def register(app):
    from . import ui

    app.register_blueprint(bp)
    ui.register(app)  # the dashboard, /_fakeecs/ui, under the same access rules
    app.config.setdefault("FAKEECS_CONTROL", {"enabled": True, "admin_token": None})
    hooks = app.config["FAKEECS_HOOKS"]
    hooks["before"].insert(0, before_hook)
    hooks["after"].append(after_hook)


__all__ = ["register", "openapi_document", "MATCH_KEYS"]
