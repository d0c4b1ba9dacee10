"""Issue 9 (Nova part) at the HTTP level: update, metadata, tags, ips, extra specs, list
filters, deleted servers, user_data/config_drive/personality and the legacy mapping."""

import pytest
from conftest import BASE_IMAGE, CENTOS_IMAGE, PROJECT_ID, fault, state

V = f"/volume/v3/{PROJECT_ID}"


def mv(version):
    return {"OpenStack-API-Version": f"compute {version}"}


MV = mv("2.60")


@pytest.fixture
def member(app, api):
    return type(api)(app, "fakeecs-member")


@pytest.fixture
def reader(app, api):
    return type(api)(app, "fakeecs-reader")


def show(api, server_id, version="2.60", client=None):
    client = client or api
    response = client.get(client.compute(f"/servers/{server_id}"), headers=mv(version))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["server"]


def force_state(cloud, server_id, vm_state):
    cloud.list_availability_zones()  # settle the clock first
    server = cloud.servers.get(server_id)
    cloud.set_server_state(server, vm_state)


# -- PUT /servers/{id} -----------------------------------------------------------------

UPDATE_KEYS = {
    "id",
    "name",
    "status",
    "tenant_id",
    "user_id",
    "metadata",
    "hostId",
    "image",
    "flavor",
    "created",
    "updated",
    "addresses",
    "accessIPv4",
    "accessIPv6",
    "links",
    "OS-DCF:diskConfig",
    "progress",
    "locked",
    "description",
    "tags",
}


def test_update_renames_and_answers_with_the_core_view(api, cloud):
    server_id = api.boot()
    before = show(api, server_id)
    cloud.clock.advance(10)
    response = api.put(
        api.compute(f"/servers/{server_id}"),
        headers=MV,
        json={"server": {"name": "renamed", "description": "d" * 255}},
    )
    assert response.status_code == 200
    body = response.get_json()["server"]
    assert set(body) == UPDATE_KEYS
    assert (body["name"], body["description"]) == ("renamed", "d" * 255)
    assert body["addresses"]["fakeecs-net"] == [
        {"version": 4, "addr": before["addresses"]["fakeecs-net"][0]["addr"]}
    ]
    after = show(api, server_id)
    assert after["name"] == "renamed" and after["updated"] > before["updated"]
    assert after["OS-EXT-SRV-ATTR:hostname"] == "web-01"
    assert "OS-EXT-IPS:type" in after["addresses"]["fakeecs-net"][0]


def test_update_description_is_a_219_field_with_255_characters(api):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}")
    old = api.put(path, headers=mv("2.18"), json={"server": {"description": "x"}})
    assert fault(old, 400, "badRequest") == (
        "Invalid input for field/attribute server. Value: {'description': 'x'}. "
        "Additional properties are not allowed ('description' was unexpected)"
    )
    long = api.put(path, headers=MV, json={"server": {"description": "d" * 256}})
    assert fault(long, 400, "badRequest").endswith(f"{'d' * 256!r} is too long")
    cleared = api.put(path, headers=MV, json={"server": {"description": None}})
    assert cleared.get_json()["server"]["description"] is None


@pytest.mark.parametrize(
    "server,message",
    [
        (
            {"name": " x"},
            "An invalid 'name' value was provided. The name must be: printable "
            "characters. Can not start or end with whitespace.",
        ),
        ({"name": ""}, "Invalid input for field/attribute name. Value: . '' is too short"),
        (
            {"metadata": {}},
            "Invalid input for field/attribute server. Value: {'metadata': {}}. "
            "Additional properties are not allowed ('metadata' was unexpected)",
        ),
        (
            {"accessIPv4": ""},
            "Invalid input for field/attribute accessIPv4. Value: . '' is not a 'ipv4'",
        ),
        (
            {"OS-DCF:diskConfig": "x"},
            "Invalid input for field/attribute OS-DCF:diskConfig. "
            "Value: x. 'x' is not one of ['AUTO', 'MANUAL']",
        ),
    ],
)
def test_update_refusals_change_nothing(api, cloud, server, message):
    server_id = api.boot()
    before = state(cloud)
    response = api.put(api.compute(f"/servers/{server_id}"), headers=MV, json={"server": server})
    assert fault(response, 400, "badRequest") == message
    assert state(cloud) == before


