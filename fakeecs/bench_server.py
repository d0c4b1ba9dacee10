"""The HTTP edge, measured: ``python -m fakeecs.bench_server`` (part of ``make bench``).

Every server runs in its own process on 127.0.0.1 and an ephemeral port, and the same
clients (``requests.Session``, one per thread) drive them all in the same run.  Rounds
of back-to-back operations run on each contestant in turn (fakeecs, the other, fakeecs,
...) and are compared by their medians, so that the ratios compare like with like on a
busy, shared machine:

* GET image: fakeecs's ``GET /v2.1/{project}/images/{id}`` against a bare Flask
  route answering the same JSON on the same server (the framework's floor);
* createImage + GET image pairs against moto's standalone server doing EC2
  CreateImage + DescribeImages (moto is a bench-only extra: ``pip install .[bench]``),
  the bare Flask routes, and a floor server that answers fixed bytes from a socket (what
  the client costs alone); from one client, then from 4 client threads;
* many clients: GET image from 1, 16 and 64 keep-alive clients spread over up to 4
  client processes (and, for comparison, from as many threads of one process);
* stalled clients: 32 connections that send half a body and stop, while another
  client keeps asking.

Figures are printed, never asserted.
"""

import argparse
import importlib.util
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from .testing.client import password_auth

SERVERS = ("threaded", "cheroot", "waitress")


# -- the server processes ------------------------------------------------------------------------


def _bare_app(body):
    """A Flask app with one route that answers ``body`` as JSON, like a view would."""
    from flask import Flask, jsonify, request

    app = Flask("bare")
    app.json.sort_keys = False

    @app.get("/v2.1/<project_id>/images/<image_id>")
    def image(project_id, image_id):
        return jsonify(body)

    @app.post("/v2.1/<project_id>/servers/<server_id>/action")
    def action(project_id, server_id):
        request.get_json()
        response = jsonify({"image_id": body["image"]["id"]})
        response.status_code = 202
        response.headers["Location"] = request.host_url + f"v2.1/{project_id}/images/x"
        return response

    return app


def _floor_server(body):
    """A listening socket whose connection threads answer each request with fixed bytes
    (202 + Location to a POST, ``body`` to anything else), parsing nothing but the
    head's end and Content-Length: what the client and the loopback cost alone."""
    payload = json.dumps(body).encode()
    answers = {
        b"POST": b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nLocation: http://127.0.0.1/image/images/floor\r\n\r\n{}",
        b"GET": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(payload)).encode()
        + b"\r\n\r\n"
        + payload,
    }
    listener = socket.create_server(("127.0.0.1", 0))

    def connection(conn):
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                conn.sendall(answers.get(head.split(b" ", 1)[0], answers[b"GET"]))

    def accept():
        while True:
            conn, _ = listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=connection, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return "http://127.0.0.1:%d" % listener.getsockname()[1]


def _serve(argv):
    parser = argparse.ArgumentParser(prog="python -m fakeecs.bench_server serve")
    parser.add_argument("--app", choices=("fakeecs", "bare", "floor"), required=True)
    parser.add_argument("--server", choices=SERVERS, default=None)
    parser.add_argument("--body", default=None, help="JSON file the bare route answers")
    args = parser.parse_args(argv)
    from . import server as servers

    if args.app == "floor":
        with open(args.body, encoding="utf-8") as handle:
            print(f"URL {_floor_server(json.load(handle))}", flush=True)
        sys.stdin.read()
        return 0
    if args.app == "bare":
        with open(args.body, encoding="utf-8") as handle:
            app = _bare_app(json.load(handle))
    else:
        app = servers.create_app(servers.build_cloud(seed=1, clock="frozen"))
    cls = servers.SERVER_CLASSES[args.server] if args.server else servers.HTTPServer
    http = cls(app, "127.0.0.1", 0).start()
    print(f"URL {http.url}", flush=True)
    sys.stdin.read()  # serve until the bench closes our stdin
    http.stop()
    return 0


