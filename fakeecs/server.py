"""Building a cloud from scenarios and serving it over HTTP on a real WSGI server."""
import atexit
import socket
import threading
import weakref

from cheroot import wsgi

from .model import scenario
from .api import create_app
from .model import Cloud, VirtualClock, apply_world


def build_cloud(scenarios=(scenario.DEFAULT,), *, seed=None, clock=None):
    """A cloud with each scenario (name, path or dict) applied in turn."""
    cloud = Cloud(seed=seed, clock=VirtualClock(mode=clock) if clock else None)
    for item in scenarios:
        apply_world(cloud, item if isinstance(item, dict) else scenario.read(item))
    return cloud


_RUNNING = weakref.WeakSet()
_EXIT_HOOK = []


def _stop_running():
    for server in list(_RUNNING):
        try:
            server.stop()
        except Exception:  # best effort at interpreter exit
            pass


def _track(server):
    """Stop ``server`` at interpreter exit if nobody did: cheroot's worker threads
    are not daemons, so a forgotten server would otherwise keep the process alive."""
    _RUNNING.add(server)
    if not _EXIT_HOOK:
        register = getattr(threading, "_register_atexit", None)  # runs before thread joins
        try:
            register(_stop_running) if register else atexit.register(_stop_running)
        except RuntimeError:
            atexit.register(_stop_running)
        _EXIT_HOOK.append(True)


class HTTPServer:
    """A threaded cheroot server for one app, with Nagle disabled."""

    def __init__(self, app, host="127.0.0.1", port=0, threads=16):
        self.app = app
        self._server = wsgi.Server((host, port), app, numthreads=threads,
                                   server_name="fakeecs", timeout=30)
        self._server.nodelay = True
        # cheroot's selector wakes every expiration_interval (0.5 s) and stop() waits for it
        self._server.expiration_interval = 0.05
        self._thread = None

    def start(self):
        """Bind and serve in a background thread; returns once the port is open."""
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name="fakeecs-http",
                                        daemon=True)
        self._thread.start()
        _track(self)
        return self

    @property
    def host(self):
        return self._server.bind_addr[0]

    @property
    def port(self):
        return self._server.bind_addr[1]

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def serve_forever(self):
        self._server.prepare()
        self._server.serve()

    def stop(self):
        _RUNNING.discard(self)
        self._server.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)


def port_is_free(host, port):
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


__all__ = ["build_cloud", "create_app", "HTTPServer", "port_is_free"]
