"""The control plane's one route table: HTTP, the in-process and the remote handle agree."""

import pytest

from fakeecs import FakeCloud
from fakeecs.api.control.operations import OPERATIONS, PREFIX
from fakeecs.handle import FakeEcsError, RemoteFakeCloud
from fakeecs.model import Invalid
from fakeecs.model.control.inputs import ForceFields


@pytest.fixture(scope="module")
def local():
    with FakeCloud.start(clock="frozen", seed=5) as handle:
        yield handle


@pytest.fixture
def remote(local):
    local.reset()
    return RemoteFakeCloud(local.url)


def test_every_operation_is_an_http_route(app):
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    for operation in OPERATIONS.values():
        assert (PREFIX + operation.path, operation.method) in routes


@pytest.mark.parametrize(
    "name, args, kwargs, message",
    [
        ("add_fault", ({"latency_ms": "5"},), {}, "latency_ms: Not a valid number."),
        ("add_fault", ({"times": 0},), {}, "times: Must be greater than or equal to 1."),
        (
            "set_transitions",
            ({"image_snapshot": "slow"},),
            {},
            'image_snapshot: must be seconds >= 0, "manual", "immediate" or null, not "slow"',
        ),
        ("advance_clock", ("ten",), {}, "seconds: Not a valid number."),
        ("seed", (1.5,), {}, "seed: must be an integer or a string"),
    ],
)
def test_local_and_remote_handles_refuse_with_the_schema_message(
    local, remote, name, args, kwargs, message
):
    before = local.export_state()
    with pytest.raises(Invalid) as near:
        local._call(name, *args, **kwargs)
    assert near.value.message == message
    with pytest.raises(FakeEcsError) as far:
        remote._call(name, *args, **kwargs)
    assert far.value.status == 400 and far.value.body["error"]["message"] == message
    assert local.export_state() == before


def test_local_and_remote_handles_answer_alike(local, remote):
    local_rule = local.add_fault(match={"method": "GET"}, status=503, times=2)
    remote_rule = remote.add_fault(match={"method": "GET"}, status=503, times=2)
    assert {k: v for k, v in local_rule.items() if k != "id"} == {
        k: v for k, v in remote_rule.items() if k != "id"
    }
    assert local.faults() == remote.faults()
    assert local.remove_fault(local_rule["id"]) == {"deleted": [local_rule["id"]]}
    assert remote.clear_faults() == {"deleted": [remote_rule["id"]]}


def test_clock_through_the_handle_takes_a_datetime(local):
    import datetime

    local.reset()
    local.clock.freeze(at=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    assert local.clock.now() == 1767225600.0


def test_the_model_takes_checked_force_fields(local):
    local.reset()
    server = local.create_server("typed")
    result = local.cloud.force_state("server", server.id, ForceFields({"vm_state": "error"}))
    assert result["state"]["status"] == "ERROR"


def test_the_openapi_transitions_body_describes_durations(app):
    document = app.test_client().get("/_fakeecs/openapi.json").get_json()
    durations = document["components"]["schemas"]["TransitionsBody"]["additionalProperties"]
    assert {"type": "string", "enum": ["manual", "immediate"]} in durations["oneOf"]
    latency = document["components"]["schemas"]["FaultBody"]["properties"]["latency_ms"]
    assert latency["type"] == "number"
