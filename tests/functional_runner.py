"""Run the functional suites that openstacksdk, python-novaclient and python-openstackclient
ship inside their packages, unmodified, against a fresh ``fakeecs serve``.

Not part of ``make test``: the suites need ``tempest`` and ``oslotest`` (``pip install
tempest oslotest``) and take many minutes (the OSC suite sleeps between polls).

    .venv/bin/python tests/functional_runner.py \\
        openstack/tests/functional/compute/v2/test_server.py \\
        openstackclient/tests/functional/compute/v2/test_flavor.py::FlavorTests

Arguments are pytest paths or node ids relative to ``site-packages``.  ``--src DIR`` serves
the fakeecs found in DIR instead (e.g. an older checkout, for a before/after count).  The
world is the default one plus what the suites look for: an ``alt`` project and user,
``m1.tiny``/``m1.nano``/``cirros256`` flavors and a ``cirros-*-disk`` image.  The clouds
``devstack`` (member), ``devstack-alt``, ``devstack-admin``, ``devstack-system-admin`` and
``functional_admin`` (admin) are written to a temporary clouds.yaml.
"""

import argparse
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import threading

import yaml

EXTRA_WORLD = {
    "base": "default",
    "projects": [{"id": "a17a17a17a17a17a17a17a17a17a17a1", "name": "alt", "domain": "Default"}],
    "users": [
        {
            "id": "a17a17a17a17a17a17a17a17a17a17a2",
            "name": "alt-member",
            "domain": "Default",
            "roles": {"alt": ["member"]},
        }
    ],
    "flavors": [
        {"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
        {"id": "42", "name": "m1.nano", "vcpus": 1, "ram": 128, "disk": 1},
        {"id": "84", "name": "cirros256", "vcpus": 1, "ram": 256, "disk": 1},
    ],
    "images": [
        {
            "id": "11111111-2222-4333-8444-555555555555",
            "name": "cirros-0.6.2-x86_64-disk",
            "visibility": "public",
            "disk_format": "qcow2",
            "container_format": "bare",
            "size": 21430272,
        }
    ],
}
DOMAIN_ID = "3c9a6b0e1d2f4a5b8c7d6e5f4a3b2c1d"
IMAGE = "cirros-0.6.2-x86_64-disk"


def start_server(workdir, src=None):
    """``fakeecs serve`` on a free port; returns ``(process, url)``."""
    world = os.path.join(workdir, "functional.yaml")
    with open(world, "w", encoding="utf-8") as handle:
        yaml.safe_dump(EXTRA_WORLD, handle)
    env = dict(os.environ)
    if src:
        # run from workdir: ``python -m`` puts the current directory before PYTHONPATH
        env["PYTHONPATH"] = src
    process = subprocess.Popen(
        [sys.executable, "-m", "fakeecs.cli", "serve", "--port", "0", "--scenario", world],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=workdir,
    )
    for line in process.stdout:
        match = re.search(r"serving on (http://\S+)", line)
        if match:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, match.group(1)
    raise SystemExit("fakeecs serve did not start")


def clouds_yaml(url):
    def cloud(user, project):
        return {
            "auth": {
                "auth_url": url + "/v3",
                "username": user,
                "password": user,
                "project_name": project,
                "user_domain_id": DOMAIN_ID,
                "project_domain_id": DOMAIN_ID,
            },
            "region_name": "cn-north-4",
            "identity_api_version": 3,
            "interface": "public",
            # ECS has no Nova floating IPs: the SDK cloud layer must not look for them
            "floating_ip_source": "none",
        }

    admin = cloud("fakeecs", "fakeecs")
    return {
        "clouds": {
            "devstack": cloud("fakeecs-member", "fakeecs"),
            "devstack-alt": cloud("alt-member", "alt"),
            "devstack-admin": admin,
            "devstack-system-admin": admin,
            "functional_admin": admin,
        }
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="+")
    parser.add_argument("--src", help="serve the fakeecs package found in this directory")
    parser.add_argument("--junit", help="write a JUnit XML report here")
    args = parser.parse_args(argv)
    packages = site.getsitepackages()[0]
    workdir = tempfile.mkdtemp(prefix="fakeecs-functional-")
    process, url = start_server(workdir, args.src)
    try:
        config = os.path.join(workdir, ".config", "openstack")
        os.makedirs(config)
        with open(os.path.join(config, "clouds.yaml"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(clouds_yaml(url), handle)
        bindir = os.path.dirname(sys.executable)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(
            HOME=workdir,
            OS_CLIENT_CONFIG_FILE=os.path.join(config, "clouds.yaml"),
            OS_CLOUD="devstack-admin",
            OS_TEST_TIMEOUT="600",
            OS_NOVACLIENT_EXEC_DIR=bindir,
            PATH=bindir + os.pathsep + env.get("PATH", ""),
            OPENSTACKSDK_FLAVOR="m1.tiny",
            OPENSTACKSDK_IMAGE=IMAGE,
            OPENSTACKSDK_FUNC_TEST_TIMEOUT="60",
        )
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:fakeecs",
            "-o",
            "addopts=",
            "--rootdir",
            workdir,
        ]
        if args.junit:
            command += ["--junitxml", os.path.abspath(args.junit)]
        command += [os.path.join(packages, test) for test in args.tests]
        return subprocess.call(command, env=env, cwd=workdir)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
