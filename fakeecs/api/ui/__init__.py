"""``/_fakeecs/ui``: a dashboard to watch and steer a running fakeecs.

Server-rendered pages (Jinja templates in ``templates/``, with one stylesheet
and one small script inlined from there: no other route, nothing fetched from
elsewhere):

- ``/_fakeecs/ui``: each project's servers, images (with the server and AZ they
  came from), volumes, snapshots and IMS jobs; the pending processes;
- ``/_fakeecs/ui/resource/<kind>/<id>``: one resource, its processes, its images;
- ``/_fakeecs/ui/journal``: the request journal, live and filterable, with
  request and response bodies;
- ``/_fakeecs/ui/faults``: the fault rules (add, remove);
- ``/_fakeecs/ui/control``: transitions, reset, scenarios.

Every page carries the clock and buttons to move it.  Buttons are plain HTML
forms that POST to the dashboard, which calls the same model operations as the
JSON control plane and redirects back with a note or an error.

Access follows the control plane: off where it is off; with an admin token,
the token is needed (``X-FakeECS-Admin-Token``, or a cookie set by the login
form).  Forms are refused from other sites.  Nothing shown contains a secret
(:mod:`.redact`).
"""

import hmac
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from ...model import DomainError
from ...model.clock import PRESETS, expand_preset
from .. import control
from ..errors import ApiError
from . import overview
from .redact import MASK, known_secrets, redact

PREFIX = control.PREFIX + "/ui"
COOKIE = "fakeecs_admin_token"
#: how many journal entries a page load shows at most (then it follows live)
JOURNAL_PAGE = 500
#: the advance buttons of the clock bar, in seconds
ADVANCE_STEPS = (1, 10, 60, 600)

bp = Blueprint("ui", __name__, url_prefix=PREFIX, template_folder="templates")


#: (path, method, summary, endpoint) of every dashboard route, for the OpenAPI document
ROUTES: list[tuple[str, str, str, str]] = []


def ui_route(path: str, method: str, summary: str):
    """Register a dashboard route (and describe it in ``/_fakeecs/openapi.json``)."""

    def decorator(view):
        ROUTES.append((path, method, summary, view.__name__))
        bp.add_url_rule(path, view.__name__, view, methods=[method])
        return view

    return decorator


def openapi_paths() -> dict[str, Any]:
    """The dashboard's routes as OpenAPI paths: pages answer HTML, forms redirect back."""
    paths: dict[str, Any] = {}
    for path, method, summary, name in ROUTES:
        if method == "POST":
            responses: dict[str, Any] = {
                "303": {"description": "back to the page, with ?note= or ?error="}
            }
        else:
            kind = "application/json" if path.endswith(".json") else "text/html"
            responses = {
                "200": {
                    "description": "OK",
                    "content": {
                        kind: {
                            "schema": {"type": "object" if kind == "application/json" else "string"}
                        }
                    },
                }
            }
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": "ui_" + name,
            "tags": ["dashboard"],
            "responses": responses,
        }
        parameters = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in ("kind", "resource_id", "rule_id")
            if f"<{p}>" in path
        ]
        if parameters:
            operation["parameters"] = parameters
        if method == "POST":
            operation["requestBody"] = {
                "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
            }
        full = PREFIX + path.replace("<", "{").replace(">", "}")
        paths.setdefault(full, {})[method.lower()] = operation
    return paths


def cloud():
    return current_app.extensions["fakeecs"]


def _config() -> dict[str, Any]:
    return current_app.config.get("FAKEECS_CONTROL") or {}


def _secrets():
    return known_secrets(cloud(), _config().get("admin_token"))


# -- access -------------------------------------------------------------------------------


