"""Every fenced code block of README.md and docs/*.md, run; docs/architecture.md against the tree.

The fence's info string says how a block is checked; anything else (or none) fails:

- ``text``: not run: output samples, usage synopses, recipes that need what a test lacks
  (other checkouts, a non-loopback bind, minutes of wall time).
- ``json``: must parse as JSON.
- ``yaml``: a scenario or a fragment of one: validated by the scenario loader and applied to a
  fresh default world.
- ``python``: run in this process against a live fakeecs (default world, frozen clock, seed 7)
  whose URL replaces ``http://127.0.0.1:8774``; ``time.sleep`` on the block's thread advances
  the virtual clock instead of waiting.
- ``python pytest``: a test file; all of them run in one pytest subprocess (the plugin loads
  through its entry point) and every test must pass. Hypothesis runs them under a profile of 5
  examples (settings a block states explicitly win), to keep this file quick.
- ``sh``: run by ``bash -e -o pipefail`` in a temporary directory against a live fakeecs (its
  clock, "auto-finish"), with ``F`` (the control plane's URL) and ``SERVER`` (an ACTIVE server)
  set; a block that uses ``IMAGE`` gets that server's image with its snapshot pending (the
  ``image_snapshot`` transition set to ``manual``). A ``clouds.yaml`` for ``OS_CLOUD=fakeecs`` is
  beside it, and ``curl`` fails on any HTTP error.
- ``sh serve``: each ``fakeecs serve`` command in it is started on 127.0.0.1 and a free port and
  must print its URL and answer ``/_fakeecs/health``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from fakeecs.api import create_app
from fakeecs.handle import FakeCloud
from fakeecs.model import scenario
from fakeecs.server import HTTPServer, build_cloud

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEFAULT_URL = "http://127.0.0.1:8774"
KINDS = {"text", "json", "yaml", "python", "python pytest", "sh", "sh serve"}
ECS_MARK = "<!-- ecs-example -->"


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its info string and its text."""

    page: pathlib.Path
    line: int
    info: str
    code: str
    marked_ecs: bool

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks() -> Iterator[Block]:
    """Every fenced block of the README and docs/, in page order."""
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        index = 0
        while index < len(lines):
            match = re.match(r"^```(.*)$", lines[index])
            if match:
                end = index + 1
                while not lines[end].startswith("```"):
                    end += 1
                before = lines[index - 1] if index else ""
                yield Block(
                    page,
                    index + 1,
                    match.group(1).strip(),
                    "\n".join(lines[index + 1 : end]) + "\n",
                    before.strip() == ECS_MARK,
                )
                index = end
            index += 1


ALL = list(blocks())


def of(*kinds: str) -> list:
    return [pytest.param(b, id=b.name) for b in ALL if b.info in kinds]


@pytest.mark.parametrize("block", [pytest.param(b, id=b.name) for b in ALL])
def test_every_block_says_how_it_is_checked(block: Block) -> None:
    assert block.info in KINDS, (
        f"{block.name}: fence info {block.info!r} is not one of {sorted(KINDS)}"
    )


def test_the_readme_keeps_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme


# -- json and yaml ---------------------------------------------------------------------------


@pytest.mark.parametrize("block", of("json"))
def test_json_blocks_parse(block: Block) -> None:
    json.loads(block.code)


@pytest.mark.parametrize("block", of("yaml"))
def test_yaml_blocks_are_valid_scenarios(block: Block) -> None:
    world = scenario.parse(block.code, source=block.name)
    assert isinstance(yaml.safe_load(block.code), dict)
    cloud = build_cloud(["default"], seed=7, clock="frozen")
    if world.get("base"):
        cloud = build_cloud([dict(world)], seed=7)
    else:
        cloud.load_scenario(dict(world))


# -- python ----------------------------------------------------------------------------------


@contextlib.contextmanager
def live_cloud(monkeypatch: pytest.MonkeyPatch, clock: str = "frozen") -> Iterator[tuple]:
    """A default world served on a free loopback port; sleeps on this thread are virtual."""
    cloud = build_cloud(["default"], seed=7, clock=clock)
    real_sleep, caller = time.sleep, threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() == caller:
            cloud.clock.advance(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    server = HTTPServer(create_app(cloud), "127.0.0.1", 0).start()
    try:
        yield cloud, server.url
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("block", of("python"))
def test_python_blocks_run(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    if "huaweicloudsdk" in block.code:
        pytest.importorskip("huaweicloudsdkvpc")
    with live_cloud(monkeypatch) as (cloud, url):
        code = block.code.replace(DEFAULT_URL, url)
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, block.name, "exec"), {"__name__": "docs_example"})
    if block.marked_ecs:
        check_the_ecs_example(cloud, output.getvalue())


def check_the_ecs_example(cloud, output: str) -> None:
    """What docs/huawei-ecs.md's example says it prints, and the world it leaves."""
    assert output.splitlines() == [
        "SUCCESS",
        "1 ACTIVE",
        "SUCCESS",
        "SUCCESS",
        "400 Ecs.0005",
        "400 Ecs.0007",
        "SUCCESS",
    ]
    images = [image for image in cloud.images if image.name == "web-01-gold"]
    assert len(images) == 1 and images[0].status == "active"
    assert not [s for s in cloud.servers if s.name in ("web-01", "web-02", "web-03", "web-04")]


