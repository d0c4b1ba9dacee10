"""The README's ECS example, run as written against a live fakeecs (only its URL changes).

The world's clock is frozen, and the example's ``time.sleep`` (on the test's
thread only) advances it instead of waiting, so the polls see the jobs end at once.
"""
import contextlib
import io
import pathlib
import re
import threading
import time

import pytest

from fakeecs.api import create_app
from fakeecs.server import HTTPServer, build_cloud

pytest.importorskip("huaweicloudsdkvpc")

README = pathlib.Path(__file__).resolve().parent.parent / "docs" / "huawei-ecs.md"


def example_code():
    """The Python block that follows the ``<!-- ecs-example -->`` marker."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- ecs-example -->\n```python\n(.*?)```", text, re.S)
    assert match, "README.md has no <!-- ecs-example --> block"
    return match.group(1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_readme_ecs_example_runs_and_prints_what_it_says(monkeypatch):
    cloud = build_cloud(["default"], seed=7, clock="frozen")
    real_sleep, caller = time.sleep, threading.get_ident()

    def sleep(seconds):
        if threading.get_ident() == caller:
            cloud.clock.advance(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    server = HTTPServer(create_app(cloud), "127.0.0.1", 0).start()
    try:
        code = example_code().replace('URL = "http://127.0.0.1:8774"', f'URL = "{server.url}"')
        assert server.url in code
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, "README.md#ecs-example", "exec"), {"__name__": "readme"})
    finally:
        server.stop()
    assert output.getvalue().splitlines() == [
        "SUCCESS", "1 ACTIVE", "SUCCESS", "SUCCESS", "400 Ecs.0005", "400 Ecs.0007", "SUCCESS"]
    images = [image for image in cloud.images if image.name == "web-01-gold"]
    assert len(images) == 1 and images[0].status == "active"
    assert not [s for s in cloud.servers if s.name in ("web-01", "web-02", "web-03", "web-04")]