def test_update_body_rules_and_access_ips(api):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}")
    assert fault(api.put(path, json={}), 400, "badRequest") == "'server' is a required property"
    assert fault(api.put(path, data="{"), 400, "badRequest") == "Malformed request body"
    unchanged = api.put(path, json={"server": {}})
    assert unchanged.status_code == 200 and unchanged.get_json()["server"]["name"] == "web-01"
    api.put(path, json={"server": {"accessIPv4": "10.0.0.9", "OS-DCF:diskConfig": "AUTO"}})
    body = show(api, server_id)
    assert (body["accessIPv4"], body["OS-DCF:diskConfig"]) == ("10.0.0.9", "AUTO")


def test_update_ignores_lock_and_state_but_not_policy(api, cloud, member, reader):
    server_id = api.boot(settle=False)
    api.post(api.compute(f"/servers/{server_id}/action"), json={"lock": None})
    response = member.put(member.compute(f"/servers/{server_id}"), json={"server": {"name": "b"}})
    assert response.status_code == 200 and response.get_json()["server"]["status"] == "BUILD"
    refused = reader.put(reader.compute(f"/servers/{server_id}"), json={"server": {"name": "c"}})
    assert (
        fault(refused, 403, "forbidden")
        == "Policy doesn't allow os_compute_api:servers:update to be performed."
    )
    missing = api.put(
        api.compute("/servers/0e3c6bd0-5c2b-4c5e-9d0f-000000000000"), json={"server": {"name": "x"}}
    )
    assert (
        fault(missing, 404, "itemNotFound")
        == "Instance 0e3c6bd0-5c2b-4c5e-9d0f-000000000000 could not be found."
    )


def test_legacy_v2_update_strips_the_name(api):
    server_id = api.boot()
    response = api.put(f"/v2/{PROJECT_ID}/servers/{server_id}", json={"server": {"name": " x "}})
    assert response.status_code == 200 and response.get_json()["server"]["name"] == "x"


def test_description_is_the_name_when_created_below_219(api):
    response = api.post(
        api.compute("/servers"),
        json={"server": {"name": "old", "flavorRef": "s6.small.1", "imageRef": BASE_IMAGE}},
    )
    assert show(api, response.get_json()["server"]["id"])["description"] == "old"
    refused = api.post(
        api.compute("/servers"),
        json={
            "server": {
                "name": "old",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "description": "d",
            }
        },
    )
    assert "Additional properties are not allowed ('description' was unexpected)" in fault(
        refused, 400, "badRequest"
    )


# -- metadata ------------------------------------------------------------------------


def test_metadata_routes(api):
    server_id = api.boot(metadata={"a": "1"})
    path = api.compute(f"/servers/{server_id}/metadata")
    assert api.get(path).get_json() == {"metadata": {"a": "1"}}
    merged = api.post(path, json={"metadata": {"b": "2"}})
    assert (merged.status_code, merged.get_json()) == (200, {"metadata": {"a": "1", "b": "2"}})
    replaced = api.put(path, json={"metadata": {"c": "3"}})
    assert (replaced.status_code, replaced.get_json()) == (200, {"metadata": {"c": "3"}})
    one = api.put(path + "/d", json={"meta": {"d": "4"}})
    assert (one.status_code, one.get_json()) == (200, {"meta": {"d": "4"}})
    assert api.get(path + "/d").get_json() == {"meta": {"d": "4"}}
    assert api.delete(path + "/c").status_code == 204
    assert show(api, server_id)["metadata"] == {"d": "4"}
    assert api.put(path, json={"metadata": {}}).get_json() == {"metadata": {}}


def test_metadata_item_errors(api, cloud):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/metadata")
    before = state(cloud)
    assert fault(api.get(path + "/nope"), 404, "itemNotFound") == "Metadata item was not found"
    assert fault(api.delete(path + "/nope"), 404, "itemNotFound") == "Metadata item was not found"
    two = api.put(path + "/a", json={"meta": {"a": "1", "b": "2"}})
    assert fault(two, 400, "badRequest") == (
        "Invalid input for field/attribute meta. Value: "
        "{'a': '1', 'b': '2'}. {'a': '1', 'b': '2'} has "
        "too many properties"
    )
    empty = api.put(path + "/a", json={"meta": {}})
    assert fault(empty, 400, "badRequest").endswith("{} does not have enough properties")
    mismatch = api.put(path + "/a", json={"meta": {"b": "2"}})
    assert fault(mismatch, 400, "badRequest") == "Request body and URI mismatch"
    missing = api.post(path, json={"meta": {}})
    assert fault(missing, 400, "badRequest") == "'metadata' is a required property"
    number = api.post(path, json={"metadata": {"k": 1}})
    assert (
        fault(number, 400, "badRequest")
        == "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'"
    )
    bad_key = api.post(path, json={"metadata": {"a/b": "1"}})
    assert "'a/b' does not match any of the regexes" in fault(bad_key, 400, "badRequest")
    assert state(cloud) == before


