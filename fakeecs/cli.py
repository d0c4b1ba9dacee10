"""The ``fakeecs`` command line: ``fakeecs serve``."""

import argparse
import ipaddress
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .model import Cloud, DomainError
from .model.clock import PRESETS
from .server import HTTPServer, build_cloud, create_app


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only accepts local connections."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def control_config(host, admin_token):
    """The control plane answers on loopback, or anywhere with an admin token."""
    return {"enabled": bool(admin_token) or is_loopback(host), "admin_token": admin_token or None}


def load_state_file(cloud, path):
    """Replace ``cloud``'s state with the export in ``path``; it becomes the reset point.

    The file goes through ``PUT /_fakeecs/state`` in-process, so it meets exactly the
    checks (and messages) of the HTTP import; a refusal raises ``ValueError`` naming
    the file, before anything is bound.
    """
    with open(path, "rb") as handle:
        raw = handle.read()
    response = (
        create_app(cloud)
        .test_client()
        .put("/_fakeecs/state", data=raw, content_type="application/json")
    )
    if response.status_code != 200:
        error = (response.get_json(silent=True) or {}).get("error") or {}
        message = error.get("message") or response.status
        raise ValueError(f"{path}: {message}")
    cloud.mark_baseline()


def save_state_file(cloud, path):
    """Write ``cloud``'s state export to ``path`` atomically."""
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(cloud.export_state(), handle, indent=1)
        handle.write("\n")
    os.replace(temporary, path)


def connection_text(url: str, cloud: Cloud, control: dict[str, Any] | None = None) -> str:
    """How to connect: URLs, credentials and a clouds.yaml entry."""
    control = control or {"enabled": True, "admin_token": None}
    if not control["enabled"]:
        control_line = "off (non-loopback bind; use --admin-token to enable)"
    elif control["admin_token"]:
        control_line = f"{url}/_fakeecs/ (needs header X-FakeECS-Admin-Token)"
    else:
        control_line = f"{url}/_fakeecs/ (openapi: {url}/_fakeecs/openapi.json)"
    if control["enabled"]:
        control_line += f"\n  dashboard:  {url}/_fakeecs/ui"
    project = next(iter(cloud.projects.values()))
    domain = cloud.domains[project.domain_id]
    user = next((u for u in cloud.users.values() if project.id in u.roles), None)
    name = user.name if user else "fakeecs"
    password = user.password if user else "fakeecs"
    key = next((k for k in cloud.access_keys.values() if k.project_id == project.id), None)
    aksk = f"AK {key.ak} / SK {key.sk} (Huawei SDK endpoint: {url})" if key else "none"
    return f"""fakeecs {__version__} serving on {url}
  auth URL:   {url}/v3
  compute:    {url}/v2.1/{project.id}
  image:      {url}/image
  volume:     {url}/volume/v3/{project.id}
  region:     {cloud.region}
  project:    {project.name} ({project.id}), domain {domain.name}
  user:       {name} / password {password}
  AK/SK:      {aksk}
  control:    {control_line}

clouds.yaml entry (use with `openstack --os-cloud fakeecs ...`):
clouds:
  fakeecs:
    auth:
      auth_url: {url}/v3
      username: {name}
      password: {password}
      project_name: {project.name}
      user_domain_name: {domain.name}
      project_domain_name: {domain.name}
    region_name: {cloud.region}
    identity_api_version: 3
    interface: public
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fakeecs", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a fake cloud over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8774, help="0 picks a free port")
    serve.add_argument(
        "--scenario",
        action="append",
        default=None,
        help="scenario name or path (repeatable; default: default)",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed the id generator")
    serve.add_argument(
        "--clock",
        choices=tuple(PRESETS),
        default=None,
        help="realtime (default), frozen, or frozen with reads that move it: "
        "auto-step (one step per read), auto-finish (the whole process)",
    )
    serve.add_argument(
        "--state",
        metavar="FILE",
        default=None,
        help="start from this state export (GET /_fakeecs/state) instead of "
        "the scenarios; with --save-state it may not exist yet",
    )
    serve.add_argument(
        "--save-state",
        action="store_true",
        help="write the state to --state FILE on clean shutdown",
    )
    serve.add_argument(
        "--admin-token",
        default=None,
        help="require this token in X-FakeECS-Admin-Token on every control "
        "call (and allow the control plane on a non-loopback bind)",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=None,
        help="how many requests the journal keeps (default 1000)",
    )
    args = parser.parse_args(argv)
    if args.save_state and not args.state:
        print("fakeecs: --save-state needs --state FILE", file=sys.stderr)
        return 2
    if args.journal_size is not None and args.journal_size < 1:
        print("fakeecs: --journal-size must be at least 1", file=sys.stderr)
        return 2
    try:
        cloud = build_cloud(args.scenario or ["default"], seed=args.seed, clock=args.clock)
        cloud.mark_baseline()
        if args.state and (os.path.exists(args.state) or not args.save_state):
            load_state_file(cloud, args.state)
    except (OSError, ValueError, DomainError) as error:
        print(f"fakeecs: {error}", file=sys.stderr)
        return 2
    if args.journal_size is not None:
        cloud.journal.resize(args.journal_size)
    app = create_app(cloud)
    control = control_config(args.host, args.admin_token)
    app.config["FAKEECS_CONTROL"] = control
    try:
        server = HTTPServer(app, args.host, args.port).start()
    except OSError as error:
        print(f"fakeecs: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    print(connection_text(server.url, cloud, control), flush=True)
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(1))
    try:
        while not stopped and server.running:
            server.wait(0.2)
    except KeyboardInterrupt:
        pass
    server.stop()
    if args.save_state:
        try:
            save_state_file(cloud, args.state)
        except OSError as error:
            print(f"fakeecs: cannot save the state to {args.state}: {error}", file=sys.stderr)
            return 1
        print(f"fakeecs: state saved to {args.state}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
