"""A Hypothesis state machine that drives a cloud over HTTP against a reference model.

::

    from fakeecs.testing.stateful import FakeEcsMachine

    TestFakeEcs = FakeEcsMachine.TestCase          # in-process fakeecs, frozen clock

    # the same machine against another endpoint (a fakeecs elsewhere, or a real cloud):
    TestReal = FakeEcsMachine.against("https://iam.example.com", username=..., password=...,
                                      project_name=..., image_ids=[...], flavor_id=...).TestCase

The machine creates servers in availability zones, stops, starts, pauses and
suspends them, images them (with generated createImage bodies, valid and
not), boots servers from those images, deletes servers and images, moves time
and injects faults.  Its own reference model says what the cloud must answer;
after every step it lists everything and checks:

* no lost and no phantom servers or images;
* every observed state is legal for the process the resource is in, and every
  change of state follows Nova's transition table;
* the documented constraints: createImage only from ACTIVE/SHUTOFF/PAUSED/SUSPENDED
  servers with no task (409 otherwise), the name and metadata rules (400), the
  metadata quota below 2.39 (403), a server booted from a createImage image stays
  in the source server's availability zone (400 otherwise), deleting a server
  keeps its finished images;
* every error has the format of the API family that answered it.

Subclass it to add rules for your own code; ``self.client`` is an authenticated
:class:`~fakeecs.testing.client.Client`, ``self.fake`` the handle (``None`` on a
cloud without a fakeecs control plane), ``self.servers`` / ``self.images`` the
reference model, and ``self.expect(response, status)`` checks a response.
"""

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from . import strategies as fst

# -- the reference rules (Nova Queens / Glance), stated independently of fakeecs.model --------

#: vm_state -> vm_states an API operation or a timed process may lead to
VM_TRANSITIONS = {
    "building": {"active", "error", "deleted"},
    "active": {"stopped", "paused", "suspended", "error", "deleted"},
    "stopped": {"active", "error", "deleted"},
    "paused": {"active", "error", "deleted"},
    "suspended": {"active", "error", "deleted"},
    "error": {"active", "stopped", "deleted"},
}
#: Nova's API status of a settled vm_state
STATUS = {
    "building": "BUILD",
    "active": "ACTIVE",
    "stopped": "SHUTOFF",
    "paused": "PAUSED",
    "suspended": "SUSPENDED",
    "error": "ERROR",
    "deleted": "DELETED",
}
#: server action -> (vm_states it is allowed from, task_state while it runs, resulting vm_state)
ACTIONS = {
    "os-stop": ({"active", "error"}, "powering-off", "stopped"),
    "os-start": ({"stopped"}, "powering-on", "active"),
    "pause": ({"active"}, "pausing", "paused"),
    "unpause": ({"paused"}, "unpausing", "active"),
    "suspend": ({"active"}, "suspending", "suspended"),
    "resume": ({"suspended"}, "resuming", "active"),
}
#: vm_states a server may be imaged from (nova.compute.api.API.snapshot)
SNAPSHOT_VM_STATES = {"active", "stopped", "paused", "suspended"}
SNAPSHOT_TASKS = {
    "image_snapshot_pending",
    "image_snapshot",
    "image_pending_upload",
    "image_uploading",
}
BUILD_TASKS = {"scheduling", "block_device_mapping", "networking", "spawning", None}
#: Glance image status -> statuses that may follow it
IMAGE_TRANSITIONS = {
    "queued": {"saving", "active", "killed", "deleted"},
    "saving": {"active", "killed", "deleted"},
    "active": {"deactivated", "deleted"},
    "deactivated": {"active", "deleted"},
    "killed": {"deleted"},
}
#: Glance's own image attributes (a metadata key with one of these names is not shown as is)
GLANCE_CORE = {
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "created_at",
    "updated_at",
    "tags",
    "min_ram",
    "min_disk",
    "self",
    "file",
    "schema",
    "direct_url",
    "locations",
    "location",
    "deleted",
    "deleted_at",
    "stores",
}
#: Nova fault names by status
NOVA_FAULTS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