def test_metadata_quota_is_128_items(api, cloud):
    server_id = api.boot(metadata={f"k{i}": "v" for i in range(127)})
    path = api.compute(f"/servers/{server_id}/metadata")
    assert api.post(path, json={"metadata": {"last": "v"}}).status_code == 200
    before = state(cloud)
    over = api.post(path, json={"metadata": {"one-more": "v"}})
    assert fault(over, 403, "forbidden") == "Maximum number of metadata items exceeds 128"
    assert state(cloud) == before
    create = api.post(
        api.compute("/servers"),
        headers=MV,
        json={
            "server": {
                "name": "x",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": "auto",
                "metadata": {f"k{i}": "v" for i in range(129)},
            }
        },
    )
    assert fault(create, 403, "forbidden") == "Maximum number of metadata items exceeds 128"


def test_metadata_writes_follow_the_declared_state_rule(api, cloud, member):
    building = api.boot(settle=False)
    response = api.post(api.compute(f"/servers/{building}/metadata"), json={"metadata": {"a": "b"}})
    assert (
        fault(response, 409, "conflictingRequest")
        == f"Cannot 'update metadata' instance {building} while it is in vm_state building"
    )
    server_id = api.boot("second")
    path = api.compute(f"/servers/{server_id}/metadata")
    api.post(api.compute(f"/servers/{server_id}/action"), json={"os-stop": None})
    # stopping: the task_state is not checked
    assert api.post(path, json={"metadata": {"a": "b"}}).status_code == 200
    force_state(cloud, server_id, "error")
    delete = api.delete(path + "/a")
    assert (
        fault(delete, 409, "conflictingRequest")
        == f"Cannot 'delete metadata' instance {server_id} while it is in vm_state error"
    )
    force_state(cloud, server_id, "active")
    api.post(api.compute(f"/servers/{server_id}/action"), json={"lock": None})
    locked = member.put(
        member.compute(f"/servers/{server_id}/metadata/a"), json={"meta": {"a": "c"}}
    )
    assert fault(locked, 409, "conflictingRequest") == f"Instance {server_id} is locked"
    assert api.put(path + "/a", json={"meta": {"a": "c"}}).status_code == 200
    assert member.get(member.compute(f"/servers/{server_id}/metadata")).get_json() == {
        "metadata": {"a": "c"}
    }


def test_never_launched_server_refuses_metadata(api, cloud):
    server_id = api.boot()
    cloud.list_availability_zones()
    cloud.servers.get(server_id).launched_at = None
    response = api.put(api.compute(f"/servers/{server_id}/metadata"), json={"metadata": {}})
    assert (
        fault(response, 409, "conflictingRequest")
        == f"Cannot 'update metadata' instance {server_id} while it is in launched_at None"
    )


def test_reader_cannot_write_metadata(api, reader):
    server_id = api.boot()
    response = reader.post(
        reader.compute(f"/servers/{server_id}/metadata"), json={"metadata": {"a": "b"}}
    )
    assert (
        fault(response, 403, "forbidden")
        == "Policy doesn't allow os_compute_api:server-metadata:create to be performed."
    )
    assert reader.get(reader.compute(f"/servers/{server_id}/metadata")).status_code == 200


# -- tags -------------------------------------------------------------------------------


def test_tags_need_226(api):
    server_id = api.boot()
    response = api.get(api.compute(f"/servers/{server_id}/tags"), headers=mv("2.25"))
    assert response.status_code == 404
    assert "tags" not in show(api, server_id, "2.25")


