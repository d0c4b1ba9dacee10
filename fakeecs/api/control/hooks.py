"""Request hooks: fault injection before a request, the journal after it.

With no fault rule set, the before-hook costs a clock read; the journal records
raw bytes and references, and decodes them only when someone reads it.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from flask import Response, current_app, g, request

from ...model.clock import isoformat
from ...model.faults import FaultRule, RequestInfo
from .. import errors, family_for
from ..jsonbody import parse_json
from .operations import PREFIX

#: request headers worth keeping in the journal (secrets are masked)
JOURNAL_HEADERS = (
    "Content-Type",
    "Accept",
    "User-Agent",
    "OpenStack-API-Version",
    "X-OpenStack-Nova-API-Version",
    "X-Auth-Token",
    "X-Project-Id",
    "X-Domain-Id",
    "X-Sdk-Date",
    "Authorization",
    "X-Subject-Token",
    "X-Request-Id",
    "X-Client-Request-Id",
)
SECRET_HEADERS = ("X-Auth-Token", "X-Subject-Token")
#: largest request/response body kept in a journal entry, in bytes
JOURNAL_BODY_LIMIT = 16 * 1024


def cloud() -> Any:
    return current_app.extensions["fakeecs"]


def _is_control(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


#: (journal name, WSGI environ key) of the request headers the journal keeps
_JOURNAL_ENVIRON = tuple(
    (
        name,
        name.upper().replace("-", "_")
        if name == "Content-Type"
        else "HTTP_" + name.upper().replace("-", "_"),
    )
    for name in JOURNAL_HEADERS
)


def _action(method: str, path: str, raw: bytes | None) -> str | None:
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


def _request_raw(req: Any = None) -> bytes | None:
    """The request body when it is small enough to look at, else ``None`` (an oversized
    or streamed upload is never read by the hooks; a request without a body costs nothing)."""
    req = req or request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    length = req.content_length
    if length is None:
        if "HTTP_TRANSFER_ENCODING" not in environ:
            return b""
        return req.get_data(cache=True)
    return req.get_data(cache=True) if length <= JOURNAL_BODY_LIMIT else None


def _project(model: Any) -> tuple[str | None, str | None]:
    """The project a request is for: its token's, else a project id in the path."""
    environ = request.environ
    token = environ.get("HTTP_X_AUTH_TOKEN")
    record = model.tokens.get(token) if token else None
    project_id = record.get("project_id") if record else None
    if project_id is None:
        project_id = environ.get("HTTP_X_PROJECT_ID")
    if project_id is None:
        for segment in request.path.split("/"):
            if segment in model.projects:
                project_id = segment
                break
    project = model.projects.get(project_id) if project_id else None
    return project_id, project.name if project is not None else None


def _describe_request() -> RequestInfo:
    """The request's facts (family, project, action), worked out once per request."""
    info = g.get("fakeecs_request")
    if info is None:
        path, method = request.path, request.method
        project_id, project_name = _project(cloud())
        info = g.fakeecs_request = RequestInfo(
            method=method,
            path=path,
            action=_action(method, path, _request_raw()),
            project_id=project_id,
            project_name=project_name,
            family=g.get("path_family") or family_for(path),
        )
    return info


def _fault_response(rule: FaultRule, family: str | None) -> Response:
    """The answer of a rule that has a status (callers only pass such rules)."""
    if rule.status is None:
        raise ValueError(f"fault rule {rule.id} has no status to answer with")
    if rule.body is not None:
        response = Response(
            json.dumps(rule.body), status=rule.status, content_type="application/json"
        )
    else:
        message = rule.message or f"fakeecs injected fault ({rule.id})"
        family = family if family in errors.RENDERERS else "nova"
        response = errors.render(family, rule.status, message)
    for key, value in rule.headers.items():
        response.headers[key] = value
    response.headers["X-FakeECS-Fault"] = rule.id
    return response


def before_hook() -> Response | None:
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


def after_hook(response: Response) -> Response:
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
        current_app.logger.exception(
            "fakeecs: could not journal %s %s", request.method, request.path
        )
    return response


def _masked(name: str, value: str) -> str:
    if name in SECRET_HEADERS:
        return value[:6] + "..." if len(value) > 6 else "***"
    if name == "Authorization":
        head, _, _ = value.partition("Signature=")
        return head + ("Signature=***" if "Signature=" in value else "")
    return value


def _body_record(raw: bytes | None, content_type: str | None, length: int | None = None) -> Any:
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


def _journal(response: Response, rule: FaultRule | None) -> None:
    """Record the exchange cheaply: raw bytes and references now, decoding on read."""
    model = cloud()
    req = request._get_current_object()  # type: ignore[attr-defined]
    facts = g._get_current_object()
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
        _journal_details,
        now=now,
        method=method,
        path=path,
        query_string=environ.get("QUERY_STRING", ""),
        headers=headers,
        raw=_request_raw(req),
        content_type=environ.get("CONTENT_TYPE"),
        length=req.content_length,
        action=info.action if info is not None else None,
        known=info is not None,
        response_raw=response_raw,
        response_type=response.content_type,
    )
    model.journal.record(
        {
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
        },
        details,
    )


def _journal_details(
    *,
    now: float,
    method: str,
    path: str,
    query_string: str,
    headers: list[tuple[str, str]],
    raw: bytes | None,
    content_type: str | None,
    length: int | None,
    action: str | None,
    known: bool,
    response_raw: bytes | None,
    response_type: str | None,
) -> dict[str, Any]:
    """The journal fields decoded only when someone reads the journal."""
    query: dict[str, Any] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key not in query:
            query[key] = value
        elif isinstance(query[key], list):
            query[key].append(value)
        else:
            query[key] = [query[key], value]
    return {
        "time": isoformat(now, micro=True) + "Z",
        "query": query,
        "headers": {name: _masked(name, value) for name, value in headers},
        "body": _body_record(raw, content_type, length),
        "action": action if known else _action(method, path, raw),
        "response": _body_record(response_raw, response_type),
    }
