"""Building a cloud from scenarios and serving it over HTTP on a real WSGI server.

fakeecs serves on its own :class:`ThreadedServer` (``HTTPServer``); cheroot and
waitress run the same app with the same interface for comparison (``make bench``,
docs/server.md), when installed (the ``bench`` extra).
"""

import atexit
import socket
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import http11
from .api import create_app
from .model import Cloud, VirtualClock, apply_world, scenario


def build_cloud(
    scenarios: Iterable[Any] = (scenario.DEFAULT,), *, seed: Any = None, clock: str | None = None
) -> Cloud:
    """A cloud with each scenario (name, path or dict) applied in turn."""
    cloud = Cloud(seed=seed, clock=VirtualClock(mode=clock) if clock else None)
    for item in scenarios:
        apply_world(cloud, item if isinstance(item, dict) else scenario.read(item))
    return cloud


_RUNNING: "weakref.WeakSet[_Background]" = weakref.WeakSet()
_EXIT_HOOK: list[bool] = []


def _stop_running() -> None:
    for server in list(_RUNNING):
        try:
            server.stop()
        except Exception:  # best effort at interpreter exit
            pass


def _track(server: "_Background") -> None:
    """Stop ``server`` at interpreter exit if nobody did: cheroot's worker threads are not
    daemons, so a forgotten server would otherwise keep the process alive (and the others
    close their sockets)."""
    _RUNNING.add(server)
    if not _EXIT_HOOK:
        register = getattr(threading, "_register_atexit", None)  # runs before thread joins
        try:
            register(_stop_running) if register else atexit.register(_stop_running)
        except RuntimeError:
            atexit.register(_stop_running)
        _EXIT_HOOK.append(True)