def test_tag_routes(api, cloud):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/tags")
    updated = show(api, server_id)["updated"]
    cloud.clock.advance(60)
    assert api.get(path, headers=MV).get_json() == {"tags": []}
    replaced = api.put(path, headers=MV, json={"tags": ["a", "b", "a"]})
    assert (replaced.status_code, replaced.get_json()) == (200, {"tags": ["a", "b"]})
    new = api.put(path + "/Prod env", headers=MV)
    assert new.status_code == 201 and new.get_data() == b""
    assert (
        new.headers["Location"]
        == f"http://localhost/v2.1/{PROJECT_ID}/servers/{server_id}/tags/Prod%20env"
    )
    again = api.put(path + "/a", headers=MV, data="null", content_type="application/json")
    assert again.status_code == 204
    assert api.get(path + "/b", headers=MV).status_code == 204
    assert show(api, server_id)["tags"] == ["a", "b", "Prod env"]
    assert show(api, server_id)["updated"] == updated
    assert api.delete(path + "/a", headers=MV).status_code == 204
    assert api.delete(path, headers=MV).status_code == 204
    assert api.get(path, headers=MV).get_json() == {"tags": []}


def test_tag_errors(api, cloud):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/tags")
    before = state(cloud)
    assert (
        fault(api.get(path + "/x", headers=MV), 404, "itemNotFound")
        == f"Server {server_id} has no tag 'x'"
    )
    assert (
        fault(api.delete(path + "/x", headers=MV), 404, "itemNotFound")
        == f"Instance {server_id} has no tag 'x'"
    )
    bad = api.put(path + "/a,b", headers=MV)
    assert fault(bad, 400, "badRequest") == (
        "Tag 'a,b' is invalid. It must be a non empty string without characters '/' and ','. "
        "Validation error message: 'a,b' does not match '^[^,/]*$'"
    )
    long = api.put(path + "/" + "t" * 61, headers=MV)
    assert fault(long, 400, "badRequest").endswith(f"{'t' * 61!r} is too long")
    body = api.put(path + "/a", headers=MV, json={"x": 1})
    assert fault(body, 400, "badRequest") == "{'x': 1} is not of type 'null'"
    item = api.put(path, headers=MV, json={"tags": ["ok", "a/b"]})
    assert (
        fault(item, 400, "badRequest")
        == "Invalid input for field/attribute 1. Value: a/b. 'a/b' does not match '^[^,/]*$'"
    )
    many = [f"t{i}" for i in range(51)]
    too_many = api.put(path, headers=MV, json={"tags": many})
    assert (
        fault(too_many, 400, "badRequest")
        == f"Invalid input for field/attribute tags. Value: {many}. {many} is too long"
    )
    unknown = "0e3c6bd0-5c2b-4c5e-9d0f-000000000000"
    assert (
        fault(api.get(api.compute(f"/servers/{unknown}/tags"), headers=MV), 404, "itemNotFound")
        == f"Instance {unknown} has no mapping to a cell."
    )
    assert state(cloud) == before


def test_fifty_tags_is_the_limit_even_for_an_existing_tag(api):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/tags")
    assert api.put(path, headers=MV, json={"tags": [f"t{i}" for i in range(50)]}).status_code == 200
    for tag in ("new", "t0"):
        assert (
            fault(api.put(f"{path}/{tag}", headers=MV), 400, "badRequest")
            == "The number of tags exceeded the per-server limit 50"
        )


def test_tag_writes_need_an_alterable_vm_state_but_no_lock_check(api, cloud, member):
    server_id = api.boot()
    path = api.compute(f"/servers/{server_id}/tags")
    force_state(cloud, server_id, "error")
    for method, url, action in (
        ("PUT", path + "/a,b", "update tag"),
        ("PUT", path, "update tags"),
        ("DELETE", path + "/a", "delete tag"),
        ("DELETE", path, "delete tags"),
    ):
        response = api.request(
            method, url, headers=MV, json={"tags": []} if url == path and method == "PUT" else None
        )
        assert (
            fault(response, 409, "conflictingRequest")
            == f"Cannot '{action}' instance {server_id} while it is in vm_state error"
        )
    assert api.get(path, headers=MV).status_code == 200
    force_state(cloud, server_id, "active")
    api.post(api.compute(f"/servers/{server_id}/action"), json={"lock": None})
    assert member.put(member.compute(f"/servers/{server_id}/tags/x"), headers=MV).status_code == 201


def test_tags_on_create_from_252(api):
    server = {
        "name": "t",
        "flavorRef": "s6.small.1",
        "imageRef": BASE_IMAGE,
        "networks": "auto",
        "tags": ["x", "y"],
    }
    old = api.post(api.compute("/servers"), headers=mv("2.51"), json={"server": server})
    assert "Additional properties are not allowed ('tags' was unexpected)" in fault(
        old, 400, "badRequest"
    )
    response = api.post(api.compute("/servers"), headers=mv("2.52"), json={"server": server})
    assert show(api, response.get_json()["server"]["id"])["tags"] == ["x", "y"]


