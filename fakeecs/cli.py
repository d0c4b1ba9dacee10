"""The ``fakeecs`` command line: ``fakeecs serve``."""
import argparse
import signal
import sys

from . import __version__
from .server import HTTPServer, build_cloud, create_app


def connection_text(url, cloud):
    """How to connect: URLs, credentials and a clouds.yaml entry."""
    project = next(iter(cloud.projects.values()))
    domain = cloud.domains[project.domain_id]
    user = next((u for u in cloud.users.values() if project.id in u.roles), None)
    name = user.name if user else "fakeecs"
    password = user.password if user else "fakeecs"
    return f"""fakeecs {__version__} serving on {url}
  auth URL:   {url}/v3
  compute:    {url}/v2.1/{project.id}
  image:      {url}/image
  volume:     {url}/volume/v3/{project.id}
  region:     {cloud.region}
  project:    {project.name} ({project.id}), domain {domain.name}
  user:       {name} / password {password}

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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fakeecs", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a fake cloud over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8774, help="0 picks a free port")
    serve.add_argument("--scenario", action="append", default=None,
                       help="scenario name or path (repeatable; default: default)")
    serve.add_argument("--seed", type=int, default=None, help="seed the id generator")
    serve.add_argument("--clock", choices=("realtime", "frozen"), default=None)
    args = parser.parse_args(argv)
    try:
        cloud = build_cloud(args.scenario or ["default"], seed=args.seed, clock=args.clock)
    except (FileNotFoundError, ValueError) as error:
        print(f"fakeecs: {error}", file=sys.stderr)
        return 2
    server = HTTPServer(create_app(cloud), args.host, args.port)
    try:
        server.start()
    except OSError as error:
        print(f"fakeecs: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    print(connection_text(server.url, cloud), flush=True)
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(1))
    try:
        while not stopped and server._thread.is_alive():
            server._thread.join(0.2)
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
