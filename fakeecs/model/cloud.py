"""The cloud: every store, the lock, the clock, the ids and the timed processes.

:class:`Cloud` is assembled from one mixin per room (identity, compute, images,
...).  Each public operation runs under one re-entrant lock, after every
transition that has fallen due on the virtual clock has run, in time order.
"""
import functools
import heapq
import secrets
import threading

from . import transitions
from .clock import VirtualClock, isoformat
from .entities import (AvailabilityZone, Domain, Flavor, Image, Job, Project, Server, Snapshot,
                       User, Volume)
from .errors import Invalid, NotFound, Unauthorized
from .ids import IdGenerator
from .policy import Context
from .store import Collection, TrackedDict

#: ``expires_at`` of a token when the scenario sets no ``token_ttl``
TOKEN_EXPIRES_AT = "2099-12-31T23:59:59.000000Z"


def operation(method):
    """Run a model method atomically, on a settled state."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.lock:
            self.settle()
            return method(self, *args, **kwargs)

    return wrapper


class CloudBase:
    """Stores, clock, ids, scheduler and identity."""

    def __init__(self, *, seed=None, clock=None, region="cn-north-4"):
        self.lock = threading.RLock()
        self.clock = clock or VirtualClock()
        self.ids = IdGenerator(seed)
        self.region = region
        #: seconds a token lives on the virtual clock (None: until TOKEN_EXPIRES_AT)
        self.token_ttl = None
        self._init_stores()

    def _init_stores(self):
        """Create every store; mixins extend this and :meth:`register_store` theirs.

        The registry (name -> entity class) is what a state export walks, so
        every piece of state a room adds must live in a registered store.
        """
        self.stores = {}
        self.domains = {}
        self.projects = {}
        self.users = {}
        self.tokens = {}
        self.availability_zones = {}
        self.flavors = {}
        self.servers = Collection()
        self.images = Collection()
        self.volumes = Collection()
        self.snapshots = Collection()
        self.jobs = {}
        self._heap = []
        self._seq = 0
        self.transitions = dict(transitions.PROCESS_DEFAULTS)
        for name, cls in (("domains", Domain), ("projects", Project), ("users", User),
                          ("availability_zones", AvailabilityZone), ("flavors", Flavor),
                          ("servers", Server), ("images", Image), ("volumes", Volume),
                          ("snapshots", Snapshot), ("jobs", Job)):
            self.register_store(name, cls)

    def register_store(self, name, cls):
        """Declare ``self.<name>`` (a dict or :class:`Collection` of ``cls``) as state."""
        self.stores[name] = cls
        store = getattr(self, name)
        if isinstance(store, Collection):
            store.bind(cls)
        elif type(store) is dict:
            setattr(self, name, TrackedDict(store))

    # -- time and sequence -------------------------------------------------

    def now(self):
        return self.clock.now()

    def next_seq(self):
        self._seq += 1
        return self._seq

    # -- timed processes ---------------------------------------------------

    def start_job(self, process, kind, target_id, steps, data=None):
        """Schedule ``steps`` of ``process`` on a resource, spread over its duration."""
        duration = self.transitions[process]
        job = Job(id=self.ids.uuid(), process=process, kind=kind, target_id=target_id,
                  steps=list(steps), due=None, interval=0.0, data=dict(data or {}))
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

    def settle(self):
        """Run every step that is due, oldest first."""
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now:
            due, job_id = heapq.heappop(self._heap)
            job = self.jobs.get(job_id)
            if job is None or job.due != due:
                continue
            self.run_step(job, due)

    def run_step(self, job, at):
        """Apply the next step of ``job`` as of virtual time ``at``."""
        step = job.steps.pop(0)
        if not job.steps:
            self.jobs.pop(job.id, None)
        elif job.due is not None:
            job.due = at + job.interval
            heapq.heappush(self._heap, (job.due, job.id))
        getattr(self, "_step_" + job.process)(job, step, at)

    def cancel_jobs(self, kind, target_id, process=None):
        for job in [j for j in self.jobs.values() if j.kind == kind and j.target_id == target_id]:
            if process is None or job.process == process:
                self.jobs.pop(job.id, None)

    def jobs_for(self, kind, target_id):
        return [j for j in self.jobs.values() if j.kind == kind and j.target_id == target_id]

    # -- identity ----------------------------------------------------------

    def add_domain(self, name, domain_id=None):
        domain = Domain(id=domain_id or self.ids.hex32(), name=name)
        self.domains[domain.id] = domain
        return domain

    def find_domain(self, *, domain_id=None, name=None):
        for domain in self.domains.values():
            if (domain_id and domain.id == domain_id) or (name and domain.name == name):
                return domain
        return None

    def add_project(self, name, domain_id, project_id=None):
        project = Project(id=project_id or self.ids.hex32(), name=name, domain_id=domain_id)
        self.projects[project.id] = project
        return project

    def find_project(self, *, project_id=None, name=None, domain_id=None):
        if project_id:
            return self.projects.get(project_id)
        for project in self.projects.values():
            if project.name == name and (domain_id is None or project.domain_id == domain_id):
                return project
        return None

    def add_user(self, name, password, domain_id, roles=None, user_id=None):
        user = User(id=user_id or self.ids.hex32(), name=name, password=password,
                    domain_id=domain_id, roles={k: list(v) for k, v in (roles or {}).items()})
        self.users[user.id] = user
        return user

    def add_availability_zone(self, name, available=True):
        zone = AvailabilityZone(name=name, region=self.region, available=available)
        self.availability_zones[name] = zone
        return zone

    def add_flavor(self, **spec):
        spec.setdefault("id", spec.get("name"))
        flavor = Flavor.from_dict(spec)
        self.flavors[flavor.id] = flavor
        return flavor

    def _find_user(self, ident):
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
    def issue_token(self, *, user=None, password=None, token=None, scope=None):
        """Authenticate with a password or an existing token; return ``(token_id, record)``.

        ``user`` is ``{"id"}`` or ``{"name", "domain_id"|"domain_name"}``; ``scope``
        is ``{"id"}`` or ``{"name", "domain_id"|"domain_name"}`` of a project.
        """
        expires = None
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
            project = self.find_project(project_id=scope.get("id"), name=scope.get("name"),
                                        domain_id=domain_id)
        else:
            project = self.projects.get(next(iter(account.roles), ""))
        if project is None or not account.roles.get(project.id):
            raise Unauthorized("The request you have made requires authentication.")
        token_id = "fkt" + secrets.token_hex(24)
        now = self.now()
        if token is None and self.token_ttl is not None:
            expires = now + self.token_ttl
        record = {"user_id": account.id, "project_id": project.id, "methods": methods,
                  "roles": list(account.roles[project.id]), "issued_at": now,
                  "expires": expires,
                  "expires_at": TOKEN_EXPIRES_AT if expires is None
                  else isoformat(expires, micro=True) + "Z"}
        self.tokens[token_id] = record
        return token_id, record

    def live_token(self, token_id):
        """The record of ``token_id`` while it has not expired on the virtual clock, else None."""
        record = self.tokens.get(token_id)
        if record is None:
            return None
        expires = record.get("expires")
        if expires is not None and self.clock.now() >= expires:
            return None
        return record

    @operation
    def context_for_token(self, token_id):
        record = self.live_token(token_id)
        if record is None:
            raise Unauthorized("The request you have made requires authentication.")
        return self._context(record["user_id"], record["project_id"])

    def _context(self, user_id, project_id):
        user = self.users[user_id]
        project = self.projects[project_id]
        return Context(user_id=user.id, project_id=project.id,
                       roles=tuple(user.roles.get(project.id, ())),
                       user_name=user.name, project_name=project.name)

    @operation
    def context_for_user(self, user_name, project_name=None):
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
    def list_availability_zones(self):
        return list(self.availability_zones.values())

    @operation
    def list_flavors(self):
        return sorted(self.flavors.values(), key=lambda f: (f.ram, f.vcpus, f.id))

    @operation
    def get_flavor(self, flavor_id):
        flavor = self.flavors.get(flavor_id)
        if flavor is None:
            raise NotFound("flavor", flavor_id, f"Flavor {flavor_id} could not be found.")
        return flavor

    def require_zone(self, name):
        zone = self.availability_zones.get(name)
        if zone is None or not zone.available:
            raise Invalid("The requested availability zone is not available",
                          rule="availability_zone", zone=name)
        return zone