def test_tag_list_filters(api):
    ids = {}
    for name, tags in (("ab", ["a", "b"]), ("a", ["a"]), ("c", ["c"]), ("none", [])):
        ids[name] = api.boot(name)
        api.put(api.compute(f"/servers/{ids[name]}/tags"), headers=MV, json={"tags": tags})

    def names(query, version="2.60"):
        listed = api.get(api.compute(f"/servers?{query}"), headers=mv(version)).get_json()
        return sorted(s["name"] for s in listed["servers"])

    assert names("tags=a,b") == ["ab"]
    assert names("tags-any=b,c") == ["ab", "c"]
    assert names("not-tags=a,b") == ["a", "c", "none"]
    assert names("not-tags-any=a,c") == ["none"]
    assert names("tags=a&not-tags-any=b") == ["a"]
    assert names("tags=a,b", "2.25") == ["a", "ab", "c", "none"]


def test_create_image_copies_neither_server_metadata_nor_tags(api, cloud):
    server_id = api.boot(metadata={"owner-team": "blue"})
    api.put(api.compute(f"/servers/{server_id}/tags"), headers=MV, json={"tags": ["prod"]})
    api.put(api.compute(f"/servers/{server_id}/metadata/env"), json={"meta": {"env": "prod"}})
    response = api.post(
        api.compute(f"/servers/{server_id}/action"),
        headers=MV,
        json={"createImage": {"name": "snap", "metadata": {"k": "v"}}},
    )
    image = cloud.images.get(response.get_json()["image_id"])
    assert image.properties["k"] == "v"
    assert not {"owner-team", "env"} & set(image.properties) and image.tags == []


# -- ips and flavor extra specs --------------------------------------------------------


def test_ips(api):
    server_id = api.boot()
    addr = show(api, server_id)["addresses"]["fakeecs-net"][0]["addr"]
    assert api.get(api.compute(f"/servers/{server_id}/ips")).get_json() == {
        "addresses": {"fakeecs-net": [{"version": 4, "addr": addr}]}
    }
    assert api.get(api.compute(f"/servers/{server_id}/ips/fakeecs-net")).get_json() == {
        "fakeecs-net": [{"version": 4, "addr": addr}]
    }
    other = api.get(api.compute(f"/servers/{server_id}/ips/other"))
    assert fault(other, 404, "itemNotFound") == "Instance is not a member of specified network"
    unknown = api.get(api.compute("/servers/0e3c6bd0-5c2b-4c5e-9d0f-000000000000/ips"))
    assert fault(unknown, 404, "itemNotFound").endswith("could not be found.")
    bare = api.post(
        api.compute("/servers"),
        headers=MV,
        json={
            "server": {
                "name": "n",
                "flavorRef": "s6.small.1",
                "imageRef": BASE_IMAGE,
                "networks": "none",
            }
        },
    )
    bare_id = bare.get_json()["server"]["id"]
    assert api.get(api.compute(f"/servers/{bare_id}/ips")).get_json() == {"addresses": {}}


def test_flavor_extra_specs(api, cloud):
    cloud.flavors["s6.large.2"].extra_specs.update({"cond:operation:az": "cn-north-4a(normal)"})
    base = api.compute("/flavors/s6.large.2/os-extra_specs")
    assert api.get(base).get_json() == {"extra_specs": {"cond:operation:az": "cn-north-4a(normal)"}}
    assert api.get(base + "/cond:operation:az").get_json() == {
        "cond:operation:az": "cn-north-4a(normal)"
    }
    assert (
        fault(api.get(base + "/nope"), 404, "itemNotFound")
        == "Flavor s6.large.2 has no extra specs with key nope."
    )
    assert (
        fault(api.get(api.compute("/flavors/nope/os-extra_specs")), 404, "itemNotFound")
        == "Flavor nope could not be found."
    )
    assert api.get(api.compute("/flavors/s6.small.1/os-extra_specs")).get_json() == {
        "extra_specs": {}
    }


# -- lists: changes-since, deleted, all_tenants, status -----------------------------------


