"""Scale, measured: ``python -m fakeecs.bench_scale`` (part of ``make bench``).

* Every list route and filter at 0, 100 and 100k images (``--images``): two
  servers run side by side, one with the default world (the empty cloud) and
  one seeded with N createImage-like snapshots through one state import; each
  route is asked of both in alternating keep-alive rounds and the table shows
  the medians and their ratio.
* Reset after a test that made 10 images: at the default world, and at a
  10k-image baseline (``mark_baseline``).
* Memory per image (tracemalloc) by each way of making one: the createImage
  action, Glance's ``POST /v2/images``, a state import and a scenario.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import gc
import hashlib
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

OTHER_PROJECT = "9" * 32
RARE_TAG = "bench-rare"


# -- worlds -------------------------------------------------------------------------------


def _uuid(number: int) -> str:
    text = f"{number:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-8{text[17:20]}-{text[20:]}"


def snapshot_template(fake: Any) -> dict:
    """The export record of one image made by the createImage action (a server snapshot)."""
    cloud = fake.cloud
    server = fake.create_server("bench-template")
    image = cloud.create_server_image(fake.context(), server.id, "bench-template-image")
    cloud.advance_resource("server", server.id, "all")
    record = next(r for r in cloud.export_state()["stores"]["images"] if r["id"] == image.id)
    cloud.reset()
    return record


def seeded_state(base: dict, template: dict, count: int) -> dict:
    """A copy of the export ``base`` with ``count`` snapshots of the default project added."""
    state = json.loads(json.dumps(base))
    images = state["stores"]["images"]
    seq = state["seq"]
    start = state["clock"]["now"] - count
    for number in range(count):
        record = json.loads(json.dumps(template))
        image_id = _uuid(number + 1)
        record.update(
            id=image_id,
            name=f"bench-{number}",
            seq=seq + number + 1,
            checksum=hashlib.md5(image_id.encode()).hexdigest(),
            os_hash_value=hashlib.sha512(image_id.encode()).hexdigest(),
            created_at=start + number,
            updated_at=start + number,
            tags=[RARE_TAG] if number % 1000 == 7 else [],
        )
        images.append(record)
    state["seq"] = seq + count
    return state


# -- timing helpers ---------------------------------------------------------------------


def _median_ms(samples: list) -> float:
    return statistics.median(samples) * 1000


def _timed(call: Callable[[], Any]) -> float:
    begin = time.perf_counter()
    call()
    return time.perf_counter() - begin


class Api:
    """Keep-alive requests to one server with the default user's token."""

    def __init__(self, fake: Any):
        import requests

        self.fake = fake
        self.session = requests.Session()
        self.session.trust_env = False
        client = fake.client()
        client.login()
        self.headers = {
            "X-Auth-Token": client.token,
            "Accept": "application/json",
            "OpenStack-API-Version": "compute 2.1",
        }
        client.close()

    def url(self, path: str) -> str:
        return self.fake.url + path.format(project=self.fake.project_id)

    def get(self, path: str) -> Any:
        response = self.session.get(self.url(path), headers=self.headers, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
        return response

    def close(self) -> None:
        self.session.close()


def routes(deep_id: str, deep_name: str, late: str, early: str) -> list:
    """(label, path, note) for every list route and filter; a note says it is not indexed."""
    glance = "/image/v2/images?limit=25"
    ims = "/v2/cloudimages?limit=25"
    nova = "/v2.1/{project}/images/detail?limit=25"
    return [
        ("Glance first page", glance, ""),
        ("Glance marker 90% deep", f"{glance}&marker={deep_id}", ""),
        ("Glance name=", f"{glance}&name={deep_name}", ""),
        ("Glance status=killed", f"{glance}&status=killed", ""),
        ("Glance owner=<another project>", f"{glance}&owner={OTHER_PROJECT}", ""),
        ("Glance visibility=public", f"{glance}&visibility=public", ""),
        ("Glance tag= (1 in 1000)", f"{glance}&tag={RARE_TAG}", ""),
        ("Glance created_at=gte: (newest match)", f"{glance}&created_at=gte:{late}", ""),
        ("Glance created_at=lt: (oldest match)", f"{glance}&created_at=lt:{early}", ""),
        ("Glance updated_at=lt: (oldest match)", f"{glance}&updated_at=lt:{early}", ""),
        ("Glance sort=name:asc (sorted view)", f"{glance}&sort=name:asc", ""),
        ("Glance sort=name:desc, marker 90% deep", f"{glance}&sort=name:desc&marker={deep_id}", ""),
        ("Glance sort=created_at:asc (time view)", f"{glance}&sort=created_at:asc", ""),
        ("Glance sort=size:asc", f"{glance}&sort=size:asc", "scans"),
        ("Glance name= sort=name:asc", f"{glance}&name={deep_name}&sort=name:asc", ""),
        ("IMS first page", ims, ""),
        ("IMS marker 90% deep", f"{ims}&marker={deep_id}", ""),
        ("IMS name=", f"{ims}&name={deep_name}", ""),
        ("IMS status=killed", f"{ims}&status=killed", ""),
        ("IMS created_at=lt: (oldest match)", f"{ims}&created_at=lt:{early}", ""),
        ("IMS owner=<another project>", f"{ims}&owner={OTHER_PROJECT}", ""),
        ("IMS sort_key=name (sorted view)", f"{ims}&sort_key=name", ""),
        ("IMS sort_key=size", f"{ims}&sort_key=size", "scans"),
        ("Nova images/detail first page", nova, ""),
        ("Nova images/detail marker 90% deep", f"{nova}&marker={deep_id}", ""),
        ("Nova images/detail name=", f"{nova}&name={deep_name}", ""),
        ("Nova images/detail status=killed", f"{nova}&status=killed", ""),
        ("Nova servers/detail", "/v2.1/{project}/servers/detail?limit=25", ""),
        ("Nova servers/detail status=ERROR", "/v2.1/{project}/servers/detail?status=ERROR", ""),
        ("Cinder volumes/detail", "/volume/v3/{project}/volumes/detail?limit=25", ""),
        ("Cinder volumes status=error", "/volume/v3/{project}/volumes/detail?status=error", ""),
        ("Cinder snapshots/detail", "/volume/v3/{project}/snapshots/detail?limit=25", ""),
        ("EVS cloudsnapshots", "/v2/{project}/cloudsnapshots?limit=25", ""),
    ]


def _deep(fake: Any, count: int) -> tuple[str, str]:
    """Id and name of the image 90% down the newest-first list (the oldest one if small)."""
    found, _ = fake.cloud.list_images(fake.context())
    image = found[min(len(found) - 1, int(0.9 * len(found)))]
    return image.id, image.name


def measure_lists(fakes: dict, template: dict, levels: list, rounds: int) -> dict:
    """Median ms of every route at each level, and the ratio to the empty cloud."""
    from .model.clock import isoformat

    empty, big = fakes["empty"], fakes["big"]
    empty_api, big_api = Api(empty), Api(big)
    results: dict[str, Any] = {"levels": levels, "routes": {}, "import_s": {}}
    try:
        base_state = big.cloud.export_state()
        now = base_state["clock"]["now"]
        for level in levels:
            state = seeded_state(base_state, template, level)
            text = json.dumps(state)
            del state
            begin = time.perf_counter()
            big.cloud.import_state(json.loads(text))
            results["import_s"][level] = time.perf_counter() - begin
            del text
            gc.collect()
            late = isoformat(now - 100)  # the newest ~100 match: the first page fills early
            early = isoformat(now - level + 3 if level else now - 1e6)  # only the oldest match
            deep_id, deep_name = _deep(big, level)
            empty_deep, empty_name = _deep(empty, 0)
            for label, path, note in routes(deep_id, deep_name, late, early):
                empty_path = path.replace(deep_id, empty_deep).replace(deep_name, empty_name)
                empty_api.get(empty_path)
                big_api.get(path)
                empty_times, big_times = [], []
                for _ in range(rounds):
                    empty_times.append(_timed(functools.partial(empty_api.get, empty_path)))
                    big_times.append(_timed(functools.partial(big_api.get, path)))
                row = results["routes"].setdefault(label, {"note": note})
                ratios = [big / empty for empty, big in zip(empty_times, big_times, strict=True)]
                row[level] = (
                    _median_ms(empty_times),
                    _median_ms(big_times),
                    statistics.median(ratios),
                )
    finally:
        empty_api.close()
        big_api.close()
    return results


# -- reset -----------------------------------------------------------------------------------


def measure_reset(template: dict, rounds: int, baseline_images: int = 10_000) -> dict:
    """Reset after a test that made 10 images, at the default world and a big baseline."""
    from .handle import FakeCloud

    results = {}
    fake = FakeCloud(_cloud())

    def test_then_reset() -> float:
        context = fake.context()
        for number in range(10):
            fake.cloud.create_image(
                context, name=f"made-{number}", disk_format="qcow2", container_format="bare"
            )
        return _timed(fake.cloud.reset)

    fake.cloud.mark_baseline()
    fake.cloud.reset()
    results["reset, default world, nothing changed"] = _median_ms(
        [_timed(fake.cloud.reset) for _ in range(rounds)]
    )
    results["reset after a test made 10 images, default world"] = _median_ms(
        [test_then_reset() for _ in range(rounds)]
    )
    fake.cloud.import_state(seeded_state(fake.cloud.export_state(), template, baseline_images))
    fake.cloud.mark_baseline()
    results[f"reset, {baseline_images // 1000}k-image baseline, nothing changed"] = _median_ms(
        [_timed(fake.cloud.reset) for _ in range(rounds)]
    )
    results[f"reset after a test made 10 images, {baseline_images // 1000}k-image baseline"] = (
        _median_ms([test_then_reset() for _ in range(rounds)])
    )
    fake.cloud.import_state(fake.cloud.export_state())  # the tracking is lost: a full import
    results[f"reset, {baseline_images // 1000}k-image baseline, first after an import"] = (
        _median_ms([_timed(fake.cloud.reset)])
    )
    return results


# -- memory ----------------------------------------------------------------------------------


def _cloud() -> Any:
    from .server import build_cloud

    return build_cloud(seed=1, clock="frozen")


def _traced_per_image(prepare: Callable[[], Any], make: Callable[[Any], Any], count: int) -> float:
    """Bytes held per image after ``make(prepared)`` made ``count`` of them."""
    prepared = prepare()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = make(prepared)
        del kept
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / count


def measure_memory(template: dict, count: int) -> dict:
    """Bytes per image held by the cloud, by each way of making one."""
    from .handle import FakeCloud

    def fresh() -> Any:
        fake = FakeCloud(_cloud())
        fake.cloud.set_transitions({"image_snapshot": "immediate"})
        return fake

    def with_server() -> tuple:
        fake = fresh()
        return fake, fake.create_server("bench-memory")

    def by_create_image(prepared: tuple) -> None:
        fake, server = prepared
        context = fake.context()
        for number in range(count):
            fake.cloud.create_server_image(context, server.id, f"bench-{number}")

    def by_glance(fake: Any) -> None:
        context = fake.context()
        for number in range(count):
            fake.cloud.create_image(
                context, name=f"bench-{number}", disk_format="qcow2", container_format="bare"
            )

    def state_text() -> tuple:
        fake = fresh()
        return fake, json.dumps(seeded_state(fake.cloud.export_state(), template, count))

    def by_import(prepared: tuple) -> None:
        fake, text = prepared
        fake.cloud.import_state(json.loads(text))

    def world_text() -> tuple:
        fake, server = with_server()
        world = {
            "images": [
                {
                    "name": f"bench-{number}",
                    "origin": {"kind": "nova_snapshot", "server": server.id},
                }
                for number in range(count)
            ]
        }
        return fake, json.dumps(world)

    def by_scenario(prepared: tuple) -> None:
        fake, text = prepared
        fake.cloud.load_scenario(json.loads(text))

    def imported() -> Any:
        fake, text = state_text()
        by_import((fake, text))
        return fake

    return {
        "createImage action (server snapshots)": _traced_per_image(
            with_server, by_create_image, count
        ),
        "Glance POST /v2/images (records, no data)": _traced_per_image(fresh, by_glance, count),
        "state import of snapshots (PUT /_fakeecs/state)": _traced_per_image(
            state_text, by_import, count
        ),
        "scenario of snapshots (load_scenario)": _traced_per_image(world_text, by_scenario, count),
        "+ a baseline over them (mark_baseline keeps their records)": _traced_per_image(
            imported, lambda fake: fake.cloud.mark_baseline(), count
        ),
    }


# -- report --------------------------------------------------------------------------------


def measure(
    images: int = 100_000,
    rounds: int = 31,
    baseline_images: int = 10_000,
    memory_images: int = 5_000,
) -> dict:
    """Every figure of the scale section, as a dict."""
    from .handle import FakeCloud

    levels = [0, 100] + ([images] if images > 100 else [])
    with FakeCloud.start(seed=1) as empty, FakeCloud.start(seed=1) as big:
        template = snapshot_template(big)
        lists = measure_lists({"empty": empty, "big": big}, template, levels, rounds)
    return {
        "lists": lists,
        "reset": measure_reset(template, rounds * 2, baseline_images),
        "memory": measure_memory(template, memory_images),
    }


def report(results: dict) -> str:
    """The scale section as text."""
    lists = results["lists"]
    levels = lists["levels"]
    top = levels[-1]
    lines = [
        "fakeecs at scale: list routes (median ms of keep-alive GETs; the empty cloud is the "
        "default world; x: median of each round's ratio to it)"
    ]
    head = f"{'route':<44}" + "".join(f"{f'{n} images':>14}" for n in levels)
    lines.append(head + f"{'empty':>9}{f'x at {top}':>12}")
    for label, row in lists["routes"].items():
        cells = "".join(f"{row[level][1]:>14.2f}" for level in levels)
        empty_ms, _, ratio = row[top]
        mark = f"  ({row['note']})" if row["note"] else ""
        lines.append(f"{label:<44}{cells}{empty_ms:>9.2f}{ratio:>11.2f}x{mark}")
    lines.append(
        "state import (in process, JSON parsed): "
        + ", ".join(
            f"{level} images {seconds:.2f} s" for level, seconds in lists["import_s"].items()
        )
    )
    lines.append("")
    lines.append(f"{'reset':<66} {'median ms':>10}")
    for label, value in results["reset"].items():
        lines.append(f"{label:<66} {value:>10.3f}")
    lines.append("")
    lines.append(f"{'memory per image (tracemalloc)':<66} {'bytes':>10}")
    for label, value in results["memory"].items():
        lines.append(f"{label:<66} {value:>10.0f}")
    return "\n".join(lines)


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fakeecs.bench_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--images",
        type=int,
        default=100_000,
        help="the big level of the list table (default 100000)",
    )
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    results = measure(args.images, args.rounds)
    print(json.dumps(results, indent=2) if args.json else report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
