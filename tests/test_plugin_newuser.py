"""A new user's first test: fakeecs installed from a built wheel (not editable) into a fresh
virtual environment, a test file outside the repository, no conftest, no configuration.

Slow-ish (a wheel build); skipped where no build backend can be had offline.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

FIRST_TEST = """
def test_image_a_server(fakeecs_openstack):
    compute = fakeecs_openstack.compute
    server = compute.wait_for_server(compute.create_server(
        name="web", image_id="5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01", flavor_id="s6.small.1",
        networks="auto"))
    assert compute.create_server_image(server, "web-image", wait=True).status == "active"


def test_where_fakeecs_comes_from():
    import fakeecs, fakeecs.pytest_plugin, fakeecs.testing.strategies
    print("FAKEECS_FILE", fakeecs.__file__)
"""


def run(*args, **kwargs):
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs
    )


def test_new_user_two_line_test_passes_from_a_wheel(tmp_path):
    pytest.importorskip("openstack")
    source = tmp_path / "source"  # build from a clean copy: nothing written into the repository
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "build",
            "*.egg-info",
            "__pycache__",
            ".hypothesis",
            "tests",
            "examples",
        ),
    )
    wheels = tmp_path / "wheels"
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, source)
    if built.returncode != 0:
        pytest.skip(
            f"cannot build a wheel here (no build backend offline?): "
            f"{built.stderr.strip().splitlines()[-1:]}"
        )
    wheel = next(wheels.glob("fakeecs-*.whl"))

    venv = tmp_path / "newuser-venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv).returncode == 0
    site = Path(
        run(
            venv / "bin" / "python",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ).stdout.strip()
    )
    installed = run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        "--target",
        site,
        wheel,
    )
    assert installed.returncode == 0, installed.stderr
    # third-party dependencies (flask, openstacksdk, pytest, ...) from this environment,
    # after the venv's own site-packages: the fakeecs imported is the wheel's
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    project = tmp_path / "project"
    project.mkdir()
    (project / "test_first.py").write_text(FIRST_TEST)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "OS_", "PYTHON")) and k != "VIRTUAL_ENV"
    }
    result = run(
        venv / "bin" / "python",
        "-m",
        "pytest",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        cwd=project,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    location = next(line for line in result.stdout.splitlines() if "FAKEECS_FILE" in line)
    assert str(site) in location and str(REPO) not in location
