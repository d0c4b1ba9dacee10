"""Use 3: property-based tests with the shipped strategies and state machine."""

from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import precondition, rule, run_state_machine_as_test

from fakeecs.testing import strategies as fst
from fakeecs.testing.stateful import FakeEcsMachine


def snapshot_name(server_name, stamp):
    """Code under test: the name our backup job gives its images."""
    return f"{server_name}-backup-{stamp}"[:80]


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(server_name=fst.server_names())
def test_our_backup_names_are_always_accepted(fakeecs, fakeecs_client, server_name):
    server = fakeecs.create_server("web")
    name = snapshot_name(server_name, "20260101")
    response = fakeecs_client.create_image(server.id, name)
    assert response.status_code == 202, response.text
    fakeecs.reset()


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=fst.create_image_cases())
def test_create_image(fakeecs, fakeecs_client, case):
    """Each generated case carries its verdict: 202, 400 (with a message fragment) or 403."""
    server = fakeecs.create_server("web")
    response = fakeecs_client.server_action(
        server.id, case.body, microversion="%d.%d" % case.version
    )
    assert response.status_code == case.status
    if case.fragment:
        assert case.fragment in response.text
    fakeecs.reset()


class BackupMachine(FakeEcsMachine):
    """The shipped machine plus a rule that runs our code against the same cloud."""

    @precondition(lambda self: self.settled_servers())
    @rule()
    def our_backup_job(self):
        server = self.settled_servers()[0]
        response = self.client.create_image(server.id, snapshot_name(server.name, "x"))
        if server.vm_state in ("active", "stopped", "paused", "suspended"):
            self.expect(response, 202)
            self._add_image(
                self._image_id_of(response, (2, 60)), snapshot_name(server.name, "x"), server, {}
            )
        else:
            self.expect(response, 409)


def test_backup_machine(fakeecs_server):
    run_state_machine_as_test(
        BackupMachine.using(fakeecs_server),
        settings=settings(max_examples=20, stateful_step_count=15, deadline=None),
    )
