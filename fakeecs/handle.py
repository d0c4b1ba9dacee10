"""The in-process handle: a real fakeecs HTTP server in a background thread.

::

    from fakeecs import FakeCloud

    with FakeCloud.start(clock="frozen", seed=1) as fake:
        conn = openstack.connect(**fake.openstack_connect_kwargs())
        server = conn.compute.create_server(name="web", flavor_id="s6.small.1",
                                            image_id=fake.base_image_id, networks="auto")
        fake.clock.advance(5)                   # the build finishes in virtual time
        assert fake.server(server.id).vm_state == "active"

The handle and the HTTP server share one :class:`~fakeecs.model.Cloud`: what a
test changes through the handle a client sees at once, and the other way round.
Every control-plane operation is a row of one route table
(:mod:`fakeecs.api.control.operations`): :class:`FakeCloud` runs it on its model,
:class:`RemoteFakeCloud` sends it to the ``/_fakeecs/`` routes of a fakeecs that
runs elsewhere, and either way the same schema checks the arguments.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import TYPE_CHECKING, Any, SupportsIndex, TypedDict, TypeVar

from .model.clock import PRESETS, expand_preset

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterator, Mapping

    from flask import Flask
    from openstack.connection import Connection

    from .api.control.operations import Call, Operation
    from .model import Cloud, Context
    from .model.entities import Image, Job, Project, Server, User
    from .server import HTTPServer
    from .testing.client import Client

#: a scenario: a name, the path of a scenario file, or the world itself as a dict
ScenarioRef = str | dict[str, Any]
#: a process duration: seconds, ``"manual"``, ``"immediate"`` or None (the default)
Duration = float | str | None
#: a virtual time: epoch seconds, an ISO-8601 string or a datetime
TimeRef = float | str | datetime.datetime

_T = TypeVar("_T")
_Handle = TypeVar("_Handle", bound="_ControlSurface")
_Fake = TypeVar("_Fake", bound="FakeCloud")
_Remote = TypeVar("_Remote", bound="RemoteFakeCloud")

DEFAULT_PROJECT_ID = "0fae0ec5c0de4e1bb2b3c4d5e6f70819"
DEFAULT_PROJECT = "fakeecs"
DEFAULT_DOMAIN = "Default"
DEFAULT_USER = "fakeecs"
DEFAULT_PASSWORD = "fakeecs"
DEFAULT_REGION = "cn-north-4"
DEFAULT_AK = "FAKEECSAKEXAMPLE0001"
DEFAULT_SK = "fakeecs-secret-key"
#: the public base images of the default scenario
UBUNTU_IMAGE_ID = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01"
CENTOS_IMAGE_ID = "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a02"
DEFAULT_FLAVOR = "s6.small.1"

_real_sleep = time.sleep


class FakeEcsError(RuntimeError):
    """A control-plane call failed (bad argument, unknown resource, no control plane)."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


# ----------------------------------------------------------------------------
# shared surface (in-process and remote)
# ----------------------------------------------------------------------------