class _Background:
    """Serving one app in a background thread: start, url, stop (shared by both servers)."""

    if TYPE_CHECKING:  # what each server provides
        _thread: threading.Thread | None

        @property
        def host(self) -> str: ...

        @property
        def port(self) -> int: ...

        def serve_forever(self) -> None: ...

        def stop(self) -> None: ...

    def start(self) -> "_Background":
        """Bind and serve in a background thread; returns once the port is open."""
        self._thread = threading.Thread(target=self.serve_forever, name="fakeecs-http", daemon=True)
        self._thread.start()
        _track(self)
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the serving thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the server to stop serving."""
        if self._thread is not None:
            self._thread.join(seconds)


def _coalescing_connection() -> type:
    """A cheroot connection class whose responses go out in one write: cheroot writes a
    response's headers and its body with two system calls (two TCP segments, two wake-ups
    of the client); this one holds the headers back and sends them with the first body
    chunk (or alone, once the response is over)."""
    from cheroot import server as cheroot_server

    class CoalescingRequest(cheroot_server.HTTPRequest):
        _held = None

        def send_headers(self):
            wfile, held = self.conn.wfile, []
            wfile.write = held.append  # catch the one header write
            try:
                super().send_headers()
            finally:
                del wfile.write
            if self.chunked_write:  # streamed: chunks follow their own framing
                wfile.write(b"".join(held))
            else:
                self._held = b"".join(held)

        def write(self, chunk):
            held, self._held = self._held, None
            super().write(held + chunk if held is not None else chunk)

        def respond(self):
            try:
                super().respond()
            finally:
                held, self._held = self._held, None
                if held:
                    self.conn.wfile.write(held)

    class CoalescingConnection(cheroot_server.HTTPConnection):
        RequestHandlerClass = CoalescingRequest

    return CoalescingConnection


#: worker threads: idle ones cost nothing under the GIL, and each client that stalls
#: mid-body holds one (cheroot) until the socket timeout
DEFAULT_THREADS = 64


class CherootServer(_Background):
    """cheroot, tuned: Nagle off, one write per response, keep-alive for many clients, many
    workers, a quick stop.

    A worker thread reads each request's body, so a client that stalls mid-body holds
    a worker until ``timeout``: ``threads`` bounds how many such clients leave the
    others unharmed.
    """

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int | None = None
    ) -> None:
        threads = threads or DEFAULT_THREADS
        from cheroot import wsgi

        self.app = app
        self._server = wsgi.Server(
            (host, port), app, numthreads=threads, server_name="fakeecs", timeout=30
        )
        self._server.nodelay = True
        self._server.ConnectionClass = _coalescing_connection()
        # cheroot closes keep-alive connections past this many (default 10)
        self._server.keep_alive_conn_limit = 1024
        # cheroot's selector wakes every expiration_interval (0.5 s) and stop() waits for it
        self._server.expiration_interval = 0.05
        self._server.prepare()
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        host: str = self._server.bind_addr[0]
        return host

    @property
    def port(self) -> int:
        port: int = self._server.bind_addr[1]
        return port

    def serve_forever(self) -> None:
        self._server.serve()

    def stop(self) -> None:
        _RUNNING.discard(self)
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)


class WaitressServer(_Background):
    """waitress: one event loop reads whole requests, then a worker runs the app.

    A client that stalls mid-body holds no worker (only a buffer), and idle keep-alive
    connections cost nothing but a socket.
    """

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int | None = None
    ) -> None:
        from waitress.server import create_server

        threads = threads or 16
        self.app = app
        self._stopping = threading.Event()
        self._server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="fakeecs",
            # whole seconds (waitress casts it to int: 0 would spin); stop() wakes the loop
            connection_limit=1000,
            channel_timeout=30,
            asyncore_loop_timeout=1,
            # OpenStack refuses JSON bodies over 112 KiB itself; image data may be large
            max_request_body_size=8 * 1024**3,
            clear_untrusted_proxy_headers=True,
        )
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        host: str = self._server.effective_host
        return host

    @property
    def port(self) -> int:
        port: int = self._server.effective_port
        return port

    def serve_forever(self) -> None:
        server = self._server
        try:
            while not self._stopping.is_set():
                server.asyncore.loop(
                    timeout=server.adj.asyncore_loop_timeout,
                    map=server._map,
                    use_poll=server.adj.asyncore_use_poll,
                    count=1,
                )
        finally:
            for channel in list(server._map.values()):
                try:
                    channel.close()
                except OSError:  # pragma: no cover - already gone
                    pass
            server.task_dispatcher.shutdown(timeout=5)

    def stop(self) -> None:
        _RUNNING.discard(self)
        self._stopping.set()
        try:
            self._server.pull_trigger()
        except OSError:  # pragma: no cover - the loop closed it already
            pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        else:
            self.serve_forever()  # never started: just release the socket


class ThreadedServer(_Background):
    """fakeecs's own server: one daemon thread per connection, speaking :mod:`.http11`.

    A connection's thread reads, runs the app and writes, with no hand-off; a client
    that stalls mid-body holds only its own thread (bodies up to 1 MiB are read before
    the app runs) until ``timeout``; idle keep-alive connections wait in their threads.
    ``threads`` bounds the connections served at once (one thread each; default 1024);
    more wait in the listen backlog.
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.timeout = timeout
        self._listener = socket.create_server((host, port), backlog=1024)
        self._listener.settimeout(0.05)  # how often the accept loop looks for stop()
        self._host, self._port = self._listener.getsockname()[:2]
        self._slots = threading.BoundedSemaphore(threads or 1024)
        self._open: set[socket.socket] = set()
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._host)

    @property
    def port(self) -> int:
        return int(self._port)

    def serve_forever(self) -> None:
        try:
            while not self._stopping.is_set():
                if not self._slots.acquire(timeout=0.05):
                    continue
                try:
                    conn, address = self._listener.accept()
                except TimeoutError:
                    self._slots.release()
                    continue
                except OSError:  # stopping, or out of file descriptors: do not spin
                    self._slots.release()
                    self._stopping.wait(0.05)
                    continue
                conn.settimeout(self.timeout)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._guard:
                    self._open.add(conn)
                threading.Thread(
                    target=self._connection, args=(conn, address), name="fakeecs-conn", daemon=True
                ).start()
        finally:
            self._listener.close()

    def _connection(self, conn: socket.socket, address: Any) -> None:
        try:
            http11.serve_connection(conn, address, self.app, self.host, self.port)
        finally:
            with self._guard:
                self._open.discard(conn)
            self._slots.release()

    def stop(self) -> None:
        _RUNNING.discard(self)
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() at once
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        else:
            self._listener.close()
        with self._guard:
            connections = list(self._open)
        for conn in connections:  # wake their threads: they end at once
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


#: the servers fakeecs can run on, by name (``python -m fakeecs.bench_server`` compares them)
SERVER_CLASSES = {
    "threaded": ThreadedServer,
    "cheroot": CherootServer,
    "waitress": WaitressServer,
}
#: fakeecs's server, chosen by that benchmark (docs/server.md); the others need the bench extra
HTTPServer = ThreadedServer


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


__all__ = [
    "SERVER_CLASSES",
    "CherootServer",
    "HTTPServer",
    "ThreadedServer",
    "WaitressServer",
    "build_cloud",
    "create_app",
    "port_is_free",
]
