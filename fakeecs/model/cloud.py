"""The cloud: every store, the lock, the clock, the ids and the timed processes.

:class:`Cloud` is assembled from one mixin per room (identity, compute, images,
...).  Each public operation runs under one re-entrant lock, after every
transition that has fallen due on the virtual clock has run, in time order.
"""

import functools
import heapq
import secrets
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from . import transitions
from .clock import VirtualClock, isoformat
from .entities import (
    AvailabilityZone,
    Domain,
    Flavor,
    Image,
    Job,
    Project,
    Server,
    Snapshot,
    User,
    Volume,
)
from .errors import Invalid, NotFound, Unauthorized
from .ids import IdGenerator
from .policy import Context
from .store import Collection, TrackedDict

#: ``expires_at`` of a token when the scenario sets no ``token_ttl``
TOKEN_EXPIRES_AT = "2099-12-31T23:59:59.000000Z"


_Op = TypeVar("_Op", bound=Callable[..., Any])


def operation(method: _Op) -> _Op:
    """Run a model method atomically, on a settled state."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.settle()
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]  # same signature, by functools.wraps


class CloudBase:
    """Stores, clock, ids, scheduler and identity."""

    # Explicit hooks between rooms (no room overrides another's method): ``Cloud`` names the
    # methods.  ``SERVER_WATCHERS`` are called ``(server_id, at)`` after every step of a
    # ``WATCHED_SERVER_PROCESSES`` process and after a forced error; ``ADDRESS_PLANNERS`` are
    # asked ``(server, networks)`` in turn for a new server's addresses (None: not mine).
    SERVER_WATCHERS: tuple[str, ...] = ()
    WATCHED_SERVER_PROCESSES: frozenset[str] = frozenset(
        {"server_build", "server_action", "server_delete"}
    )
    ADDRESS_PLANNERS: tuple[str, ...] = ()

    def __init__(
        self, *, seed: Any = None, clock: VirtualClock | None = None, region: str = "cn-north-4"
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock or VirtualClock()
        self.ids = IdGenerator(seed)
        self.region = region
        #: seconds a token lives on the virtual clock (None: until TOKEN_EXPIRES_AT)
        self.token_ttl: float | None = None
        self._init_stores()

    def _init_stores(self) -> None:
        """Create every store; mixins extend this and :meth:`register_store` theirs.

        The registry (name -> entity class) is what a state export walks, so
        every piece of state a room adds must live in a registered store.
        """
        self.stores: dict[str, type] = {}
        self.domains: dict[str, Domain] = {}
        self.projects: dict[str, Project] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.availability_zones: dict[str, AvailabilityZone] = {}
        self.flavors: dict[str, Flavor] = {}
        self.servers = Collection()
        self.images = Collection()
        self.volumes = Collection()
        self.snapshots = Collection()
        self.jobs: dict[str, Job] = {}
        self._heap: list[tuple[float, str]] = []
        self._seq = 0
        self.transitions: dict[str, Any] = dict(transitions.PROCESS_DEFAULTS)
        for name, cls in (
            ("domains", Domain),
            ("projects", Project),
            ("users", User),
            ("availability_zones", AvailabilityZone),
            ("flavors", Flavor),
            ("servers", Server),
            ("images", Image),
            ("volumes", Volume),
            ("snapshots", Snapshot),
            ("jobs", Job),
        ):
            self.register_store(name, cls)

    def register_store(self, name: str, cls: type) -> None:
        """Declare ``self.<name>`` (a dict or :class:`Collection` of ``cls``) as state."""
        self.stores[name] = cls
        store = getattr(self, name)
        if isinstance(store, Collection):
            store.bind(cls)
        elif type(store) is dict:
            setattr(self, name, TrackedDict(store))

    # -- time and sequence -------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- timed processes ---------------------------------------------------

    def start_job(
        self,
        process: str,
        kind: str,
        target_id: str,
        steps: Any,
        data: dict[str, Any] | None = None,
    ) -> Job:
        """Schedule ``steps`` of ``process`` on a resource, spread over its duration."""
        duration = self.transitions[process]
        job = Job(
            id=self.ids.uuid(),
            process=process,
            kind=kind,
            target_id=target_id,
            steps=list(steps),
            due=None,
            interval=0.0,
            data=dict(data or {}),
        )
        self.jobs[job.id] = job
        if duration == "manual":
            return job
        job.interval = float(duration) / len(steps)
        job.due = self.now() + job.interval
        if job.interval <= 0:
            while job.id in self.jobs:
                self.run_step(job, self.now())
            return job
        heapq.heappush(self._heap, (job.due, job.id))
        return job

    def settle(self) -> None:
        """Run every step that is due, oldest first."""
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now:
            due, job_id = heapq.heappop(self._heap)
            job = self.jobs.get(job_id)
            if job is None or job.due != due:
                continue
            self.run_step(job, due)

    def run_step(self, job: Job, at: float) -> None:
        """Apply the next step of ``job`` as of virtual time ``at``."""
        step = job.steps.pop(0)
        if not job.steps:
            self.jobs.pop(job.id, None)
        elif job.due is not None:
            job.due = at + job.interval
            heapq.heappush(self._heap, (job.due, job.id))
        getattr(self, "_step_" + job.process)(job, step, at)
        if job.process in self.WATCHED_SERVER_PROCESSES:
            self.server_changed(job.target_id, at)

    def server_changed(self, server_id: str, at: float) -> None:
        """Tell every room that follows servers (:attr:`SERVER_WATCHERS`) to look again."""
        for name in self.SERVER_WATCHERS:
            getattr(self, name)(server_id, at)

    def cancel_jobs(self, kind: str, target_id: str, process: str | None = None) -> None:
        for job in [j for j in self.jobs.values() if j.kind == kind and j.target_id == target_id]:
            if process is None or job.process == process:
                self.jobs.pop(job.id, None)

    def jobs_for(self, kind: str, target_id: str) -> list[Job]:
        return [j for j in self.jobs.values() if j.kind == kind and j.target_id == target_id]

    # -- identity ----------------------------------------------------------

    def add_domain(self, name: str, domain_id: str | None = None) -> Domain:
        domain = Domain(id=domain_id or self.ids.hex32(), name=name)
        self.domains[domain.id] = domain
        return domain

    def find_domain(
        self, *, domain_id: str | None = None, name: str | None = None
    ) -> Domain | None:
        for domain in self.domains.values():
            if (domain_id and domain.id == domain_id) or (name and domain.name == name):
                return domain
        return None

    def add_project(self, name: str, domain_id: str, project_id: str | None = None) -> Project:
        project = Project(id=project_id or self.ids.hex32(), name=name, domain_id=domain_id)
        self.projects[project.id] = project
        return project

    def find_project(
        self,
        *,
        project_id: str | None = None,
        name: str | None = None,
        domain_id: str | None = None,
    ) -> Project | None:
        if project_id:
            return self.projects.get(project_id)
        for project in self.projects.values():
            if project.name == name and (domain_id is None or project.domain_id == domain_id):
                return project
        return None

    def add_user(
        self,
        name: str,
        password: str,
        domain_id: str,
        roles: dict[str, Any] | None = None,
        user_id: str | None = None,
    ) -> User:
        user = User(
            id=user_id or self.ids.hex32(),
            name=name,
            password=password,
            domain_id=domain_id,
            roles={k: list(v) for k, v in (roles or {}).items()},
        )
        self.users[user.id] = user
        return user

    def add_availability_zone(self, name: str, available: bool = True) -> AvailabilityZone:
        zone = AvailabilityZone(name=name, region=self.region, available=available)
        self.availability_zones[name] = zone
        return zone

    def add_flavor(self, **spec: Any) -> Flavor:
        spec.setdefault("id", spec.get("name"))
        flavor: Flavor = Flavor.from_dict(spec)
        self.flavors[flavor.id] = flavor
        return flavor

    def _find_user(self, ident: dict[str, Any]) -> User | None:
        user_id = ident.get("id")
        if user_id:
            return self.users.get(user_id)
        domain = self.find_domain(domain_id=ident.get("domain_id"), name=ident.get("domain_name"))
        if domain is None:
            return None
        for user in self.users.values():
            if user.name == ident.get("name") and user.domain_id == domain.id:
                return user
        return None

    @operation
    def issue_token(
        self,
        *,
        user: dict[str, Any] | None = None,
        password: str | None = None,
        token: str | None = None,
        scope: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Authenticate with a password or an existing token; return ``(token_id, record)``.

        ``user`` is ``{"id"}`` or ``{"name", "domain_id"|"domain_name"}``; ``scope``
        is ``{"id"}`` or ``{"name", "domain_id"|"domain_name"}`` of a project.
        """
        expires = None
        account: User | None
        if token is not None:
            record = self.live_token(token)
            if record is None:
                raise Unauthorized("The request you have made requires authentication.")
            account = self.users[record["user_id"]]
            methods = ["token"]
            expires = record.get("expires")  # a rescoped token keeps its parent's expiry
        else:
            account = self._find_user(user or {})
            if account is None or account.password != password:
                raise Unauthorized("The request you have made requires authentication.")
            methods = ["password"]
        if scope:
            domain_id = scope.get("domain_id")
            if scope.get("domain_name"):
                domain = self.find_domain(name=scope["domain_name"])
                domain_id = domain.id if domain else "-"
            project = self.find_project(
                project_id=scope.get("id"), name=scope.get("name"), domain_id=domain_id
            )
        else:
            project = self.projects.get(next(iter(account.roles), ""))
        if project is None or not account.roles.get(project.id):
            raise Unauthorized("The request you have made requires authentication.")
        token_id = "fkt" + secrets.token_hex(24)
        now = self.now()
        if token is None and self.token_ttl is not None:
            expires = now + self.token_ttl
        record = {
            "user_id": account.id,
            "project_id": project.id,
            "methods": methods,
            "roles": list(account.roles[project.id]),
            "issued_at": now,
            "expires": expires,
            "expires_at": TOKEN_EXPIRES_AT
            if expires is None
            else isoformat(expires, micro=True) + "Z",
        }
        self.tokens[token_id] = record
        return token_id, record

    def live_token(self, token_id: str) -> dict[str, Any] | None:
        """The record of ``token_id`` while it has not expired on the virtual clock, else None."""
        record = self.tokens.get(token_id)
        if record is None:
            return None
        expires = record.get("expires")
        if expires is not None and self.clock.now() >= expires:
            return None
        return record

    @operation
    def context_for_token(self, token_id: str) -> Context:
        record = self.live_token(token_id)
        if record is None:
            raise Unauthorized("The request you have made requires authentication.")
        return self._context(record["user_id"], record["project_id"])

    def _context(self, user_id: str, project_id: str) -> Context:
        user = self.users[user_id]
        project = self.projects[project_id]
        return Context(
            user_id=user.id,
            project_id=project.id,
            roles=tuple(user.roles.get(project.id, ())),
            user_name=user.name,
            project_name=project.name,
        )

    @operation
    def context_for_user(self, user_name: str, project_name: str | None = None) -> Context:
        """A context without a token (for the in-process handle and tests)."""
        for user in self.users.values():
            if user.name == user_name:
                project_id = next(iter(user.roles))
                if project_name:
                    project = self.find_project(name=project_name)
                    if project is None:
                        raise NotFound("project", project_name)
                    project_id = project.id
                return self._context(user.id, project_id)
        raise NotFound("user", user_name)

    # -- zones and flavors ---------------------------------------------------

    @operation
    def list_availability_zones(self) -> list[AvailabilityZone]:
        return list(self.availability_zones.values())

    @operation
    def list_flavors(self) -> list[Flavor]:
        return sorted(self.flavors.values(), key=lambda f: (f.ram, f.vcpus, f.id))

    @operation
    def get_flavor(self, flavor_id: str) -> Flavor:
        flavor = self.flavors.get(flavor_id)
        if flavor is None:
            raise NotFound("flavor", flavor_id, f"Flavor {flavor_id} could not be found.")
        return flavor

    def require_zone(self, name: str) -> AvailabilityZone:
        zone = self.availability_zones.get(name)
        if zone is None or not zone.available:
            raise Invalid(
                "The requested availability zone is not available",
                rule="availability_zone",
                zone=name,
            )
        return zone


if TYPE_CHECKING:

    class Room(CloudBase):
        """What a room (a mixin of :class:`~fakeecs.model.Cloud`) is checked against.

        :class:`CloudBase`'s stores and helpers are typed; a method another room
        provides is only known on the assembled ``Cloud``, so here it is ``Any``.
        """

        def __getattr__(self, name: str) -> Any: ...
else:
    Room = object