def _authorised(token: str) -> bool:
    given = request.headers.get(control.ADMIN_HEADER) or request.cookies.get(COOKIE) or ""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def _same_origin() -> bool:
    """A form POST from this dashboard (not a page of another site)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.host


@bp.before_request
def _guard():
    config = _config()
    if not config.get("enabled", True):
        return _message_page(
            "The control plane is off",
            "fakeecs is bound to a non-loopback "
            "address; start it with --admin-token to enable /_fakeecs/.",
            404,
        )
    token = config.get("admin_token")
    if token and request.endpoint != "ui.login" and not _authorised(token):
        back = request.full_path if request.method == "GET" else url_for("ui.state")
        return render_template("login.html", error=None, next=back), 401
    if request.method == "POST" and not _same_origin():
        return _message_page("Refused", "dashboard forms only work from the dashboard itself.", 403)
    return None


def _message_page(title: str, text: str, status: int) -> Response:
    return Response(
        render_template("message.html", title=title, text=text),
        status=status,
        content_type="text/html; charset=utf-8",
    )


@ui_route("/login", "POST", "Give the admin token; it is kept in a cookie for the dashboard")
def login():
    token = _config().get("admin_token")
    given = request.form.get("token", "")
    target = _safe_next(request.form.get("next"))
    if not token:
        return redirect(target, 303)
    if not hmac.compare_digest(given.encode(), token.encode()):
        return render_template("login.html", error="wrong admin token", next=target), 403
    response = redirect(target, 303)
    response.set_cookie(COOKIE, given, httponly=True, samesite="Strict", path=PREFIX)
    return response


# -- plumbing -----------------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    """A dashboard path to go back to (never another site)."""
    if value and value.startswith(PREFIX) and "//" not in value and "\\" not in value:
        return value
    return url_for("ui.state")


def _back(note: str | None = None, error: str | None = None) -> WerkzeugResponse:
    target = _safe_next(request.form.get("next"))
    base, _, query = target.partition("?")
    params = [p for p in query.split("&") if p and not p.startswith(("note=", "error="))]
    if note:
        params.append(urlencode({"note": note}))
    if error:
        params.append(urlencode({"error": error}))
    return redirect(base + ("?" + "&".join(params) if params else ""), 303)


def _act(action, note):
    """Run a form's action; back to the page with ``note`` (a format of the result) or the error."""
    try:
        result = action()
    except (DomainError, ApiError) as error:
        return _back(error=error.message)
    return _back(note=note(result) if callable(note) else note)


def _page(template: str, **context) -> str:
    model = cloud()
    return render_template(
        template,
        clock=model.get_clock(),
        presets=list(PRESETS),
        advance_steps=ADVANCE_STEPS,
        preset=_preset(model),
        note=request.args.get("note"),
        error=request.args.get("error"),
        here=request.full_path.rstrip("?"),
        journal_size=len(model.journal),
        **context,
    )


def _preset(model) -> str:
    for name, (mode, auto) in PRESETS.items():
        if (model.clock.mode, model.clock.auto) == (mode, auto):
            return name
    return f"{model.clock.mode}+{model.clock.auto}"


def _number(field: str, text: str, cast=float):
    try:
        return cast(text)
    except ValueError:
        raise ApiError(400, f"{field}: not a number: {text!r}") from None


# -- pages --------------------------------------------------------------------------------


@ui_route("/", "GET", "The state: each project's resources and the pending processes")
def state():
    return _page("state.html", view=overview.overview(cloud()), mask=MASK)


@ui_route(
    "/resource/<kind>/<resource_id>",
    "GET",
    "One resource, its processes and the images made from it",
)
def resource(kind, resource_id):
    model = cloud()
    with model.lock:
        model.settle()
        store = model.resource_kinds().get(kind)
        item = getattr(model, store).get(resource_id) if store else None
        described = model.describe_resource(kind, resource_id) if store else None
        record = redact(item.to_dict(), _secrets()) if item is not None else None
        images = [
            overview.image_row(model, image)
            for image in model.images
            if (image.origin or {}).get("server_id") == resource_id
        ]
    status = 200 if record is not None or (described and described["pending"]) else 404
    body = _page(
        "resource.html",
        kind=kind,
        resource_id=resource_id,
        record=record,
        described=described,
        images=images,
        known=store is not None,
        record_json=json.dumps(record, indent=1, sort_keys=True, default=str),
    )
    return body, status


@ui_route("/journal", "GET", "The request journal, live and filterable")
def journal():
    return _page("journal.html", query=request.args.get("q", ""))


@ui_route(
    "/journal.json",
    "GET",
    "Journal entries after ?since=<seq>, secrets masked (the journal page's feed)",
)
def journal_json():
    """Entries after ``since`` (at most the last JOURNAL_PAGE), redacted; ``oldest`` is the
    first seq the journal still holds, so a page drops what was cleared or pushed out."""
    given = request.args.get("since", "")
    since = int(given) if given.isdigit() else 0
    found = cloud().list_requests()
    entries = found["requests"]
    fresh = [entry for entry in entries if entry["seq"] > since][-JOURNAL_PAGE:]
    secrets = _secrets()
    return jsonify(
        {
            "requests": [redact(entry, secrets) for entry in fresh],
            "oldest": entries[0]["seq"] if entries else None,
            "dropped": found["dropped"],
        }
    )


@ui_route("/faults", "GET", "The fault rules, and a form to add one")
def faults():
    return _page(
        "faults.html",
        rules=[redact(r.to_dict(), _secrets()) for r in cloud().faults],
        families=("nova", "glance", "cinder", "keystone", "ims", "ecs", "evs", "iam"),
    )


@ui_route("/control", "GET", "Transitions, reset and scenarios")
def control_page():
    from ...model import scenario

    model = cloud()
    return _page(
        "control.html", transitions=model.get_transitions(), scenarios=scenario.available()
    )


# -- actions ------------------------------------------------------------------------------