class _Endpoint:
    """Connection facts and the client-configuration helpers (no state access)."""

    if TYPE_CHECKING:  # read-only here: FakeCloud reads them from its model

        @property
        def url(self) -> str: ...
        @property
        def region(self) -> str: ...
        @property
        def project_id(self) -> str | None: ...
        @property
        def project_name(self) -> str: ...
        @property
        def domain_name(self) -> str: ...
        @property
        def username(self) -> str: ...
        @property
        def password(self) -> str: ...
    else:
        url = None
        region = DEFAULT_REGION
        project_id = DEFAULT_PROJECT_ID
        project_name = DEFAULT_PROJECT
        domain_name = DEFAULT_DOMAIN
        username = DEFAULT_USER
        password = DEFAULT_PASSWORD
    access_key = DEFAULT_AK
    secret_key = DEFAULT_SK
    base_image_id = UBUNTU_IMAGE_ID
    flavor_id = DEFAULT_FLAVOR

    @property
    def auth_url(self) -> str:
        return f"{self.url}/v3"

    @property
    def compute_url(self) -> str:
        if self.project_id is None:
            raise FakeEcsError(f"{self.url}: the project id is unknown; pass project_id=")
        return f"{self.url}/v2.1/{self.project_id}"

    @property
    def image_url(self) -> str:
        return f"{self.url}/image"

    @property
    def credentials(self) -> dict[str, str | None]:
        """The default user's credentials, as a dict."""
        return {
            "username": self.username,
            "password": self.password,
            "project_name": self.project_name,
            "project_id": self.project_id,
            "user_domain_name": self.domain_name,
            "project_domain_name": self.domain_name,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
        }

    def openstack_connect_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``openstack.connect(**kwargs)`` (openstacksdk)."""
        kwargs = {
            "auth_url": self.auth_url,
            "username": self.username,
            "password": self.password,
            "project_name": self.project_name,
            "user_domain_name": self.domain_name,
            "project_domain_name": self.domain_name,
            "region_name": self.region,
            "identity_api_version": "3",
            "interface": "public",
        }
        kwargs.update(overrides)
        return kwargs

    def clouds_config(self, name: str = "fakeecs") -> dict[str, Any]:
        """The ``clouds.yaml`` content as a dict."""
        return {
            "clouds": {
                name: {
                    "auth": {
                        "auth_url": self.auth_url,
                        "username": self.username,
                        "password": self.password,
                        "project_name": self.project_name,
                        "user_domain_name": self.domain_name,
                        "project_domain_name": self.domain_name,
                    },
                    "region_name": self.region,
                    "identity_api_version": 3,
                    "interface": "public",
                }
            }
        }

    def clouds_yaml(self, name: str = "fakeecs", path: str | os.PathLike[str] | None = None) -> str:
        """A ``clouds.yaml`` text for ``openstack --os-cloud <name>``; written to ``path`` if given."""
        import yaml

        text = yaml.safe_dump(self.clouds_config(name), sort_keys=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        return text

    def openstack_env(self) -> dict[str, str]:
        """``OS_*`` environment variables for the ``openstack`` CLI and novaclient."""
        return {
            "OS_AUTH_URL": self.auth_url,
            "OS_USERNAME": self.username,
            "OS_PASSWORD": self.password,
            "OS_PROJECT_NAME": self.project_name,
            "OS_USER_DOMAIN_NAME": self.domain_name,
            "OS_PROJECT_DOMAIN_NAME": self.domain_name,
            "OS_REGION_NAME": self.region,
            "OS_IDENTITY_API_VERSION": "3",
            "OS_INTERFACE": "public",
        }

    def huawei_sdk_config(self) -> dict[str, Any]:
        """What the Huawei Cloud Python SDK needs (AK/SK signing, endpoint override).

        ::

            cfg = fake.huawei_sdk_config()
            client = (EcsClient.new_builder()
                      .with_credentials(BasicCredentials(cfg["ak"], cfg["sk"], cfg["project_id"]))
                      .with_endpoints([cfg["endpoint"]]).build())
        """
        return {
            "ak": self.access_key,
            "sk": self.secret_key,
            "project_id": self.project_id,
            "region": self.region,
            "endpoint": self.url,
            "iam_endpoint": self.url,
            "endpoints": {"ecs": self.url, "ims": self.url, "evs": self.url, "iam": self.url},
            "env": {
                "HUAWEICLOUD_SDK_AK": self.access_key,
                "HUAWEICLOUD_SDK_SK": self.secret_key,
                "HUAWEICLOUD_SDK_PROJECT_ID": self.project_id,
                "HUAWEICLOUD_SDK_IAM_ENDPOINT": self.url,
                "HUAWEICLOUD_SDK_REGION_ECS_" + self._region_env(): self.url,
                "HUAWEICLOUD_SDK_REGION_IMS_" + self._region_env(): self.url,
                "HUAWEICLOUD_SDK_REGION_EVS_" + self._region_env(): self.url,
            },
        }

    def _region_env(self) -> str:
        return self.region.upper().replace("-", "_")

    def openstack_connection(self, **overrides: Any) -> Connection:
        """An ``openstack.Connection`` to this cloud (needs openstacksdk).

        ``clouds.yaml`` files and ``OS_*`` variables are ignored, so a developer's
        real cloud settings can never leak into a test.
        """
        from openstack import config as os_config
        from openstack import connection

        region = os_config.get_cloud_region(
            load_yaml_config=False, load_envvars=False, **self.openstack_connect_kwargs(**overrides)
        )
        return connection.Connection(config=region)

    def client(self, **overrides: Any) -> Client:
        """A small authenticated HTTP client (see :class:`fakeecs.testing.client.Client`)."""
        from .testing.client import Client

        options = {
            "auth_url": self.auth_url,
            "username": self.username,
            "password": self.password,
            "project_name": self.project_name,
            "domain_name": self.domain_name,
            "region": self.region,
        }
        options.update(overrides)
        return Client(**options)  # type: ignore[no-untyped-call, unused-ignore]


class _ClockState(TypedDict):
    """The clock as the handles read it."""

    now: float
    mode: str
    auto: str


class _Clock:
    """``fake.clock``: read and move the virtual clock."""

    def __init__(self, owner: _ControlSurface) -> None:
        self._owner = owner

    def now(self) -> float:
        """Virtual time, epoch seconds."""
        return self._owner._clock_state()["now"]

    @property
    def mode(self) -> str:
        return self._owner._clock_state()["mode"]

    @property
    def auto_flavour(self) -> str:
        """How reads move the clock: ``off``, ``step`` or ``finish``."""
        return self._owner._clock_state()["auto"]

    def auto(self, flavour: str = "step") -> dict[str, Any]:
        """Stop the clock and let each read of a resource with pending work move it:
        ``step`` (to its next step), ``finish`` (to the end of its process) or ``off``."""
        return self._owner._set_clock(mode="frozen", auto=flavour)

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move virtual time forward and run every transition that falls due."""
        return self._owner._advance_clock(seconds)

    def freeze(self, at: TimeRef | None = None) -> dict[str, Any]:
        """Stop the clock (at ``at``: an epoch, an ISO-8601 string or a datetime)."""
        state = self._owner._set_clock(mode="frozen")
        return state if at is None else self._owner._set_clock(now=at)

    def realtime(self, speed: float = 1.0) -> dict[str, Any]:
        """Let virtual time run with the wall clock, ``speed`` times as fast."""
        return self._owner._set_clock(mode="realtime", speed=speed)

    def set(
        self,
        now: TimeRef | None = None,
        mode: str | None = None,
        speed: float | None = None,
        auto: str | None = None,
    ) -> dict[str, Any]:
        """Set time, mode, speed and/or auto flavour.

        ``mode`` is a preset: ``realtime``, ``frozen``, ``auto-step`` or
        ``auto-finish`` (frozen, with reads that move the clock); it sets the
        auto flavour too unless ``auto`` is given.
        """
        if mode in PRESETS:
            preset = expand_preset(mode)
            mode, auto = preset["mode"], auto or preset["auto"]
        return self._owner._set_clock(now=now, mode=mode, speed=speed, auto=auto)

    @contextlib.contextmanager
    def virtual_sleep(self, budget: float = 3600.0) -> Iterator[_Clock]:
        """Within the block, ``time.sleep(s)`` in this thread advances a frozen clock.

        Client wait loops (``openstack ... wait=True``, ``wait_for_server``) then
        finish at once and deterministically.  Other threads sleep for real.
        Once ``budget`` virtual seconds were slept (a resource stuck on a manual
        transition, say) sleeps become real again and a warning says why.
        """
        owner_thread = threading.current_thread()
        previous = time.sleep
        clock = self
        used = [0.0]

        def sleep(seconds: float | SupportsIndex) -> None:
            if threading.current_thread() is not owner_thread:
                return _real_sleep(seconds)
            if used[0] < budget and clock.mode == "frozen":
                seconds = max(float(seconds), 0.0)
                used[0] += seconds
                if used[0] >= budget:
                    warnings.warn(
                        f"fakeecs: the test slept {budget:g} virtual seconds on a "
                        "frozen clock; sleeping for real from now on (is a resource "
                        "waiting on a 'manual' transition?)",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                if seconds:
                    clock.advance(seconds)
                return _real_sleep(0)
            return _real_sleep(seconds)

        time.sleep = sleep
        try:
            yield self
        finally:
            time.sleep = previous


class _ControlSurface(_Endpoint):
    """The control-plane methods, implemented by ``_call`` in each subclass."""

    has_control_plane = True

    def __init__(self) -> None:
        self.clock = _Clock(self)

    # -- world ---------------------------------------------------------------
    def reset(
        self, scenario: ScenarioRef | list[ScenarioRef] | tuple[ScenarioRef, ...] | None = None
    ) -> dict[str, Any]:
        """Back to the starting world (or start over from ``scenario``).

        Faults and the request journal are cleared; ids restart from the same
        seed, so each test sees the same ids.  Cheap: an import of a prepared state.
        """
        return self._call("reset", scenario)

    def load_scenario(self, scenario: ScenarioRef) -> dict[str, Any]:
        """Add a scenario (name, path or dict) on top of the current state."""
        return self._call("load_scenario", scenario)

    def export_state(self) -> dict[str, Any]:
        """The whole state as versioned JSON-friendly data."""
        return self._call("export_state")

    def import_state(self, state: dict[str, Any]) -> dict[str, Any]:
        return self._call("import_state", state)

    def seed(self, value: int | str) -> dict[str, Any]:
        """Re-seed the id generator (and the fault probability generator)."""
        return self._call("seed", value)

    # -- transitions ------------------------------------------------------------
    def transitions(self) -> dict[str, Any]:
        """Process durations: ``{"server_build": 1.0, "image_snapshot": 2.0, ...}``."""
        return self._call("get_transitions")

    def set_transition(self, process: str, duration: Duration) -> dict[str, Any]:
        """One timed process (``server_build``, ``image_snapshot``, ...): seconds,
        ``"manual"``, ``"immediate"`` or None (the default)."""
        return self._call("set_transitions", {process: duration})

    def set_transitions(
        self, mapping: Mapping[str, Duration], replace: bool = False
    ) -> dict[str, Any]:
        return self._call("set_transitions", dict(mapping), replace=replace)

    def describe(self, kind: str, resource_id: str) -> dict[str, Any]:
        """A resource's state and the processes pending on it."""
        return self._call("describe_resource", kind, resource_id)

    def advance_resource(self, kind: str, resource_id: str, steps: int | str = 1) -> dict[str, Any]:
        """Run the next ``steps`` step(s) (or ``"all"``) of a resource's pending process."""
        return self._call("advance_resource", kind, resource_id, steps)

    def force_state(
        self, kind: str, resource_id: str, state: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Force a resource's state along a legal path of its transition table.

        ``force_state("server", sid, "error")`` or with fields: ``vm_state``,
        ``task_state``, ``power_state``, ``fault``, ``locked`` (servers), ``status``.
        """
        if state is not None:
            fields["vm_state" if kind == "server" else "status"] = state
        return self._call("force_state", kind, resource_id, **fields)

    # -- faults ------------------------------------------------------------------
    def add_fault(self, rule: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Add a fault rule (a dict and/or keyword fields: ``match``, ``status``,
        ``message``, ``body``, ``times``, ``skip``, ``probability``, ``latency_ms``,
        ``side_effect``); returns the rule as a dict (with its ``id``)."""
        spec = dict(rule or {})
        spec.update(fields)
        return self._call("add_fault", spec)

    def remove_fault(self, fault_id: str) -> dict[str, Any]:
        """Remove one fault rule: ``{"deleted": [fault_id]}``."""
        return self._call("remove_fault", fault_id)

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self._call("list_faults")["faults"]
        return faults

    def clear_faults(self) -> dict[str, Any]:
        return self._call("clear_faults")

    # -- journal -------------------------------------------------------------------
    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """The request journal, oldest first (filters: method, path glob, status,
        action, project, since, limit)."""
        requests: list[dict[str, Any]] = self.journal(**filters)["requests"]
        return requests

    def journal(self, **filters: Any) -> dict[str, Any]:
        """``{"requests": [...], "dropped": N}``: the journal as :meth:`requests` filters it,
        and how many older entries the bounded journal dropped."""
        return self._call("list_requests", **filters)

    def clear_requests(self) -> dict[str, Any]:
        return self._call("clear_requests")

    # -- every control call goes through the route table --------------------------------
    def _call(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run the control operation ``name`` (a row of the route table) with a handle's
        arguments: the same schema checks them whether the cloud is here or remote."""
        from .api.control.operations import OPERATIONS

        operation = OPERATIONS.get(name)
        if operation is None:
            raise FakeEcsError(f"no control operation {name!r}")
        result: dict[str, Any] = self._perform(operation, operation.call(*args, **kwargs))
        return result

    def _clock_state(self) -> _ClockState:
        state = self._call("get_clock")
        return {"now": state["epoch"], "mode": state["mode"], "auto": state.get("auto", "off")}

    def _advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("advance_clock", seconds)

    def _set_clock(self, **options: Any) -> dict[str, Any]:
        return self._call("set_clock", **options)

    def _perform(self, operation: Operation, call: Call) -> Any:
        """Perform one row of the route table (here, or over HTTP)."""
        raise NotImplementedError


# ----------------------------------------------------------------------------
# the in-process handle
# ----------------------------------------------------------------------------


class FakeCloud(_ControlSurface):
    """A fakeecs cloud served on loopback by a background thread.

    Use :meth:`start` (``with FakeCloud.start() as fake: ...``).  ``fake.cloud``
    is the model itself, for direct reads in assertions.
    """

    def __init__(self, cloud: Cloud, server: HTTPServer | None = None) -> None:
        super().__init__()
        self.cloud = cloud
        self.http_server = server
        self.app: Flask | None = server.app if server is not None else None

    @classmethod
    def start(
        cls: type[_Fake],
        port: int = 0,
        *,
        scenario: ScenarioRef | list[ScenarioRef] | tuple[ScenarioRef, ...] | None = "default",
        clock: str = "frozen",
        seed: int | str | None = None,
        host: str = "127.0.0.1",
        transitions: Mapping[str, Duration] | None = None,
        threads: int | None = None,
    ) -> _Fake:
        """Build a cloud from ``scenario`` and serve it on ``host:port`` (0: a free port).

        ``scenario`` is a name, a path, a dict, or a list of them applied in
        order.  Binding fails at once (``OSError``) if the port is taken.
        """
        from .api import create_app
        from .server import HTTPServer, build_cloud

        scenarios = scenario if isinstance(scenario, (list, tuple)) else [scenario]
        cloud = build_cloud([s for s in scenarios if s is not None], seed=seed, clock=clock)
        if transitions:
            cloud.set_transitions(dict(transitions))
        cloud.mark_baseline()  # reset() comes back here, without re-reading any scenario
        # create_app (fakeecs.api) has no annotations yet
        server = HTTPServer(
            create_app(cloud),  # type: ignore[no-untyped-call, unused-ignore]
            host,
            port,
            threads=threads,
        )
        server.start()
        return cls(cloud, server)

    # -- lifecycle -------------------------------------------------------------
    def stop(self) -> None:
        server, self.http_server = self.http_server, None
        if server is not None:
            server.stop()

    def __enter__(self: _Handle) -> _Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.http_server is not None

    @property
    def url(self) -> str:
        if self.http_server is None:
            raise FakeEcsError("this FakeCloud is stopped")
        return self.http_server.url

    @property
    def port(self) -> int:
        if self.http_server is None:
            raise FakeEcsError("this FakeCloud is stopped")
        return self.http_server.port

    # -- identity facts come from the model (a scenario may change them) -----------
    @property
    def region(self) -> str:
        return self.cloud.region

    def _default_account(self) -> Project | None:
        cloud = self.cloud
        project: Project | None = cloud.projects.get(DEFAULT_PROJECT_ID)
        if project is None and cloud.projects:
            project = next(iter(cloud.projects.values()))
        return project

    @property
    def project_id(self) -> str:
        project = self._default_account()
        return project.id if project is not None else DEFAULT_PROJECT_ID

    @property
    def project_name(self) -> str:
        project = self._default_account()
        return project.name if project is not None else DEFAULT_PROJECT

    @property
    def domain_name(self) -> str:
        project = self._default_account()
        domain = self.cloud.domains.get(project.domain_id) if project is not None else None
        return domain.name if domain is not None else DEFAULT_DOMAIN

    def _default_user(self) -> User | None:
        project_id = self.project_id
        users: dict[str, User] = self.cloud.users
        for user in users.values():
            if user.name == DEFAULT_USER and project_id in user.roles:
                return user
        for user in users.values():
            if "admin" in user.roles.get(project_id, ()):
                return user
        return next((u for u in users.values() if project_id in u.roles), None)

    @property
    def username(self) -> str:
        user = self._default_user()
        return user.name if user is not None else DEFAULT_USER

    @property
    def password(self) -> str:
        user = self._default_user()
        return user.password if user is not None else DEFAULT_PASSWORD

    # -- control plane: the route table's operations, run on the model here -------------
    def _perform(self, operation: Operation, call: Call) -> Any:
        return operation.invoke(self.cloud, call)

    # -- direct read access to the model ------------------------------------------------
    def context(self, user: str | None = None, project: str | None = None) -> Context:
        """A model :class:`~fakeecs.model.Context` for calling model methods directly."""
        return self.cloud.context_for_user(user or self.username, project)

    def _read(self, fn: Callable[[], _T]) -> _T:
        with self.cloud.lock:
            self.cloud.settle()
            return fn()

    def server(self, server_id: str) -> Server | None:
        """The model's server entity (``None`` once it is gone)."""
        server: Server | None = self._read(lambda: self.cloud.servers.get(server_id))
        return server

    def image(self, image_id: str) -> Image | None:
        image: Image | None = self._read(lambda: self.cloud.images.get(image_id))
        return image

    def servers(self) -> list[Server]:
        """Every server, oldest first (all projects)."""
        return self._read(lambda: sorted(self.cloud.servers, key=lambda s: s.seq))

    def images(self, include_public: bool = True) -> list[Image]:
        return self._read(
            lambda: sorted(
                (i for i in self.cloud.images if include_public or i.visibility != "public"),
                key=lambda i: i.seq,
            )
        )

    def jobs(self) -> list[Job]:
        return self._read(lambda: list(self.cloud.jobs.values()))

    # -- arrange helpers (through the model, as the default admin user) -----------------
    def create_server(
        self,
        name: str = "server-1",
        *,
        image: str | None = None,
        flavor: str | None = None,
        zone: str | None = None,
        settle: bool = True,
        **options: Any,
    ) -> Server:
        """Create a server through the model; with ``settle`` run its build to ACTIVE."""
        server = self.cloud.create_server(
            self.context(),
            name=name,
            flavor_id=flavor or self.flavor_id,
            image_id=image or self.base_image_id,
            availability_zone=zone,
            **options,
        )
        if settle:
            self._settle_jobs("server", server.id)
        return server

    def create_server_image(
        self,
        server_id: str,
        name: str = "image-1",
        metadata: Mapping[str, str] | None = None,
        *,
        settle: bool = True,
    ) -> Image:
        """``createImage`` through the model; with ``settle`` the image ends ``active``."""
        image = self.cloud.create_server_image(self.context(), server_id, name, metadata)
        if settle:
            self._settle_jobs("server", server_id)
        return image

    def _settle_jobs(self, kind: str, resource_id: str) -> None:
        """Advance the clock until ``resource_id`` has no timed job left (manual ones stay)."""
        for _ in range(1000):
            with self.cloud.lock:
                dues = [j.due for j in self.cloud.jobs_for(kind, resource_id) if j.due is not None]
                if not dues:
                    return
                step = max(min(dues) - self.cloud.now(), 0.0)
            self.clock.advance(step)

    def __repr__(self) -> str:
        where = self.http_server.url if self.http_server is not None else "stopped"
        return f"<FakeCloud {where} region={self.region}>"


# ----------------------------------------------------------------------------
# a fakeecs (or another cloud) elsewhere, driven over HTTP
# ----------------------------------------------------------------------------


class RemoteFakeCloud(_ControlSurface):
    """The same methods as :class:`FakeCloud`, against ``url`` over HTTP.

    If the endpoint has no fakeecs control plane (a real cloud), connection
    facts and client helpers work and every control method raises
    :class:`FakeEcsError`; ``has_control_plane`` tells which it is.
    """

    url: str
    region: str
    project_id: str | None
    project_name: str
    domain_name: str
    username: str
    password: str

    def __init__(
        self,
        url: str,
        *,
        username: str = DEFAULT_USER,
        password: str = DEFAULT_PASSWORD,
        project_name: str = DEFAULT_PROJECT,
        project_id: str | None = None,
        domain_name: str = DEFAULT_DOMAIN,
        region: str = DEFAULT_REGION,
        auth_url: str | None = None,
        access_key: str = DEFAULT_AK,
        secret_key: str = DEFAULT_SK,
        admin_token: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.project_name = project_name
        self.project_id = project_id or (
            DEFAULT_PROJECT_ID if project_name == DEFAULT_PROJECT else None
        )
        self.domain_name = domain_name
        self.region = region
        self._auth_url = auth_url
        self.access_key = access_key
        self.secret_key = secret_key
        self.timeout = timeout
        self.admin_token = admin_token
        self.has_control_plane = self._probe()

    @classmethod
    def connect(cls: type[_Remote], url: str, **options: Any) -> _Remote:
        return cls(url, **options)

    @property
    def auth_url(self) -> str:
        return self._auth_url or f"{self.url}/v3"

    def stop(self) -> None:
        """Nothing to stop: the server runs elsewhere."""

    def __enter__(self: _Handle) -> _Handle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _probe(self) -> bool:
        try:
            status, body = self._http("GET", "/_fakeecs/health")
        except OSError:
            return False
        if status == 200 and isinstance(body, dict) and body.get("status") == "ok":
            return True
        error = body.get("error") if isinstance(body, dict) else None
        if status in (401, 403) and isinstance(error, dict) and "status" in error:
            raise FakeEcsError(
                f"{self.url}: the fakeecs control plane needs an admin token "
                f"({error.get('message')}); pass admin_token=",
                status,
                body,
            )
        return False

    def _http(
        self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None
    ) -> tuple[int, Any]:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.admin_token:
            headers["X-FakeECS-Admin-Token"] = self.admin_token
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw = error.read()
            status = error.code
        text = raw.decode("utf-8", "replace")
        try:
            decoded = json.loads(text) if text.strip() else None
        except ValueError:
            decoded = text
        return status, decoded

    def _control(
        self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None
    ) -> Any:
        if not self.has_control_plane:
            raise FakeEcsError(f"{self.url} has no fakeecs control plane (/_fakeecs/)")
        status, decoded = self._http(method, "/_fakeecs" + path, body, query)
        if status >= 400:
            message = decoded
            if isinstance(decoded, dict):
                message = (decoded.get("error") or {}).get("message", decoded)
            raise FakeEcsError(f"{method} /_fakeecs{path}: {status} {message}", status, decoded)
        return decoded

    def _perform(self, operation: Operation, call: Call) -> Any:
        if operation.name in ("reset", "load_scenario") and call.body:
            call.body = {key: _scenario_ref(value) for key, value in call.body.items()}
            if "path" in call.body and isinstance(call.body["path"], dict):
                call.body = {"scenario": call.body["path"]}  # a local file travels as its content
        return self._control(operation.method, operation.url(call.params), call.body, call.query)

    def __repr__(self) -> str:
        return f"<RemoteFakeCloud {self.url} control_plane={self.has_control_plane}>"


def _scenario_ref(item: Any) -> Any:
    """A scenario for the wire: names stay names; local files and dicts travel as dicts."""
    import os

    if isinstance(item, list):
        return [_scenario_ref(i) for i in item]
    if isinstance(item, dict):
        return dict(item)
    if isinstance(item, str) and os.path.isfile(item):
        from .model import scenario as scenarios

        return dict(scenarios.read(item))
    return item


def connect(url: str, **options: Any) -> RemoteFakeCloud:
    """A handle on a fakeecs (or any Keystone-fronted cloud) already running at ``url``."""
    return RemoteFakeCloud(url, **options)


__all__ = ["FakeCloud", "FakeEcsError", "RemoteFakeCloud", "connect"]
