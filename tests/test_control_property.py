"""Property: export -> import round-trips any reachable state exactly.

A Hypothesis state machine drives the model through servers, actions,
snapshots, volumes, IMS images, deletions, virtual time, transition changes,
forced states and manual steps.  After every step the export must survive
JSON, import into a different cloud and export again unchanged; and the
imported copy must then behave exactly like the original.
"""

import json

from conftest import BASE_IMAGE, CENTOS_IMAGE
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fakeecs.model import DomainError
from fakeecs.server import build_cloud

ZONES = ("cn-north-4a", "cn-north-4b", "cn-north-4c")
PROCESSES = (
    "server_build",
    "server_action",
    "image_snapshot",
    "server_delete",
    "volume_create",
    "snapshot_create",
    "ims_image",
)
ACTIONS = ("stop", "start", "reboot_soft", "reboot_hard", "pause", "unpause")
DURATIONS = st.one_of(
    st.sampled_from(["manual", "immediate"]), st.floats(min_value=0, max_value=30, allow_nan=False)
)


class RoundTrip(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.cloud = build_cloud(["default"], seed=1234, clock="frozen")
        self.context = self.cloud.context_for_user("fakeecs")

    def attempt(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DomainError:
            return None

    def ids(self, store):
        return sorted(item.id for item in getattr(self.cloud, store))

    # -- rules ---------------------------------------------------------------------

    @rule(
        zone=st.sampled_from(ZONES),
        image=st.sampled_from([BASE_IMAGE, CENTOS_IMAGE]),
        name=st.text(alphabet="abcxyz-", min_size=1, max_size=8),
    )
    def boot(self, zone, image, name):
        self.attempt(
            self.cloud.create_server,
            self.context,
            name=name,
            flavor_id="s6.small.1",
            image_id=image,
            availability_zone=zone,
        )

    @precondition(lambda self: len(self.cloud.servers))
    @rule(data=st.data(), action=st.sampled_from(ACTIONS))
    def action(self, data, action):
        server_id = data.draw(st.sampled_from(self.ids("servers")))
        self.attempt(self.cloud.server_action, self.context, server_id, action)

    @precondition(lambda self: len(self.cloud.servers))
    @rule(
        data=st.data(),
        metadata=st.dictionaries(st.sampled_from("kvw"), st.text(max_size=4), max_size=2),
    )
    def create_image(self, data, metadata):
        server_id = data.draw(st.sampled_from(self.ids("servers")))
        self.attempt(self.cloud.create_server_image, self.context, server_id, "snap", metadata)

    @precondition(lambda self: len(self.cloud.servers))
    @rule(data=st.data())
    def ims_image(self, data):
        server_id = data.draw(st.sampled_from(self.ids("servers")))
        self.attempt(
            self.cloud.ims_create_image, self.context, name="ims-img", instance_id=server_id
        )

    @precondition(lambda self: len(self.cloud.servers))
    @rule(data=st.data())
    def delete_server(self, data):
        server_id = data.draw(st.sampled_from(self.ids("servers")))
        self.attempt(self.cloud.delete_server, self.context, server_id)

    @rule(size=st.integers(min_value=1, max_value=50), zone=st.sampled_from(ZONES))
    def create_volume(self, size, zone):
        self.attempt(self.cloud.create_volume, self.context, size=size, availability_zone=zone)

    @precondition(lambda self: len(self.cloud.volumes))
    @rule(data=st.data())
    def volume_snapshot(self, data):
        volume_id = data.draw(st.sampled_from(self.ids("volumes")))
        self.attempt(self.cloud.create_snapshot, self.context, volume_id, name="nightly")

    @precondition(lambda self: len(self.cloud.volumes) and len(self.cloud.servers))
    @rule(data=st.data())
    def attach(self, data):
        volume_id = data.draw(st.sampled_from(self.ids("volumes")))
        server_id = data.draw(st.sampled_from(self.ids("servers")))
        self.attempt(self.cloud.attach_volume, self.context, server_id, volume_id)

    @rule(seconds=st.floats(min_value=0, max_value=40, allow_nan=False))
    def advance(self, seconds):
        self.cloud.advance_clock(seconds)

    @rule(process=st.sampled_from(PROCESSES), duration=DURATIONS)
    def transitions(self, process, duration):
        self.cloud.set_transitions({process: duration})

    @precondition(lambda self: self.cloud.jobs)
    @rule(data=st.data())
    def step(self, data):
        job = data.draw(st.sampled_from(sorted(self.cloud.jobs)))
        self.attempt(self.cloud.advance_resource, "job", job)

    @precondition(lambda self: len(self.cloud.servers))
    @rule(data=st.data(), state=st.sampled_from(["error", "active", "stopped"]))
    def force(self, data, state):
        server_id = data.draw(st.sampled_from(self.ids("servers")))
        self.attempt(
            self.cloud.force_state,
            "server",
            server_id,
            vm_state=state,
            fault="forced" if state == "error" else None,
        )

    @rule(seed=st.integers(min_value=0, max_value=2**32))
    def seed(self, seed):
        self.cloud.seed(seed)

    # -- the property ---------------------------------------------------------------

    @invariant()
    def export_import_round_trips(self):
        state = self.cloud.export_state()
        wire = json.loads(json.dumps(state))
        assert wire == state
        copy = build_cloud(["default"], seed=7, clock="realtime")
        copy.import_state(wire)
        assert copy.export_state() == state
        # and the copy behaves like the original from here on
        self.cloud.advance_clock(3)
        copy.advance_clock(3)
        assert copy.export_state() == self.cloud.export_state()


RoundTrip.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_export_import_round_trips_any_reachable_state = RoundTrip.TestCase
