"""Fixture overhead, measured: ``python -m fakeecs.bench`` (or ``make bench``).

What a test pays for using fakeecs:

* the session: starting the server once per test process;
* every test: the reset the ``fakeecs`` fixture does (an import of a prepared state,
  no new server, no scenario parsing), and its first request (a token, then a call);
* end to end: N trivial pytest tests with and without the ``fakeecs`` fixture.

Figures are wall-clock medians (and 95th percentiles) on this machine; they are
printed, not asserted.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

from .testing.client import password_auth

UBUNTU = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"


def _stats(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1000, "p95_ms": p95 * 1000, "n": len(ordered)}


def _time(fn, repeat):
    samples = []
    for _ in range(repeat):
        begin = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - begin)
    return _stats(samples)


def measure(repeat=300):
    import requests

    from .handle import FakeCloud

    results = {}
    begin = time.perf_counter()
    fake = FakeCloud.start(seed=1)
    results["server start, first in process (imports included)"] = {
        "median_ms": (time.perf_counter() - begin) * 1000,
        "p95_ms": None,
        "n": 1,
    }
    fake.stop()
    results["server start + stop, warm"] = _time(lambda: FakeCloud.start(seed=1).stop(), 10)

    with FakeCloud.start(seed=1) as fake:
        results["reset (default world, nothing changed)"] = _time(fake.reset, repeat)

        def dirty_then_reset():
            fake.create_server("a")
            fake.reset()

        base = _time(lambda: (fake.create_server("a"), fake.clock.advance(0)), 50)
        fake.reset()
        dirty = _time(dirty_then_reset, repeat // 3 or 1)
        dirty["median_ms"] = max(dirty["median_ms"] - base["median_ms"], 0.0)
        dirty["p95_ms"] = None
        results["reset after a test made a server (creation subtracted)"] = dirty

        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            handle.write("availability_zones: [cn-north-4z]\n")
            world = handle.name
        try:
            fake.reset(scenario=["default", world])  # first: build and cache
            results["reset to a marker scenario (cached build)"] = _time(
                lambda: fake.reset(scenario=["default", world]), repeat
            )
        finally:
            os.unlink(world)

        def fixture_cycle():
            fake.reset()
            with fake.clock.virtual_sleep():
                pass

        results["fakeecs fixture set-up + tear-down (reset, virtual sleep)"] = _time(
            fixture_cycle, repeat
        )

        def first_request():
            fake.reset()
            session = requests.Session()
            session.trust_env = False
            body = password_auth()
            token = session.post(fake.auth_url + "/auth/tokens", json=body, timeout=10).headers[
                "X-Subject-Token"
            ]
            session.get(
                fake.compute_url + "/servers", headers={"X-Auth-Token": token}, timeout=10
            ).raise_for_status()
            session.close()

        results["first request of a test: new connection, token, GET /servers"] = _time(
            first_request, repeat // 3 or 1
        )

        session = requests.Session()
        session.trust_env = False
        client = fake.client()
        client.login()
        results["steady state: GET /servers/detail (keep-alive)"] = _time(
            lambda: client.compute("GET", "/servers/detail").raise_for_status(), repeat
        )
        client.close()
        session.close()

        try:
            import openstack  # noqa: F401
        except ImportError:
            pass
        else:

            def sdk_first():
                fake.reset()
                conn = fake.openstack_connection()
                list(conn.compute.servers())
                conn.close()

            sdk_first()  # the first one imports and caches openstacksdk's service modules
            results["openstacksdk: new Connection + first list (fakeecs_openstack)"] = _time(
                sdk_first, 30
            )
    return results


PYTEST_FILE = textwrap.dedent("""
    import pytest

    @pytest.mark.parametrize("n", range({count}))
    def test_with(fakeecs, n):
        assert fakeecs.url

    @pytest.mark.parametrize("n", range({count}))
    def test_without(n):
        assert n >= 0
""")


def _pytest_seconds(directory, path, selector):
    begin = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", selector, path],
        cwd=directory,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - begin


def measure_pytest(small=100, large=600):
    """Per-test overhead of the ``fakeecs`` fixture through pytest itself: the slope of
    run time against test count, with the fixture minus without (start-up cancels out)."""
    times = {}
    with tempfile.TemporaryDirectory() as directory:
        for count in (small, large):
            path = os.path.join(directory, f"test_bench_{count}.py")
            with open(path, "w") as handle:
                handle.write(PYTEST_FILE.format(count=count))
            for label in ("with", "without"):
                times[label, count] = min(
                    _pytest_seconds(directory, path, "test_" + label) for _ in range(2)
                )
    slope = {
        label: (times[label, large] - times[label, small]) / (large - small)
        for label in ("with", "without")
    }
    startup = (times["with", small] - slope["with"] * small) - (
        times["without", small] - slope["without"] * small
    )
    return {
        f"pytest: {large} tests using the fakeecs fixture (s)": times["with", large],
        f"pytest: {large} tests without it (s)": times["without", large],
        "pytest: fixture overhead per test (ms)": (slope["with"] - slope["without"]) * 1000,
        "pytest: one-off session cost, server start-up (ms)": startup * 1000,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m fakeecs.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--no-pytest", action="store_true", help="skip the pytest runs")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--scale-images",
        type=int,
        default=100_000,
        help="images at the big level of the scale section (0: skip it)",
    )
    parser.add_argument(
        "--no-clock",
        action="store_true",
        help="skip the CLI wait benchmark per clock (fakeecs.bench_clock)",
    )
    parser.add_argument(
        "--no-server",
        action="store_true",
        help="skip the HTTP server benchmark (fakeecs.bench_server)",
    )
    args = parser.parse_args(argv)
    if not args.no_server and not args.json:
        from . import bench_server

        print(
            "fakeecs HTTP server (python -m fakeecs.bench_server --server threaded "
            "--server cheroot --server waitress)"
        )
        bench_server.main(["--server", "threaded", "--server", "cheroot", "--server", "waitress"])
        print()
    if not args.no_clock and not args.json:
        from . import bench_clock

        print("fakeecs clocks and a polling CLI (python -m fakeecs.bench_clock)")
        bench_clock.main([])
        print()
    results = measure(args.repeat)
    end_to_end = {} if args.no_pytest else measure_pytest()
    if args.json:
        print(json.dumps({"micro": results, "pytest": end_to_end}, indent=2))
        return 0
    print(f"fakeecs fixture overhead (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print(f"{'what':<66} {'median ms':>10} {'p95 ms':>8}")
    for name, row in results.items():
        p95 = f"{row['p95_ms']:.3f}" if row["p95_ms"] is not None else "-"
        print(f"{name:<66} {row['median_ms']:>10.3f} {p95:>8}")
    for name, value in end_to_end.items():
        print(f"{name:<66} {value:>10.3f}")
    if args.scale_images:
        from . import bench_scale

        print()
        print(bench_scale.report(bench_scale.measure(args.scale_images)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