class Process:
    """A server in a child process, stopped by closing its stdin."""

    def __init__(self, command, ready_line):
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if ready_line(line):
                self.url = ready_line(line)
                return
        self.stop()
        raise RuntimeError(f"{command[:4]} did not start: {line!r}")

    def stop(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _url_line(line):
    return line.split(" ", 1)[1].strip() if line.startswith("URL ") else None


def start_fakeecs(server=None):
    command = [sys.executable, "-m", "fakeecs.bench_server", "serve", "--app", "fakeecs"]
    return Process(command + (["--server", server] if server else []), _url_line)


def start_bare(body_file, server=None, app="bare"):
    command = [sys.executable, "-m", "fakeecs.bench_server", "serve", "--app", app]
    command += ["--body", body_file]
    return Process(command + (["--server", server] if server else []), _url_line)


def start_moto():
    """moto's standalone server (werkzeug's threaded server), or None when not installed."""
    try:
        import moto  # noqa: F401
    except ImportError:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-c",
        "import sys; from moto.server import main; sys.exit(main(sys.argv[1:]))",
        "-H",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    proc = Process.__new__(Process)
    proc.process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.stop()
    return None


# -- clients -------------------------------------------------------------------------------------


def session():
    import requests

    client = requests.Session()
    client.trust_env = False
    return client


class Fakeecs:
    """A logged-in client of a fakeecs server, with a server to snapshot."""

    def __init__(self, url):
        self.url = url
        client = session()
        body = password_auth()
        response = client.post(url + "/v3/auth/tokens", json=body, timeout=10)
        response.raise_for_status()
        self.headers = {
            "X-Auth-Token": response.headers["X-Subject-Token"],
            "Accept": "application/json",
        }
        self.project = response.json()["token"]["project"]["id"]
        self.compute = f"{url}/v2.1/{self.project}"
        client.put(
            url + "/_fakeecs/transitions",
            json={"image_snapshot": "immediate", "server_build": "immediate"},
            timeout=10,
        ).raise_for_status()
        images = client.get(self.compute + "/images", headers=self.headers, timeout=10).json()
        self.image = images["images"][0]["id"]
        flavor = client.get(self.compute + "/flavors", headers=self.headers, timeout=10).json()[
            "flavors"
        ][0]["id"]
        created = client.post(
            self.compute + "/servers",
            headers=self.headers,
            timeout=10,
            json={
                "server": {
                    "name": "bench",
                    "imageRef": self.image,
                    "flavorRef": flavor,
                    "networks": "auto",
                }
            },
        )
        created.raise_for_status()
        self.server = created.json()["server"]["id"]
        self.names = itertools.count(1)  # thread-safe: clients share it
        client.close()

    def image_path(self, project=None):
        return f"/v2.1/{project or self.project}/images/{self.image}"

    def get_image(self, client):
        response = client.get(
            self.compute + f"/images/{self.image}", headers=self.headers, timeout=30
        )
        response.raise_for_status()
        return response

    def pair(self, client):
        number = next(self.names)
        response = client.post(
            self.compute + f"/servers/{self.server}/action",
            headers=self.headers,
            timeout=30,
            json={"createImage": {"name": f"bench-{number}"}},
        )
        if response.status_code != 202:
            raise RuntimeError(f"createImage: {response.status_code} {response.text[:200]}")
        image_id = response.headers["Location"].rsplit("/", 1)[-1]
        client.get(
            self.compute + f"/images/{image_id}", headers=self.headers, timeout=30
        ).raise_for_status()


class Moto:
    """EC2 on moto: an instance to make images from, over the query API."""

    AUTH = (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ec2/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
    )

    def __init__(self, url):
        self.url = url + "/"
        self.headers = {
            "Authorization": self.AUTH,
            "X-Amz-Date": "20260101T000000Z",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        client = session()
        text = self.call(
            client,
            Action="RunInstances",
            ImageId="ami-12c6146b",
            MinCount="1",
            MaxCount="1",
            InstanceType="t2.micro",
        )
        self.instance = text.split("<instanceId>", 1)[1].split("<", 1)[0]
        self.names = itertools.count(1)  # thread-safe: clients share it
        client.close()

    def call(self, client, **params):
        params.setdefault("Version", "2016-11-15")
        response = client.post(self.url, data=params, headers=self.headers, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(
                f"moto {params['Action']}: {response.status_code} {response.text[:200]}"
            )
        return response.text

    def pair(self, client):
        number = next(self.names)
        text = self.call(
            client, Action="CreateImage", InstanceId=self.instance, Name=f"bench-{number}"
        )
        image_id = text.split("<imageId>", 1)[1].split("<", 1)[0]
        self.call(client, Action="DescribeImages", **{"ImageId.1": image_id})


# -- measurements --------------------------------------------------------------------------------


def cpu_seconds(pid):
    """CPU time (user + system) a process has used so far, or None off Linux."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rounds(contestants, rounds, per_round):
    """Per-operation wall-clock seconds and server CPU seconds for each contestant.

    ``contestants`` maps a name to ``(operation, server pid)``.  Each round runs
    ``per_round`` operations back to back on each contestant in turn (fakeecs, the
    other, fakeecs, ...) and keeps the round's time per operation: a sustained rate,
    as a test suite drives a server.  The median over the rounds is the figure, so a
    round the busy machine slowed does not move it; the server's CPU time per
    operation does not depend on how busy the machine is at all.
    """
    clients = {name: session() for name in contestants}
    for name, (operation, _) in contestants.items():  # warm up: connections, caches
        for _ in range(max(per_round // 5, 3)):
            operation(clients[name])
    samples = {name: [] for name in contestants}
    cpu = {name: cpu_seconds(pid) for name, (_, pid) in contestants.items()}
    clock = time.perf_counter
    for _ in range(rounds):
        for name, (operation, _) in contestants.items():
            client = clients[name]
            begin = clock()
            for _ in range(per_round):
                operation(client)
            samples[name].append((clock() - begin) / per_round)
    results = {}
    for name, (_, pid) in contestants.items():
        after = cpu_seconds(pid)
        used = None if after is None or cpu[name] is None else after - cpu[name]
        results[name] = {
            "wall": statistics.median(samples[name]),
            "cpu": None if used is None else used / (rounds * per_round),
        }
    for client in clients.values():
        client.close()
    return results


def _connections(client):
    """How many connections a session has opened so far."""
    total = 0
    for pool in client.get_adapter("http://").poolmanager.pools._container.values():
        total += pool.num_connections
    return total


def many_clients(fake, threads, seconds, operation=None):
    """``operation`` (GET image) from ``threads`` keep-alive clients for ``seconds``: rate,
    errors, reconnects."""
    operation = operation or fake.get_image
    counts, errors, connections = [0] * threads, [0] * threads, [0] * threads
    start, stop = threading.Barrier(threads + 1), threading.Event()

    def worker(index):
        client = session()
        operation(client)
        start.wait()
        while not stop.is_set():
            try:
                operation(client)
                counts[index] += 1
            except Exception:
                errors[index] += 1
        connections[index] = _connections(client)
        client.close()

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    start.wait()
    begin = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - begin
    for thread in workers:
        thread.join(60)
    done = sum(counts)
    return {
        "rate": done / elapsed,
        "errors": sum(errors),
        "reconnects_per_request": (sum(connections) - threads) / max(done, 1),
    }


#: client processes that share the threads of one many-clients run (more would starve the
#: server of the machine's 2 CPUs; one alone is a bottleneck of its own: see spread_clients)
CLIENT_PROCESSES = 4


def _client_share(url, headers, threads, start_at, seconds):
    """One client process's share of a spread run: ``threads`` keep-alive clients GET
    ``url`` from ``start_at`` (wall clock) for ``seconds``; (count, errors, reconnects)."""
    counts, errors, connections = [0] * threads, [0] * threads, [0] * threads
    ready = threading.Barrier(threads)

    def worker(index):
        client = session()
        client.get(url, headers=headers, timeout=30).raise_for_status()
        ready.wait()
        time.sleep(max(start_at - time.time(), 0))
        stop = start_at + seconds
        while time.time() < stop:
            try:
                client.get(url, headers=headers, timeout=30).raise_for_status()
                counts[index] += 1
            except Exception:
                errors[index] += 1
        connections[index] = _connections(client) - 1
        client.close()

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(seconds + 90)
    return sum(counts), sum(errors), sum(connections)


def spread_clients(url, headers, threads, seconds):
    """GET ``url`` from ``threads`` keep-alive clients spread over up to
    ``CLIENT_PROCESSES`` processes: the server's rate, not one client process's.

    Python threads in one process share its interpreter lock, so past a few threads
    one client process stops adding requests (the report prints both figures): spread
    over processes, the clients measure the server.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    processes = min(threads, CLIENT_PROCESSES)
    shares = [threads // processes + (i < threads % processes) for i in range(processes)]
    start_at = time.time() + 2.0 + 0.05 * threads  # every process started and warm
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [
            pool.submit(_client_share, url, headers, share, start_at, seconds) for share in shares
        ]
        done = [future.result() for future in futures]
    count = sum(row[0] for row in done)
    return {
        "rate": count / seconds,
        "errors": sum(row[1] for row in done),
        "reconnects_per_request": sum(row[2] for row in done) / max(count, 1),
    }


def stalled_clients(fake, stalled=32, probes=40):
    """Open ``stalled`` connections that send half a body and stop; meanwhile time GET image
    from another client.  Returns the probe latencies (seconds) and failures."""
    host, port = fake.url.split("//", 1)[1].split(":")
    sockets = []
    path = f"/v2.1/{fake.project}/servers/{fake.server}/action"
    body = json.dumps({"createImage": {"name": "stalled"}}).encode()
    for _ in range(stalled):
        sock = socket.create_connection((host, int(port)), timeout=5)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"X-Auth-Token: {fake.headers['X-Auth-Token']}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        sock.sendall(head + body[: len(body) // 2])
        sockets.append(sock)
    time.sleep(0.2)  # let the server take them
    client = session()
    latencies, failures = [], 0
    for _ in range(probes):
        begin = time.perf_counter()
        try:
            fake.get_image(client)
            latencies.append(time.perf_counter() - begin)
        except Exception:
            failures += 1
            latencies.append(time.perf_counter() - begin)
    client.close()
    for sock in sockets:
        sock.close()
    return {"median_s": statistics.median(latencies), "max_s": max(latencies), "failures": failures}


def measure(server=None, rounds=7, per_round=100, seconds=3.0):
    """Every figure for one server implementation (None: fakeecs's default)."""
    results = {"server": server or "default"}
    fake_process = start_fakeecs(server)
    processes = [fake_process]
    try:
        fake = Fakeecs(fake_process.url)
        client = session()
        body = fake.get_image(client).json()
        client.close()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(body, handle)
            body_file = handle.name
        bare_process = start_bare(body_file, server)
        processes.append(bare_process)
        floor_process = start_bare(body_file, app="floor")
        processes.append(floor_process)
        os.unlink(body_file)
        bare_url = bare_process.url

        def bare_get(client):
            client.get(
                bare_url + fake.image_path(), headers=fake.headers, timeout=30
            ).raise_for_status()

        times = _rounds(
            {
                "fakeecs": (fake.get_image, fake_process.process.pid),
                "bare": (bare_get, bare_process.process.pid),
            },
            rounds,
            per_round,
        )
        results["get_image_ms"] = times["fakeecs"]["wall"] * 1000
        results["bare_flask_ms"] = times["bare"]["wall"] * 1000
        results["get_vs_bare"] = times["fakeecs"]["wall"] / times["bare"]["wall"]
        results["get_vs_bare_cpu"] = _ratio(times["fakeecs"]["cpu"], times["bare"]["cpu"])

        def plain_pair(url):
            """createImage + GET image on a server that only answers (bare route, floor)."""

            def pair(client):
                client.post(
                    url + f"/v2.1/{fake.project}/servers/{fake.server}/action",
                    json={"createImage": {"name": "plain"}},
                    headers=fake.headers,
                    timeout=30,
                ).raise_for_status()
                client.get(
                    url + fake.image_path(), headers=fake.headers, timeout=30
                ).raise_for_status()

            return pair

        bare_pair, floor_url = plain_pair(bare_url), floor_process.url
        floor_pair = plain_pair(floor_url)

        moto_process = start_moto()
        moto = None
        contestants = {
            "fakeecs": (fake.pair, fake_process.process.pid),
            "bare": (bare_pair, bare_process.process.pid),
            "floor": (floor_pair, floor_process.process.pid),
        }
        if moto_process is not None:
            processes.append(moto_process)
            moto = Moto(moto_process.url)
            contestants["moto"] = (moto.pair, moto_process.process.pid)
        times = _rounds(contestants, rounds, max(per_round // 4, 10))
        results["floor_pairs_per_s"] = 1 / times["floor"]["wall"]
        results["pairs_per_s"] = 1 / times["fakeecs"]["wall"]
        results["pair_cpu_ms"] = _ms(times["fakeecs"]["cpu"])
        results["bare_pairs_per_s"] = 1 / times["bare"]["wall"]
        results["bare_pair_cpu_ms"] = _ms(times["bare"]["cpu"])
        if "moto" in times:
            results["moto_pairs_per_s"] = 1 / times["moto"]["wall"]
            results["pairs_vs_moto"] = times["moto"]["wall"] / times["fakeecs"]["wall"]
            results["moto_pair_cpu_ms"] = _ms(times["moto"]["cpu"])
            results["pairs_vs_moto_cpu"] = _ratio(times["moto"]["cpu"], times["fakeecs"]["cpu"])
        results["pairs_4_clients"] = many_clients(fake, 4, seconds, operation=fake.pair)["rate"]
        if moto is not None:
            rate = many_clients(moto, 4, seconds, operation=moto.pair)["rate"]
            results["moto_pairs_4_clients"] = rate
        image_url = fake.compute + f"/images/{fake.image}"
        floor_image = floor_url + fake.image_path()
        for threads in (1, 16, 64):
            results[f"clients_{threads}"] = spread_clients(
                image_url, fake.headers, threads, seconds
            )
            results[f"threads_{threads}"] = many_clients(fake, threads, seconds)
            results[f"floor_threads_{threads}"] = spread_clients(
                floor_image, fake.headers, threads, seconds
            )["rate"]
        for key in ("clients", "threads"):
            one = results[f"{key}_1"]["rate"]
            for threads in (16, 64):
                results[f"{key}_{threads}"]["vs_one"] = results[f"{key}_{threads}"]["rate"] / one
        results["stalled_32"] = stalled_clients(fake)
    finally:
        for process in processes:
            process.stop()
    return results


def _ratio(top, bottom):
    return None if top is None or not bottom else top / bottom


def _ms(seconds):
    return None if seconds is None else seconds * 1000


def _maybe(value, fmt):
    return "n/a" if value is None else fmt.format(value)


def report(results):
    """The figures as lines of text."""
    lines = [
        f"server: {results['server']}",
        f"  GET image            {results['get_image_ms']:.3f} ms   bare Flask route "
        f"{results['bare_flask_ms']:.3f} ms   ratio {results['get_vs_bare']:.2f}x "
        f"(server CPU per request: {_maybe(results['get_vs_bare_cpu'], '{:.2f}x')})",
    ]
    line = (
        f"  createImage+GET      {results['pairs_per_s']:.0f} pairs/s "
        f"(server CPU {_maybe(results['pair_cpu_ms'], '{:.2f} ms')} a pair)"
    )
    line += (
        f"\n                       bare Flask POST+GET {results['bare_pairs_per_s']:.0f} "
        f"pairs/s (server CPU {_maybe(results['bare_pair_cpu_ms'], '{:.2f} ms')} a pair)"
    )
    line += (
        f"\n                       floor (fixed bytes from a socket: the client alone) "
        f"{results['floor_pairs_per_s']:.0f} pairs/s"
    )
    if "moto_pairs_per_s" in results:
        line += (
            f"\n                       moto CreateImage+DescribeImages "
            f"{results['moto_pairs_per_s']:.0f} pairs/s (server CPU "
            f"{_maybe(results['moto_pair_cpu_ms'], '{:.2f} ms')} a pair)   fakeecs/moto: "
            f"rate {results['pairs_vs_moto']:.1f}x, server CPU "
            f"{_maybe(results['pairs_vs_moto_cpu'], '{:.1f}x')}"
        )
    else:
        line += "   (moto not installed: pip install '.[bench]')"
    lines.append(line)
    line = f"  createImage+GET, 4 clients  {results['pairs_4_clients']:.0f} pairs/s"
    if "moto_pairs_4_clients" in results:
        line += (
            f"   moto {results['moto_pairs_4_clients']:.0f} pairs/s   fakeecs/moto: "
            f"{results['pairs_4_clients'] / results['moto_pairs_4_clients']:.1f}x"
        )
    lines.append(line)
    lines.append(
        f"  GET image from N keep-alive clients, spread over up to {CLIENT_PROCESSES} client "
        "processes (the server's rate); the floor server's rate with the same clients; "
        "N threads of one client process"
    )
    for threads in (1, 16, 64):
        row, inside = results[f"clients_{threads}"], results[f"threads_{threads}"]
        extra = f"   {row['vs_one']:.2f}x one client" if "vs_one" in row else ""
        inner = f" ({inside['vs_one']:.2f}x)" if "vs_one" in inside else ""
        lines.append(
            f"  {threads:>2} clients {row['rate']:.0f} req/s   errors {row['errors']}   "
            f"reconnects/request {row['reconnects_per_request']:.3f}{extra}   floor "
            f"{results[f'floor_threads_{threads}']:.0f} req/s   one process "
            f"{inside['rate']:.0f} req/s{inner}"
        )
    row = results["stalled_32"]
    lines.append(
        f"  32 stalled clients   other requests: median {row['median_s'] * 1000:.1f} ms, "
        f"max {row['max_s'] * 1000:.1f} ms, failures {row['failures']}"
    )
    return lines


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m fakeecs.bench_server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--server",
        action="append",
        choices=SERVERS,
        help="compare these servers (repeatable; default: fakeecs's own)",
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=100)
    parser.add_argument(
        "--seconds", type=float, default=3.0, help="how long each many-clients run lasts"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    servers = []
    for server in args.server or [None]:
        if server in ("cheroot", "waitress") and importlib.util.find_spec(server) is None:
            print(f"({server} not installed: pip install '.[bench]'; skipped)")
        else:
            servers.append(server)
    everything = [measure(server, args.rounds, args.per_round, args.seconds) for server in servers]
    if args.json:
        print(json.dumps(everything, indent=2))
    else:
        for results in everything:
            print("\n".join(report(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
