"""``make bench``, clock section: what a client that polls costs in wall time, per clock.

The ``openstack`` CLI runs ``server create --wait`` then ``server image create --wait``
against ``fakeecs serve --clock CLOCK`` (a process of its own on 127.0.0.1 and a free
port), for each clock in the same run, so the figures compare side by side.  The CLI
sleeps seconds between polls: on a realtime clock it waits for the build and the snapshot;
with ``auto-finish`` its first poll already sees the end state.

    python -m fakeecs.bench_clock [--clock auto-finish --clock realtime] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time

from .handle import RemoteFakeCloud

BASE_IMAGE = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"
COMMANDS = (
    ["server", "create", "--flavor", "s6.small.1", "--image", BASE_IMAGE, "--nic", "auto",
     "--wait", "bench-web"],
    ["server", "image", "create", "--name", "bench-snap", "--wait", "bench-web"],
)  # fmt: skip


def _serve(clock: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fakeecs.cli", "serve", "--host", "127.0.0.1", "--port", "0",
         "--clock", clock, "--seed", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    match = re.search(r"serving on (http://\S+)", process.stdout.readline())
    if match is None:
        process.kill()
        raise RuntimeError(f"fakeecs serve --clock {clock} did not start")
    return process, match.group(1)


def cli_seconds(clock: str) -> float:
    """Wall seconds of the two CLI commands against a fresh server on ``clock``."""
    cli = os.path.join(os.path.dirname(sys.executable), "openstack")
    process, url = _serve(clock)
    try:
        env = dict(os.environ, **RemoteFakeCloud(url).openstack_env())
        started = time.perf_counter()
        for command in COMMANDS:
            subprocess.run([cli, *command], env=env, capture_output=True, check=True, timeout=300)
        return time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def measure(clocks: list[str], rounds: int = 1) -> dict[str, float]:
    """Median wall seconds per clock, the clocks alternating round by round."""
    samples: dict[str, list[float]] = {clock: [] for clock in clocks}
    for _ in range(rounds):
        for clock in clocks:
            samples[clock].append(cli_seconds(clock))
    return {clock: statistics.median(values) for clock, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fakeecs.bench_clock",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clock", action="append", help="a --clock value (repeatable)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(argv)
    clocks = args.clock or ["auto-finish", "realtime"]
    if not os.path.exists(os.path.join(os.path.dirname(sys.executable), "openstack")):
        print("clock section skipped: the openstack CLI is not installed")
        return 0
    results = measure(clocks, args.rounds)
    print("openstack server create --wait + server image create --wait (wall seconds, median)")
    for clock, seconds in results.items():
        print(f"  --clock {clock:<12} {seconds:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
