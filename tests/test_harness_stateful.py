"""fakeecs.testing.stateful: the shipped state machine, run against fakeecs in CI time."""

import os

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from fakeecs import FakeCloud, RemoteFakeCloud
from fakeecs.testing.stateful import CloudMismatch, FakeEcsMachine

#: a few hundred examples by default; FAKEECS_MACHINE_EXAMPLES scales it
EXAMPLES = int(os.environ.get("FAKEECS_MACHINE_EXAMPLES", "300"))
CI = settings(
    max_examples=EXAMPLES,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
#: short, derandomized runs (the same examples every time) for the other checks
QUICK = settings(
    max_examples=15,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


def test_machine_against_the_in_process_server(fakeecs_server):
    machine = FakeEcsMachine.using(fakeecs_server)
    run_state_machine_as_test(machine, settings=CI)


def test_deleting_a_server_mid_snapshot_deletes_the_unfinished_image(fakeecs):
    server = fakeecs.create_server("s")
    image = fakeecs.create_server_image(server.id, "unfinished", settle=False)
    client = fakeecs.client()
    assert client.delete_server(server.id).status_code == 204
    fakeecs.clock.advance(600)
    assert client.get_server(server.id).status_code == 404
    assert client.get_image(image.id).status_code == 404


def test_machine_targets_a_fakeecs_by_url(fakeecs_server):
    """The same machine, driven through RemoteFakeCloud (HTTP control plane only)."""
    machine = FakeEcsMachine.using(RemoteFakeCloud(fakeecs_server.url))
    run_state_machine_as_test(machine, settings=QUICK)


def test_machine_runs_where_there_is_no_control_plane():
    """As against a real cloud: no reset, no faults, real time (sped up), clean-up by deletion."""
    with FakeCloud.start(clock="realtime", seed=5) as fake:
        fake.clock.realtime(speed=200)
        fake.app.config["FAKEECS_CONTROL"]["enabled"] = False
        machine = FakeEcsMachine.against(fake.url)
        assert machine.target.has_control_plane is False
        machine = FakeEcsMachine.using(
            machine.target,
            real_time_scale=0.01,
            poll_interval=0.01,
            settle_seconds=10,
            transitions=None,
        )
        run_state_machine_as_test(machine, settings=settings(QUICK, max_examples=6))
        fake.clock.advance(60)  # let the machine's clean-up deletions finish
        leftovers = [s for s in fake.servers() if s.task_state != "deleting"]
        assert leftovers == []


def test_machine_catches_a_cloud_that_lies():
    """A cloud whose image deletes answer 500 (yet delete) must fail the machine."""

    class LyingCloud(FakeEcsMachine):
        def __init__(self):
            super().__init__()
            self.fake.add_fault(
                match={"method": "DELETE", "path": "/image/v2/images/*"},
                status=500,
                side_effect=True,
            )

    with FakeCloud.start(seed=11) as fake:
        machine = LyingCloud.using(fake, delete_during_snapshot=False)
        with pytest.raises(CloudMismatch, match="expected HTTP"):
            run_state_machine_as_test(
                machine, settings=settings(QUICK, max_examples=200, phases=[Phase.generate])
            )


def test_users_subclass_with_their_own_rules(fakeecs_server):
    """A user's rule, using the machine's client, model and expect()."""
    from hypothesis.stateful import precondition, rule

    seen = []

    class MyMachine(FakeEcsMachine):
        @precondition(lambda self: self.active_images())
        @rule()
        def my_code_lists_my_images(self):
            names = {i["name"] for i in self.client.list_images(visibility="private")}
            seen.append(len(names))
            assert {i.name for i in self.active_images()} <= names

    run_state_machine_as_test(
        MyMachine.using(fakeecs_server), settings=settings(QUICK, max_examples=30)
    )
    assert seen, "the user's rule never ran"