@ui_route("/clock/advance", "POST", "Advance the clock (seconds, or to=next)")
def advance_clock():
    model = cloud()
    if request.form.get("to") == "next":
        with model.lock:
            model.settle()
            due = [job.due for job in model.jobs.values() if job.due is not None]
            if not due:
                return _back(error="no timed process is pending")
            seconds = max(min(due) - model.now(), 0.0)
    else:
        try:
            seconds = _number("seconds", request.form.get("seconds", ""))
        except ApiError as error:
            return _back(error=error.message)
    return _act(
        lambda: model.advance_clock(seconds),
        lambda clock: f"clock advanced {seconds:g} s to {clock['now']}",
    )


@ui_route("/clock", "POST", "Set the clock to a preset (realtime, frozen, auto-step, auto-finish)")
def set_clock():
    name = request.form.get("preset", "")
    if name not in PRESETS:
        return _back(error=f"clock: one of {', '.join(PRESETS)}, not {name!r}")
    return _act(lambda: cloud().set_clock(**expand_preset(name)), f"clock is now {name}")


def _duration(process: str, text: str):
    text = text.strip()
    if text in ("manual", "immediate"):
        return text
    if text in ("", "default"):
        return None
    return _number(process, text)


@ui_route("/transitions", "POST", "Set process durations")
def set_transitions():
    model = cloud()

    def apply():
        mapping = {
            name: _duration(name, request.form[name])
            for name in model.known_processes()
            if name in request.form
        }
        return model.set_transitions(mapping)

    return _act(apply, "transitions saved")


#: the fault form's fields: name -> how to read its text (None: as a list of words)
FAULT_FIELDS = {
    "status": int,
    "message": str,
    "times": int,
    "skip": int,
    "latency_ms": float,
    "probability": float,
}
MATCH_FIELDS = ("method", "path", "action", "project", "family")


def _fault_spec(form) -> dict[str, Any]:
    """The rule a fault form describes: its JSON text, or its fields."""
    text = form.get("rule", "").strip()
    if text:
        try:
            spec = json.loads(text)
        except ValueError as error:
            raise ApiError(400, f"rule: not JSON ({error})") from None
        if not isinstance(spec, dict):
            raise ApiError(400, "rule: must be a JSON object")
        return spec
    match = {}
    for name in MATCH_FIELDS:
        words = form.get(name, "").split()
        if words:
            match[name] = words[0] if len(words) == 1 else words
    spec = {"match": match} if match else {}
    for name, cast in FAULT_FIELDS.items():
        text = form.get(name, "").strip()
        if text:
            spec[name] = text if cast is str else _number(name, text, cast)
    if form.get("side_effect"):
        spec["side_effect"] = True
    return spec


@ui_route("/faults", "POST", "Add a fault rule (fields, or the rule as JSON)")
def add_fault():
    def add():
        return cloud().add_fault(control._load(control.FaultBody(), _fault_spec(request.form)))

    return _act(add, lambda rule: f"fault rule {rule.id} added")


@ui_route("/faults/<rule_id>/delete", "POST", "Remove one fault rule")
def remove_fault(rule_id):
    return _act(lambda: cloud().remove_fault(rule_id), f"fault rule {rule_id} removed")


@ui_route("/faults/clear", "POST", "Remove every fault rule")
def clear_faults():
    return _act(cloud().clear_faults, "every fault rule removed")


@ui_route("/reset", "POST", "Reset to the starting world or to a scenario")
def reset():
    scenario = request.form.get("scenario") or None
    return _act(
        lambda: cloud().reset(scenario), lambda result: "reset to " + ", ".join(result["scenarios"])
    )


@ui_route("/scenarios", "POST", "Load a named scenario on top")
def load_scenario():
    from ...model import scenario

    name = request.form.get("name", "")
    if name not in scenario.available():
        return _back(error=f"scenario: no scenario named {name!r}")
    return _act(
        lambda: cloud().load_scenario(name),
        lambda result: (
            f"scenario {name} loaded: "
            + (
                ", ".join(f"{count} {store}" for store, count in result["added"].items())
                or "nothing new"
            )
        ),
    )


@ui_route(
    "/resource/<kind>/<resource_id>/advance",
    "POST",
    "Run the next step (steps=1) or every step (steps=all) of a process",
)
def advance_resource(kind, resource_id):
    given = request.form.get("steps", "1")
    steps = "all" if given == "all" else (int(given) if given.isdigit() else given)
    return _act(
        lambda: cloud().advance_resource(kind, resource_id, steps),
        lambda result: f"{kind} {resource_id}: {result['advanced']} step(s) run",
    )


@ui_route("/journal/clear", "POST", "Empty the request journal")
def clear_journal():
    return _act(cloud().clear_requests, "journal cleared")


def register(app) -> None:
    app.register_blueprint(bp)


__all__ = ["PREFIX", "bp", "register"]