def test_changes_since_filters_on_updated_at_and_shows_deleted_servers(api, cloud, member):
    first = api.boot("first")
    mark = show(api, first)["updated"]
    cloud.clock.advance(60)
    second = api.boot("second")
    api.delete(api.compute(f"/servers/{first}"))
    cloud.clock.advance(60)
    listed = member.get(member.compute(f"/servers/detail?changes-since={mark}")).get_json()
    by_name = {s["name"]: s["status"] for s in listed["servers"]}
    assert by_name == {"first": "DELETED", "second": "ACTIVE"}
    cloud.clock.advance(60)
    api.put(api.compute(f"/servers/{second}"), json={"server": {"name": "renamed"}})
    later = show(api, second)["updated"]
    assert [
        s["id"]
        for s in api.get(api.compute(f"/servers?changes-since={later}")).get_json()["servers"]
    ] == [second]
    assert [s["id"] for s in api.get(api.compute("/servers")).get_json()["servers"]] == [second]
    assert fault(api.get(api.compute(f"/servers/{first}")), 404, "itemNotFound")


@pytest.mark.parametrize("value", ["asdf", "1516000000", "2011-13-01"])
def test_bad_changes_since_is_400(api, value):
    response = api.get(api.compute(f"/servers?changes-since={value}"))
    assert fault(response, 400, "badRequest") == (
        f"Invalid input for query parameters changes-since. Value: {value}. "
        f"{value!r} is not a 'date-time'"
    )


@pytest.mark.parametrize(
    "value",
    [
        "2011-01-24",
        "2011-01-24T17:08",
        "2011-01-24 17:08:01",
        "2011-01-24T17:08:01.123%2B08:00",
        "20110124T170801Z",
    ],
)
def test_changes_since_accepts_what_iso8601_reads(api, value):
    api.boot()
    assert len(api.get(api.compute(f"/servers?changes-since={value}")).get_json()["servers"]) == 1


def test_deleted_servers_for_admins_only(api, cloud, member):
    keep = api.boot("keep")
    gone = api.boot("gone")
    api.delete(api.compute(f"/servers/{gone}"))
    cloud.clock.advance(5)
    deleted = api.get(api.compute("/servers/detail?deleted=True")).get_json()["servers"]
    assert [(s["id"], s["status"]) for s in deleted] == [(gone, "DELETED")]
    assert deleted[0]["OS-SRV-USG:terminated_at"]
    assert [
        s["id"] for s in api.get(api.compute("/servers?deleted=junk")).get_json()["servers"]
    ] == [keep]
    assert [
        s["id"] for s in member.get(member.compute("/servers?deleted=True")).get_json()["servers"]
    ] == [keep]
    since = show(api, keep)["updated"]
    cloud.clock.advance(60)
    api.put(api.compute(f"/servers/{keep}"), json={"server": {"name": "touched"}})
    assert [
        s["id"]
        for s in api.get(api.compute(f"/servers?changes-since={since}")).get_json()["servers"]
    ] == [gone, keep]
    assert [
        s["id"]
        for s in api.get(api.compute(f"/servers?deleted=True&changes-since={since}")).get_json()[
            "servers"
        ]
    ] == [gone]
    later = show(api, keep)["updated"]
    assert api.get(api.compute(f"/servers?deleted=True&changes-since={later}")).get_json() == {
        "servers": []
    }
    status = member.get(member.compute("/servers?status=DELETED"))
    assert fault(status, 403, "forbidden") == "Only administrators may list deleted instances"
    assert [
        s["id"] for s in api.get(api.compute("/servers?status=DELETED")).get_json()["servers"]
    ] == [gone]


def test_soft_deleted_servers_are_listed_as_deleted(api, cloud):
    server_id = api.boot()
    cloud.list_availability_zones()
    # no API soft-deletes (reclaim_instance_interval is 0): the state is set as a seed would
    cloud.servers.get(server_id).vm_state = "soft-delete"
    assert api.get(api.compute("/servers")).get_json()["servers"] == []
    listed = api.get(api.compute("/servers/detail?deleted=yes")).get_json()["servers"]
    assert [(s["id"], s["status"]) for s in listed] == [(server_id, "SOFT_DELETED")]