#: durations the machine sets on a fakeecs (None: keep the cloud's)
DEFAULT_TRANSITIONS = {
    "server_build": 1.0,
    "server_action": 0.5,
    "server_delete": 0.5,
    "image_snapshot": 2.0,
}


class CloudMismatch(AssertionError):
    """The cloud answered something its reference model says it must not."""


@dataclass
class RefServer:
    id: str
    name: str
    zone: str | None
    image_id: str
    vm_state: str = "building"
    task: str | None = "scheduling"
    #: "build", "action", "snapshot", "delete" or None (settled)
    pending: str | None = "build"
    #: vm_state the pending process ends in
    target: str | None = "active"
    launched: bool = False


@dataclass
class RefImage:
    id: str
    name: str
    server_id: str
    zone: str
    metadata: dict = field(default_factory=dict)
    status: str = "queued"
    #: still being made
    pending: bool = True
    #: its source server was deleted while it was made: the cloud may delete it
    may_vanish: bool = False


# -- where the machine runs -------------------------------------------------------------------

_SHARED: dict[str, Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_fake(seed=1234):
    """One in-process fakeecs (frozen clock) per process, shared by every example."""
    with _SHARED_LOCK:
        fake = _SHARED.get("fake")
        if fake is None or not fake.running:
            from ..handle import FakeCloud

            fake = FakeCloud.start(port=0, clock="frozen", seed=seed)  # stopped at exit
            _SHARED["fake"] = fake
        return fake


class FakeEcsMachine(RuleBasedStateMachine):
    """Drive a cloud through HTTP and check it against a reference model (see module doc)."""

    #: a handle (FakeCloud / RemoteFakeCloud) or a callable returning one; None: shared_fake()
    target = None
    #: base images to boot from; None: the handle's default base image
    image_ids = None
    #: flavor to boot with; None: the handle's default flavor
    flavor_id = None
    #: process durations set on a fakeecs before each example (None: keep the cloud's)
    transitions = DEFAULT_TRANSITIONS
    #: at most this many servers / images alive at once
    max_servers = 5
    max_images = 8
    #: virtual seconds one "settle" step advances (or real seconds it polls, on a real cloud)
    settle_seconds = 600.0
    #: compute microversion of everything but createImage (which draws its own)
    microversion = "2.60"
    #: on a cloud without a virtual clock: real seconds per "advance time" second, and the
    #: pause between polls while settling
    real_time_scale = 1.0
    poll_interval = 2.0
    #: may a server be deleted while a snapshot of it is being made?
    delete_during_snapshot = True

    def __init__(self):
        super().__init__()
        handle = (
            self.target()
            if callable(self.target) and not hasattr(self.target, "url")
            else self.target
        )
        self.fake = handle if handle is not None else shared_fake()
        self.controlled = bool(getattr(self.fake, "has_control_plane", False))
        if self.controlled:
            self.fake.reset()
            if self.transitions:
                self.fake.set_transitions(dict(self.transitions))
            self.frozen = self.fake.clock.mode == "frozen"
        else:
            self.frozen = False
        self.client = self.fake.client(microversion=self.microversion)
        self.client.login()
        self.project_id = self.client.project_id
        self.servers = {}
        self.images = {}
        self._names = itertools.count(1)
        self.zones = self._zones()
        self.boot_images = list(self.image_ids or [self.fake.base_image_id])
        self.flavor = self.flavor_id or self.fake.flavor_id
        self.baseline_servers = {s["id"] for s in self.client.list_servers()}
        self.baseline_images = {i["id"] for i in self._own_images()}
        self.created_servers, self.created_images = set(), set()

    # -- helpers for rules (and for subclasses) ------------------------------------------------

    def _zones(self):
        response = self.client.compute("GET", "/os-availability-zone")
        self.expect(response, 200)
        return sorted(
            z["zoneName"]
            for z in response.json()["availabilityZoneInfo"]
            if z["zoneState"]["available"]
        )

    def unique_name(self, prefix="fkm"):
        return f"{prefix}-{next(self._names)}"

    def fail(self, message, response=None):
        if response is not None:
            message += (
                f"\n  -> {response.request.method} {response.request.url} answered "
                f"{response.status_code}: {response.text[:500]}"
            )
        raise CloudMismatch(message)

    def expect(self, response, status, fragment=None):
        """Check ``response`` has ``status`` (an int or a set) and, if an error, the right format."""
        allowed = {status} if isinstance(status, int) else set(status)
        if response.status_code not in allowed:
            self.fail(f"expected HTTP {sorted(allowed)}", response)
        if response.status_code >= 400:
            self.check_error_format(response)
            if fragment and fragment not in response.text:
                self.fail(f"the error message should contain {fragment!r}", response)
        return response

    def check_error_format(self, response):
        """Errors in the dialect of the API family that answered (Nova or Glance)."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            self.fail("an error body that is not JSON", response)
        path = response.request.path_url
        if path.startswith("/image") or "/v2/images" in path:
            if not (
                isinstance(body, dict)
                and str(body.get("code", "")).startswith(str(status))
                and isinstance(body.get("message"), str)
            ):
                self.fail(
                    "a Glance error must be {message, code: '<status> <phrase>', title}", response
                )
            return
        name = NOVA_FAULTS.get(status, "computeFault")
        if not (
            isinstance(body, dict)
            and list(body) == [name]
            and body[name].get("code") == status
            and isinstance(body[name].get("message"), str)
        ):
            self.fail(f"a Nova error must be {{{name!r}: {{code: {status}, message}}}}", response)

    def live_servers(self):
        return [s for s in self.servers.values() if s.pending != "delete"]

    def settled_servers(self):
        return [s for s in self.servers.values() if s.pending is None]

    def active_images(self):
        return [i for i in self.images.values() if i.status == "active"]

    def _own_images(self):
        return [
            i
            for i in self.client.list_images(owner=self.project_id)
            if i.get("owner") == self.project_id and i.get("visibility") != "public"
        ]

    def fetch_server(self, ref):
        """GET one server, check it against the model, and return its body (None if gone)."""
        response = self.client.get_server(ref.id)
        if response.status_code == 404:
            self.expect(response, 404)
            self._server_gone(ref)
            return None
        self.expect(response, 200)
        body = response.json()["server"]
        self._check_server(ref, body)
        return body

    @property
    def racy(self):
        """True where time runs by itself: a state seen just before a request may have moved
        on when the request arrives, so both answers are accepted for resources in flux."""
        return not (self.controlled and self.frozen)

    def _resync(self, ref):
        """After a raced request: take the server's current state as the model's."""
        response = self.client.get_server(ref.id)
        self.expect(response, 200)
        body = response.json()["server"]
        ref.vm_state, ref.task = body["OS-EXT-STS:vm_state"], body["OS-EXT-STS:task_state"]
        ref.pending, ref.target = None, None

    def wait(self, seconds):
        """Let ``seconds`` of (virtual, or on a real cloud, real) time pass."""
        if self.controlled and self.frozen:
            self.fake.clock.advance(seconds)
        else:
            time.sleep(seconds * self.real_time_scale)

    # -- rules -------------------------------------------------------------------------------

    @precondition(lambda self: len(self.live_servers()) < self.max_servers)
    @rule(data=st.data(), wait=st.booleans())
    def create_server(self, data, wait):
        zone = data.draw(st.one_of(st.none(), st.sampled_from(self.zones)), label="zone")
        image_id = data.draw(st.sampled_from(self.boot_images), label="image")
        name = self.unique_name()
        response = self.client.create_server(name, image_id, self.flavor, zone=zone)
        self.expect(response, 202)
        server_id = response.json()["server"]["id"]
        self._add_server(server_id, name, zone, image_id)
        if wait:
            self.settle()

    @precondition(lambda self: self.active_images() and len(self.live_servers()) < self.max_servers)
    @rule(data=st.data(), wait=st.booleans())
    def boot_from_image(self, data, wait):
        """Constraint: a server made from a createImage image must be in its source's AZ."""
        image = data.draw(
            st.sampled_from(sorted(self.active_images(), key=lambda i: i.id)), label="image"
        )
        zone = data.draw(st.one_of(st.none(), st.sampled_from(self.zones)), label="zone")
        name = self.unique_name()
        response = self.client.create_server(name, image.id, self.flavor, zone=zone)
        if zone is not None and zone != image.zone:
            self.expect(response, 400, "availability zone")
            return
        self.expect(response, 202)
        self._add_server(response.json()["server"]["id"], name, image.zone, image.id)
        if wait:
            self.settle()

    def pick_server(self, data, ready=None):
        """A live server; mostly (when there are any) one for which ``ready(server)`` holds."""
        live = sorted(self.live_servers(), key=lambda s: s.id)
        good = [s for s in live if ready(s)] if ready else []
        choices = st.sampled_from(live)
        if good:
            choices = st.one_of(st.sampled_from(good), st.sampled_from(good), choices)
        return data.draw(choices, label="server")

    @precondition(lambda self: self.live_servers())
    @rule(data=st.data(), wait=st.booleans())
    def server_action(self, data, wait):
        ref = self.pick_server(data, lambda s: s.pending is None)
        legal = sorted(a for a, (allowed, _, _) in ACTIONS.items() if ref.vm_state in allowed)
        actions = st.sampled_from(sorted(ACTIONS))
        if legal and ref.pending is None:
            actions = st.one_of(st.sampled_from(legal), actions)
        action = data.draw(actions, label="action")
        body = self.fetch_server(ref)
        if body is None or ref.pending == "delete":
            return
        allowed, task, target = ACTIONS[action]
        in_flux = self.racy and ref.pending is not None
        response = self.client.server_action(ref.id, {action: None})
        ok = body["OS-EXT-STS:vm_state"] in allowed and body["OS-EXT-STS:task_state"] is None
        if in_flux:
            self.expect(response, {202, 409})
            ok = response.status_code == 202
            if ok:
                self._resync(ref)
        if ok:
            self.expect(response, 202)
            ref.pending, ref.target, ref.task = "action", target, task
            if wait:
                self.settle()
        else:
            self.expect(response, 409, "Cannot")

    @precondition(lambda self: self.live_servers() and len(self.images) < self.max_images)
    @rule(data=st.data(), case=fst.create_image_cases(), wait=st.booleans())
    def create_image(self, data, case, wait):
        ref = self.pick_server(
            data, lambda s: s.pending is None and s.vm_state in SNAPSHOT_VM_STATES
        )
        body = self.fetch_server(ref)
        if body is None or ref.pending == "delete":
            return
        response = self.client.server_action(ref.id, case.body, microversion=fst._fmt(case.version))
        if case.status != 202:
            self.expect(response, case.status, case.fragment)
            return
        if self.racy and ref.pending is not None:
            self.expect(response, {202, 409})
            if response.status_code == 409:
                return
            self._resync(ref)
        elif not self._can_snapshot(body):
            self.expect(response, 409, "Cannot 'createImage'")
            return
        self.expect(response, 202)
        image_id = self._image_id_of(response, case.version)
        self._add_image(image_id, case.name, ref, case.metadata or {})
        if wait:
            self.settle()

    def deletable_servers(self):
        return [
            s for s in self.live_servers() if self.delete_during_snapshot or s.pending != "snapshot"
        ]

    @precondition(lambda self: self.deletable_servers())
    @rule(data=st.data())
    def delete_server(self, data):
        ref = data.draw(
            st.sampled_from(sorted(self.deletable_servers(), key=lambda s: s.id)), label="server"
        )
        response = self.client.delete_server(ref.id)
        self.expect(response, 204)
        ref.pending, ref.target = "delete", "deleted"
        for image in self.images.values():
            if image.server_id == ref.id and image.pending:
                image.may_vanish = True

    @precondition(lambda self: self.images)
    @rule(data=st.data())
    def delete_image(self, data):
        image = data.draw(
            st.sampled_from(sorted(self.images.values(), key=lambda i: i.id)), label="image"
        )
        response = self.client.delete_image(image.id)
        if image.may_vanish:
            self.expect(response, {204, 404})
        else:
            self.expect(response, 204)
        del self.images[image.id]
        self.expect(self.client.get_image(image.id), 404)

    @rule(seconds=st.sampled_from([0.1, 0.25, 0.5, 1.0, 2.0]))
    def advance_time(self, seconds):
        self.wait(seconds)

    @rule()
    def settle(self):
        """Let every process finish; then nothing may be pending any more."""
        deadline = self.settle_seconds
        if self.controlled and self.frozen:
            self.fake.clock.advance(deadline)
            self.observe()
        else:
            start = time.monotonic()
            while time.monotonic() - start < deadline:
                self.observe()
                if not self._pending():
                    break
                time.sleep(self.poll_interval)
        self.observe()
        stuck = self._pending()
        if stuck:
            self.fail(f"still in progress after settling: {stuck}")

    @precondition(lambda self: self.controlled and self.live_servers())
    @rule(data=st.data(), false_negative=st.booleans(), status=st.sampled_from([500, 503]))
    def create_image_with_fault(self, data, false_negative, status):
        """A createImage that fails with ``status``; with ``false_negative`` the image is made
        anyway (what retry logic must survive)."""
        ref = self.pick_server(
            data, lambda s: s.pending is None and s.vm_state in SNAPSHOT_VM_STATES
        )
        body = self.fetch_server(ref)
        if body is None or not self._can_snapshot(body) or len(self.images) >= self.max_images:
            return
        rule_ = self.fake.add_fault(
            match={"action": "createImage"}, status=status, times=1, side_effect=false_negative
        )
        name = self.unique_name("fkm-fault")
        response = self.client.create_image(ref.id, name)
        self.expect(response, status)
        if response.headers.get("X-FakeECS-Fault") != rule_["id"]:
            self.fail(f"the answer should carry X-FakeECS-Fault: {rule_['id']}", response)
        self.fake.remove_fault(rule_["id"])
        made = [i for i in self._own_images() if i.get("name") == name]
        if not false_negative:
            if made:
                self.fail(f"a failed createImage made image {made[0]['id']}")
            return
        if len(made) != 1:
            self.fail(f"a false-negative createImage must make exactly one image, made {made}")
        self._add_image(made[0]["id"], name, ref, {})

    @precondition(lambda self: self.controlled and self.settled_servers())
    @rule(data=st.data())
    def break_server(self, data):
        """Force a settled server into ERROR (a failure the cloud may have at any time)."""
        ref = data.draw(
            st.sampled_from(sorted(self.settled_servers(), key=lambda s: s.id)), label="server"
        )
        self.fake.force_state("server", ref.id, "error")
        ref.vm_state, ref.task = "error", None

    # -- the model's bookkeeping ------------------------------------------------------------------

    def _add_server(self, server_id, name, zone, image_id):
        if server_id in self.servers or server_id in self.baseline_servers:
            self.fail(f"a new server got the id of an existing one: {server_id}")
        self.servers[server_id] = RefServer(server_id, name, zone, image_id)
        self.created_servers.add(server_id)

    def _add_image(self, image_id, name, server, metadata):
        if image_id in self.images or image_id in self.baseline_images:
            self.fail(f"a new image got the id of an existing one: {image_id}")
        self.images[image_id] = RefImage(image_id, name, server.id, server.zone, dict(metadata))
        self.created_images.add(image_id)
        server.pending, server.target = "snapshot", server.vm_state

    def _image_id_of(self, response, version):
        if version >= fst.IMAGE_ID_BODY_AT:
            try:
                return response.json()["image_id"]
            except (ValueError, KeyError):
                self.fail('from 2.45 createImage answers {"image_id": ...}', response)
        location = response.headers.get("Location")
        if not location:
            self.fail("below 2.45 createImage answers a Location header", response)
        if response.content:
            self.fail("below 2.45 createImage has an empty body", response)
        return location.rstrip("/").rsplit("/", 1)[-1]

    @staticmethod
    def _can_snapshot(body):
        return (
            body["OS-EXT-STS:vm_state"] in SNAPSHOT_VM_STATES
            and body["OS-EXT-STS:task_state"] is None
            and body.get("OS-SRV-USG:launched_at") is not None
        )

    def _pending(self):
        return [f"server {s.id} ({s.pending})" for s in self.servers.values() if s.pending] + [
            f"image {i.id} ({i.status})" for i in self.images.values() if i.pending
        ]

    def _server_gone(self, ref):
        if ref.pending != "delete":
            self.fail(f"server {ref.id} vanished (it was {ref.vm_state}/{ref.pending})")
        del self.servers[ref.id]

    def _check_server(self, ref, body):
        vm_state, task = body["OS-EXT-STS:vm_state"], body["OS-EXT-STS:task_state"]
        where = f"server {ref.id} ({ref.pending or 'settled'} {ref.vm_state}->{ref.target})"
        if vm_state != ref.vm_state and vm_state not in VM_TRANSITIONS.get(ref.vm_state, ()):
            self.fail(f"{where}: illegal transition {ref.vm_state} -> {vm_state}")
        if ref.zone is None:
            ref.zone = body["OS-EXT-AZ:availability_zone"]
        elif body["OS-EXT-AZ:availability_zone"] != ref.zone:
            self.fail(f"{where}: in AZ {body['OS-EXT-AZ:availability_zone']}, not {ref.zone}")
        expected_status = STATUS.get(vm_state)
        if task is None and expected_status and body["status"] != expected_status:
            self.fail(f"{where}: status {body['status']} for vm_state {vm_state}")
        if ref.pending == "build":
            ok = (vm_state == "building" and task in BUILD_TASKS) or (
                vm_state == "active" and task is None
            )
        elif ref.pending == "action":
            ok = (vm_state == ref.vm_state and task == ref.task) or (
                vm_state == ref.target and task is None
            )
        elif ref.pending == "snapshot":
            ok = vm_state == ref.vm_state and (task in SNAPSHOT_TASKS or task is None)
        elif ref.pending == "delete":
            ok = task == "deleting" or vm_state == "deleted"
        else:
            ok = vm_state == ref.vm_state and task is None
        if not ok:
            self.fail(f"{where}: observed vm_state={vm_state} task_state={task}")
        if ref.pending != "delete":
            ref.vm_state, ref.task = vm_state, task
            if (
                task is None
                and ref.pending in ("build", "action", "snapshot")
                and (ref.pending == "snapshot" or vm_state == ref.target)
            ):
                ref.pending, ref.target = None, None
        if vm_state == "active" and task is None:
            ref.launched = True

    def _check_image(self, ref, body):
        status = body["status"]
        if status != ref.status and status not in IMAGE_TRANSITIONS.get(ref.status, ()):
            self.fail(f"image {ref.id}: illegal status change {ref.status} -> {status}")
        if ref.pending and status not in ("queued", "saving", "active"):
            self.fail(f"image {ref.id}: status {status} while being made")
        if not ref.pending and status != "active":
            self.fail(f"image {ref.id}: status {status} after it was active")
        if body.get("name") != ref.name:
            self.fail(f"image {ref.id}: name {body.get('name')!r}, not {ref.name!r}")
        expected = {"instance_uuid": ref.server_id, "image_type": "snapshot"}
        expected.update(ref.metadata)
        for key, value in expected.items():
            if key in GLANCE_CORE:
                continue  # a core attribute wins over a property of the same name
            if body.get(key) != value:
                self.fail(f"image {ref.id}: metadata {key!r} is {body.get(key)!r}, not {value!r}")
        if body.get("visibility") != "private" or body.get("owner") != self.project_id:
            self.fail(
                f"image {ref.id}: a snapshot is private to its project, got "
                f"{body.get('visibility')}/{body.get('owner')}"
            )
        ref.status = status
        if status == "active":
            ref.pending = False

    # -- the invariant ---------------------------------------------------------------------------

    @invariant()
    def observe(self):
        """List every server and image; they must be exactly what the model says, legally."""
        seen = {s["id"]: s for s in self.client.list_servers()}
        for server_id in set(seen) - self.baseline_servers - set(self.servers):
            self.fail(f"phantom server {server_id} ({seen[server_id].get('name')})")
        for ref in list(self.servers.values()):
            if ref.id in seen:
                self._check_server(ref, seen[ref.id])
            else:
                self._server_gone(ref)
        images = {i["id"]: i for i in self._own_images()}
        for image_id in set(images) - self.baseline_images - set(self.images):
            self.fail(f"phantom image {image_id} ({images[image_id].get('name')!r})")
        for ref in list(self.images.values()):
            if ref.id in images:
                self._check_image(ref, images[ref.id])
            elif ref.may_vanish and ref.pending:
                del self.images[ref.id]  # its source was deleted mid-snapshot (as Nova does)
            else:
                self.fail(f"image {ref.id} ({ref.name!r}, {ref.status}) was lost")
        in_flight = {}
        for image in self.images.values():
            if image.pending and not image.may_vanish:
                in_flight.setdefault(image.server_id, []).append(image.id)
        for server_id, ids in in_flight.items():
            if len(ids) > 1:
                self.fail(f"server {server_id} has {len(ids)} snapshots in flight: {ids}")

    # -- clean-up (only needed where there is no reset) ---------------------------------------------

    def teardown(self):
        try:
            if not self.controlled:
                for image_id in self.created_images:
                    self.client.delete_image(image_id)
                for server_id in self.created_servers:
                    self.client.delete_server(server_id)
        finally:
            self.client.close()

    # -- configuration -----------------------------------------------------------------------------

    @classmethod
    def using(cls, target, **attributes):
        """A subclass bound to ``target`` (a handle, or a callable returning one)."""
        attributes["target"] = (
            staticmethod(target) if callable(target) and not hasattr(target, "url") else target
        )
        return type(cls.__name__, (cls,), attributes)

    @classmethod
    def against(cls, url, *, image_ids=None, flavor_id=None, transitions=None, **credentials):
        """A subclass that drives the cloud at ``url`` (Keystone at ``url``/v3 unless
        ``auth_url=`` is given): a fakeecs elsewhere, or a real cloud to check fakeecs's
        fidelity (then no reset, no faults, real waiting, and clean-up by deletion)."""
        from ..handle import RemoteFakeCloud

        handle = RemoteFakeCloud(url, **credentials)
        return cls.using(
            handle,
            image_ids=image_ids,
            flavor_id=flavor_id,
            transitions=transitions if handle.has_control_plane else None,
        )


#: default settings for a run in CI time
CI_SETTINGS = settings(max_examples=200, stateful_step_count=20, deadline=None)

__all__ = [
    "ACTIONS",
    "CI_SETTINGS",
    "IMAGE_TRANSITIONS",
    "VM_TRANSITIONS",
    "CloudMismatch",
    "FakeEcsMachine",
    "RefImage",
    "RefServer",
    "shared_fake",
]