def test_the_ecs_example_is_marked() -> None:
    assert [b.name for b in ALL if b.marked_ecs and b.info == "python"]


def test_python_pytest_blocks_pass(tmp_path: pathlib.Path) -> None:
    tests = [b for b in ALL if b.info == "python pytest"]
    assert tests
    (tmp_path / "conftest.py").write_text(HYPOTHESIS_PROFILE, encoding="utf-8")
    for number, block in enumerate(tests):
        (tmp_path / f"test_doc_block_{number}.py").write_text(
            f"# {block.name}\n" + block.code, encoding="utf-8"
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-W",
            "ignore::DeprecationWarning",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    expected = sum(
        len(
            [
                n
                for n in ast.parse(b.code).body
                if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                and n.name.startswith(("test", "Test"))
            ]
        )
        for b in tests
    )
    assert re.search(r"(\d+) passed", result.stdout)
    assert int(re.search(r"(\d+) passed", result.stdout).group(1)) >= expected


HYPOTHESIS_PROFILE = """
from hypothesis import settings

settings.register_profile("docs", max_examples=5, stateful_step_count=10)
settings.load_profile("docs")
"""


# -- shell -----------------------------------------------------------------------------------

CURL_WRAPPER = 'curl() { command curl -sS --fail-with-body "$@"; }\n'


@pytest.mark.parametrize("block", of("sh"))
def test_sh_blocks_run(block: Block, tmp_path: pathlib.Path) -> None:
    if re.search(r"^\s*(time \(\s*)?openstack ", block.code, re.M) and not shutil.which(
        "openstack", path=os.path.dirname(sys.executable)
    ):
        pytest.skip("the openstack CLI is not installed")
    fake = FakeCloud.start(clock="auto-finish", seed=7)
    try:
        server = fake.create_server("doc-server")
        image_id = ""
        if "$IMAGE" in block.code:
            fake.set_transitions({"image_snapshot": "manual"})
            image_id = fake.create_server_image(server.id, "doc-image", {}, settle=False).id
        fake.clouds_yaml("fakeecs", path=tmp_path / "clouds.yaml")
        bin_dir = os.path.dirname(sys.executable)
        env = {
            **os.environ,
            "F": f"{fake.url}/_fakeecs",
            "SERVER": server.id,
            "IMAGE": image_id,
            "PATH": bin_dir + os.pathsep + os.environ["PATH"],
        }
        env.pop("OS_CLOUD", None)
        script = CURL_WRAPPER + block.code.replace(DEFAULT_URL, fake.url)
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        fake.stop()
    assert result.returncode == 0, f"{block.name}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def serve_commands(code: str) -> list:
    """The ``fakeecs serve`` commands of a block, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    commands = []
    for line in joined.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("fakeecs serve"):
            commands.append(line.split()[1:])
    return commands


@pytest.mark.parametrize("block", of("sh serve"))
def test_sh_serve_blocks_start(block: Block, tmp_path: pathlib.Path) -> None:
    commands = serve_commands(block.code)
    assert commands, f"{block.name} has no `fakeecs serve` command"
    for args in commands:
        process = subprocess.Popen(
            [sys.executable, "-m", "fakeecs.cli", *args, "--host", "127.0.0.1", "--port", "0"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = None
            assert process.stdout is not None
            for line in process.stdout:
                found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
                if found:
                    url = found.group(1)
                    break
            assert url, f"{block.name}: `fakeecs serve {' '.join(args)}` printed no URL"
            token = args[args.index("--admin-token") + 1] if "--admin-token" in args else None
            request = urllib.request.Request(f"{url}/_fakeecs/health")
            if token:
                request.add_header("X-FakeECS-Admin-Token", token)
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.load(response)["status"] == "ok"
        finally:
            process.terminate()
            process.wait(timeout=30)


# -- how fakeecs is built --------------------------------------------------------------------


def test_architecture_names_every_module_and_only_modules_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(fakeecs/[\w/]+\.py)`", text))
    present = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "fakeecs").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert sorted(present - named) == [], "modules missing from docs/architecture.md"
    assert sorted(named - present) == [], "docs/architecture.md names modules that do not exist"


def test_every_fakeecs_path_the_readme_and_docs_name_exists() -> None:
    for page in PAGES:
        for path in re.findall(r"`(fakeecs/[\w/]*(?:\.py|/))`", page.read_text(encoding="utf-8")):
            assert (ROOT / path).exists(), f"{page.relative_to(ROOT)} names {path}"


def test_relative_links_point_at_files_that_exist() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if target.startswith("#"):
                target = page.name + target
            file, _, anchor = target.partition("#")
            path = (page.parent / file).resolve()
            assert path.exists(), f"{page.relative_to(ROOT)} links to {target}"
            if anchor and path.suffix == ".md":
                assert anchor in anchors(path), f"{page.relative_to(ROOT)} links to {target}"


def anchors(page: pathlib.Path) -> set:
    """The heading anchors GitHub makes for a page (outside code blocks)."""
    found, fence = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"#+ ", line):
            slug = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            found.add(slug)
    return found