def test_a_deleted_server_is_a_marker(api, cloud):
    ids = [api.boot(f"s{i}") for i in range(4)]
    api.delete(api.compute(f"/servers/{ids[2]}"))
    cloud.clock.advance(5)
    rest = api.get(api.compute(f"/servers?marker={ids[2]}")).get_json()["servers"]
    assert [s["id"] for s in rest] == [ids[1], ids[0]]
    api.delete(api.compute(f"/servers/{ids[1]}"))
    cloud.clock.advance(5)
    page = api.get(api.compute(f"/servers?deleted=True&marker={ids[2]}")).get_json()["servers"]
    assert [s["id"] for s in page] == [ids[1]]
    limited = api.get(api.compute("/servers?deleted=True&limit=1")).get_json()
    assert [s["id"] for s in limited["servers"]] == [ids[2]]
    assert "marker=" + ids[2] in limited["servers_links"][0]["href"]
    missing = api.get(api.compute("/servers?deleted=True&marker=nope"))
    assert fault(missing, 400, "badRequest") == "marker [nope] not found"


def test_all_tenants_is_admin_only(api, member):
    server_id = api.boot()
    for path, view in (("/servers", "index"), ("/servers/detail", "detail")):
        refused = member.get(member.compute(f"{path}?all_tenants=True"))
        assert (
            fault(refused, 403, "forbidden")
            == f"Policy doesn't allow os_compute_api:servers:{view}:get_all_tenants to be performed."
        )
        assert member.get(member.compute(f"{path}?all_tenants=0")).status_code == 200
    assert [
        s["id"] for s in api.get(api.compute("/servers?all_tenants")).get_json()["servers"]
    ] == [server_id]
    bad = api.get(api.compute("/servers?all_tenants=maybe"))
    assert fault(bad, 400, "badRequest") == (
        "Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', "
        "'off', 'on', 't', 'true', 'y', 'yes'"
    )


def test_unknown_status_is_400_from_238(api):
    api.boot()
    assert api.get(api.compute("/servers?status=nope"), headers=mv("2.37")).get_json() == {
        "servers": []
    }
    assert (
        fault(api.get(api.compute("/servers?status=nope"), headers=mv("2.38")), 400, "badRequest")
        == "Invalid status value"
    )


# -- user_data, config_drive, personality ---------------------------------------------


def test_user_data_is_shown_to_admins_from_23(api, member):
    server_id = api.boot(user_data="IyEvYmluL3NoCmVjaG8gaGk=", config_drive=True)
    body = show(api, server_id)
    assert body["OS-EXT-SRV-ATTR:user_data"] == "IyEvYmluL3NoCmVjaG8gaGk="
    assert body["config_drive"] == "True"
    assert "OS-EXT-SRV-ATTR:user_data" not in show(api, server_id, "2.2")
    assert "OS-EXT-SRV-ATTR:user_data" not in show(api, server_id, client=member)
    plain = api.boot("plain", config_drive="no")
    assert show(api, plain)["config_drive"] == ""


@pytest.mark.parametrize(
    "extra,message",
    [
        (
            {"user_data": "abc"},
            "Invalid input for field/attribute user_data. Value: abc. 'abc' is not a 'base64'",
        ),
        ({"user_data": "QQ==" * 16384}, "is too long"),
        (
            {"config_drive": "y"},
            "'y' is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', "
            "'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', "
            "'OFF', 'Off', 'off', 'NO', 'No', 'no']",
        ),
    ],
)
def test_bad_user_data_or_config_drive(api, cloud, extra, message):
    server = {"name": "x", "flavorRef": "s6.small.1", "imageRef": BASE_IMAGE, "networks": "auto"}
    response = api.post(api.compute("/servers"), headers=MV, json={"server": {**server, **extra}})
    assert fault(response, 400, "badRequest").endswith(message)
    assert len(cloud.servers) == 0


def test_personality_until_256(api):
    server = {
        "name": "p",
        "flavorRef": "s6.small.1",
        "imageRef": BASE_IMAGE,
        "networks": "auto",
        "personality": [{"path": "/etc/motd", "contents": "aGk="}],
    }
    accepted = api.post(api.compute("/servers"), headers=mv("2.56"), json={"server": server})
    assert accepted.status_code == 202
    refused = api.post(api.compute("/servers"), headers=mv("2.57"), json={"server": server})
    assert "Additional properties are not allowed ('personality' was unexpected)" in fault(
        refused, 400, "badRequest"
    )
    bad = dict(server, personality=[{"path": "/x", "contents": "abc"}])
    assert fault(
        api.post(api.compute("/servers"), headers=mv("2.56"), json={"server": bad}),
        400,
        "badRequest",
    ).endswith("'abc' is not a 'base64'")


# -- legacy block_device_mapping (v1) --------------------------------------------------


def _volume(api, cloud, zone="cn-north-4a"):
    response = api.post(
        V + "/volumes",
        json={"volume": {"size": 40, "imageRef": CENTOS_IMAGE, "availability_zone": zone}},
    )
    cloud.clock.advance(5)
    return response.get_json()["volume"]["id"]


def test_legacy_mapping_boots_from_a_volume(api, cloud):
    volume_id = _volume(api, cloud)
    response = api.post(
        api.compute("/servers"),
        headers=MV,
        json={
            "server": {
                "name": "v1",
                "flavorRef": "s6.small.1",
                "networks": "auto",
                "imageRef": "",
                "block_device_mapping": [
                    {"volume_id": volume_id, "device_name": "vda", "delete_on_termination": "true"}
                ],
            }
        },
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    server_id = response.get_json()["server"]["id"]
    cloud.clock.advance(5)
    body = show(api, server_id)
    assert body["image"] == "" and body["status"] == "ACTIVE"
    assert body["os-extended-volumes:volumes_attached"] == [
        {"id": volume_id, "delete_on_termination": True}
    ]


@pytest.mark.parametrize(
    "server,message",
    [
        (
            {"block_device_mapping": [{"device_name": "vdb"}]},
            "Block Device Mapping is Invalid: Unrecognized legacy format.",
        ),
        (
            {
                "block_device_mapping": [{"volume_id": "VOL", "device_name": "vda"}],
                "block_device_mapping_v2": [
                    {"source_type": "volume", "uuid": "VOL", "boot_index": 0}
                ],
            },
            "Using different block_device_mapping syntaxes is not allowed in the same request.",
        ),
        (
            {
                "block_device_mapping": [{"volume_id": "VOL", "device_name": "vda"}],
                "imageRef": BASE_IMAGE,
            },
            "The volume cannot be assigned the same device name as the root device vda",
        ),
        (
            {"block_device_mapping": [{"volume_id": "VOL", "device_name": "vdb"}]},
            "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device "
            "mapping combination is not valid.",
        ),
        (
            {"block_device_mapping": [{"volume_id": "nope"}]},
            "Invalid input for field/attribute volume_id. Value: nope. 'nope' is not a 'uuid'",
        ),
        (
            {"block_device_mapping": [{"volume_id": "VOL", "device_name": "vd-b"}]},
            "Invalid input for field/attribute device_name. Value: vd-b. "
            "'vd-b' does not match '^[a-zA-Z0-9._-r/]*$'",
        ),
        (
            {"block_device_mapping": [{"volume_id": "VOL", "bus": "x"}]},
            "Additional properties are not allowed ('bus' was unexpected)",
        ),
        ({}, "Missing imageRef attribute"),
    ],
)
def test_legacy_mapping_refusals(api, cloud, server, message):
    volume_id = _volume(api, cloud)
    for entry in server.get("block_device_mapping", []) + server.get("block_device_mapping_v2", []):
        for key in ("volume_id", "uuid"):
            if entry.get(key) == "VOL":
                entry[key] = volume_id
    spec = {"name": "x", "flavorRef": "s6.small.1", "networks": "auto", **server}
    before = state(cloud)
    response = api.post(api.compute("/servers"), headers=MV, json={"server": spec})
    assert fault(response, 400, "badRequest").endswith(message)
    assert state(cloud) == before


def test_status_filter_matches_the_vm_state_like_nova(api):
    server_id = api.boot()
    api.post(api.compute(f"/servers/{server_id}/action"), json={"reboot": {"type": "SOFT"}})
    assert [
        s["id"] for s in api.get(api.compute("/servers?status=ACTIVE")).get_json()["servers"]
    ] == [server_id]
    assert [
        s["id"] for s in api.get(api.compute("/servers?status=reboot")).get_json()["servers"]
    ] == [server_id]
    assert api.get(api.compute("/servers?status=HARD_REBOOT")).get_json()["servers"] == []


def test_tenant_id_filters_only_with_all_tenants(api):
    server_id = api.boot()
    other = "0be5e0be5e0be5e0be5e0be5e0be5e01"

    def ids(query):
        return [s["id"] for s in api.get(api.compute(f"/servers?{query}")).get_json()["servers"]]

    assert ids(f"tenant_id={other}") == [server_id]
    assert ids(f"all_tenants=1&tenant_id={other}") == []
    assert ids(f"all_tenants=1&project_id={PROJECT_ID}") == [server_id]
