"""Boot from volume, volume-backed createImage, server deletion and the Nova image proxy."""

import json

import pytest
from conftest import BASE_IMAGE, CENTOS_IMAGE, PROJECT_ID, fault

V = f"/volume/v3/{PROJECT_ID}"
MV60 = {"OpenStack-API-Version": "compute 2.60"}


def settle(cloud, seconds=5):
    cloud.clock.advance(seconds)
    cloud.list_availability_zones()


def boot_entry(image=BASE_IMAGE, size=40, **extra):
    entry = {
        "source_type": "image",
        "destination_type": "volume",
        "uuid": image,
        "boot_index": 0,
        "volume_size": size,
    }
    entry.update(extra)
    return entry


def boot_bfv(api, zone="cn-north-4a", devices=None, **extra):
    return api.boot(zone=zone, image="", block_device_mapping_v2=devices or [boot_entry()], **extra)


def create_server(api, **server):
    server.setdefault("name", "srv")
    server.setdefault("flavorRef", "s6.small.1")
    server.setdefault("networks", "auto")
    return api.post(api.compute("/servers"), json={"server": server}, headers=MV60)


def show(api, server_id):
    return api.get(api.compute(f"/servers/{server_id}"), headers=MV60).get_json()["server"]


def create_image(api, server_id, name="snap-1", **extra):
    body = {"createImage": {"name": name, **extra}}
    response = api.post(api.compute(f"/servers/{server_id}/action"), json=body, headers=MV60)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["image_id"]


def counts(cloud):
    cloud.list_availability_zones()
    return len(cloud.servers), len(cloud.volumes), len(cloud.snapshots), len(cloud.images)


# -- boot from volume ----------------------------------------------------------------------


def test_bdm_boot_makes_an_attached_system_disk_in_the_servers_zone(api, cloud):
    server_id = boot_bfv(
        api,
        zone="cn-north-4b",
        devices=[
            boot_entry(delete_on_termination=True),
            {
                "source_type": "blank",
                "destination_type": "volume",
                "volume_size": 10,
                "boot_index": -1,
            },
        ],
    )
    server = show(api, server_id)
    assert server["status"] == "ACTIVE" and server["image"] == ""
    assert server["OS-EXT-AZ:availability_zone"] == "cn-north-4b"
    attached = server["os-extended-volumes:volumes_attached"]
    assert [v["delete_on_termination"] for v in attached] == [True, False]
    volumes = {v["id"]: v for v in api.get(V + "/volumes/detail").get_json()["volumes"]}
    system, data = volumes[attached[0]["id"]], volumes[attached[1]["id"]]
    assert system["status"] == data["status"] == "in-use"
    assert system["availability_zone"] == data["availability_zone"] == "cn-north-4b"
    assert system["bootable"] == "true" and system["size"] == 40
    assert system["volume_image_metadata"]["image_id"] == BASE_IMAGE
    assert [(a["server_id"], a["device"]) for a in system["attachments"]] == [
        (server_id, "/dev/vda")
    ]
    assert [(a["server_id"], a["device"]) for a in data["attachments"]] == [(server_id, "/dev/vdb")]
    assert data["bootable"] == "false" and data["size"] == 10


def test_volumes_are_creating_until_the_build_spawns(api, cloud):
    server_id = boot_bfv(api, settle=False)
    volume_id = cloud.get_server(cloud.context_for_user("fakeecs"), server_id).block_devices[0][
        "volume_id"
    ]
    assert api.get(f"{V}/volumes/{volume_id}").get_json()["volume"]["status"] == "creating"
    settle(cloud)
    assert api.get(f"{V}/volumes/{volume_id}").get_json()["volume"]["status"] == "in-use"


def test_boot_from_an_existing_volume_takes_its_zone(api, cloud):
    volume = api.post(
        V + "/volumes",
        json={"volume": {"size": 40, "imageRef": CENTOS_IMAGE, "availability_zone": "cn-north-4c"}},
    )
    volume_id = volume.get_json()["volume"]["id"]
    settle(cloud)
    response = create_server(
        api,
        block_device_mapping_v2=[
            {
                "source_type": "volume",
                "destination_type": "volume",
                "uuid": volume_id,
                "boot_index": 0,
            }
        ],
    )
    assert response.status_code == 202
    server_id = response.get_json()["server"]["id"]
    settle(cloud)
    server = show(api, server_id)
    assert server["OS-EXT-AZ:availability_zone"] == "cn-north-4c" and server["image"] == ""
    assert api.get(f"{V}/volumes/{volume_id}").get_json()["volume"]["status"] == "in-use"


BAD_BDMS = [
    (
        [{"source_type": "blank", "destination_type": "volume", "volume_size": 1}],
        "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device "
        "mapping combination is not valid.",
    ),
    (
        [boot_entry(size=None)],
        "Block Device Mapping is Invalid: Images with destination_type 'volume' need to have a "
        "non-zero size specified",
    ),
    (
        [boot_entry(size=20)],
        "Volume is smaller than the minimum size specified in image metadata. Volume size is "
        "21474836480 bytes, minimum size is 42949672960 bytes.",
    ),
    ([boot_entry(image="nope")], "Block Device Mapping is Invalid: failed to get image nope."),
    (
        [{"source_type": "volume", "destination_type": "volume", "uuid": "nope", "boot_index": 0}],
        "Block Device Mapping is Invalid: failed to get volume nope.",
    ),
    (
        [
            {
                "source_type": "snapshot",
                "destination_type": "volume",
                "uuid": "nope",
                "boot_index": 0,
            }
        ],
        "Block Device Mapping is Invalid: failed to get snapshot nope.",
    ),
    (
        [{"source_type": "volume", "destination_type": "local", "uuid": "x", "boot_index": 0}],
        "Block Device Mapping is Invalid: destination_type 'local' is not supported: ECS block "
        "devices must have destination_type 'volume'.",
    ),
    (
        [boot_entry(), boot_entry()],
        "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device "
        "mapping combination is not valid.",
    ),
    (
        [boot_entry(), {"source_type": "volume", "destination_type": "volume", "boot_index": 1}],
        "Block Device Mapping is Invalid: Missing device UUID.",
    ),
    (
        [boot_entry(boot_index="first")],
        "Invalid input for field/attribute boot_index. Value: first. 'first' is not of type "
        "'integer'",
    ),
]


@pytest.mark.parametrize("devices,message", BAD_BDMS)
def test_bad_block_device_mappings_are_refused_without_side_effects(api, cloud, devices, message):
    before = counts(cloud)
    response = create_server(api, availability_zone="cn-north-4a", block_device_mapping_v2=devices)
    assert fault(response, 400, "badRequest") == message
    assert counts(cloud) == before


def test_volume_in_another_zone_or_in_use_cannot_be_mapped(api, cloud):
    volume_id = api.post(
        V + "/volumes", json={"volume": {"size": 5, "availability_zone": "cn-north-4b"}}
    ).get_json()["volume"]["id"]
    data = {"source_type": "volume", "destination_type": "volume", "uuid": volume_id}
    message = fault(
        create_server(
            api, availability_zone="cn-north-4a", block_device_mapping_v2=[boot_entry(), data]
        ),
        400,
        "badRequest",
    )
    assert (
        message
        == f"Invalid volume: volume '{volume_id}' status must be 'available'. Currently in 'creating'"
    )
    settle(cloud)
    before = counts(cloud)
    message = fault(
        create_server(
            api, availability_zone="cn-north-4a", block_device_mapping_v2=[boot_entry(), data]
        ),
        400,
        "badRequest",
    )
    assert message == (
        "Server and volumes are not in the same availability zone. Server is in: "
        "cn-north-4a. Volumes are in: cn-north-4b"
    )
    assert counts(cloud) == before
    assert api.get(f"{V}/volumes/{volume_id}").get_json()["volume"]["status"] == "available"


def test_image_ref_with_data_disks_stays_image_backed(api, cloud):
    server_id = api.boot(
        zone="cn-north-4a",
        block_device_mapping_v2=[
            {"source_type": "blank", "destination_type": "volume", "volume_size": 5}
        ],
    )
    server = show(api, server_id)
    assert server["image"]["id"] == BASE_IMAGE
    assert len(server["os-extended-volumes:volumes_attached"]) == 1
    image_id = create_image(api, server_id)
    assert cloud.get_image(cloud.context_for_user("fakeecs"), image_id).status == "queued"


# -- createImage on a volume-backed server (snapshot_volume_backed) -------------------------


def test_volume_backed_create_image_snapshots_every_volume(api, cloud):
    server_id = boot_bfv(
        api,
        zone="cn-north-4b",
        devices=[
            boot_entry(delete_on_termination=True),
            {"source_type": "blank", "destination_type": "volume", "volume_size": 10},
        ],
    )
    image_id = create_image(api, server_id, "gold", metadata={"ImageType": "Gold"})
    server = show(api, server_id)
    assert server["OS-EXT-STS:task_state"] is None and server["status"] == "ACTIVE"
    image = api.get(f"/image/v2/images/{image_id}").get_json()
    assert (image["status"], image["size"], image["disk_format"], image["container_format"]) == (
        "active",
        0,
        "raw",
        "bare",
    )
    assert image["checksum"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert image["os_hash_value"].startswith("cf83e135")
    assert image["bdm_v2"] == "True" and image["root_device_name"] == "/dev/vda"
    assert image["ImageType"] == "Gold" and image["base_image_ref"] == BASE_IMAGE
    assert "instance_uuid" not in image and "image_type" not in image
    assert image["min_disk"] == 40 and image["min_ram"] == 1024
    mapping = json.loads(image["block_device_mapping"])
    attached = [v["id"] for v in server["os-extended-volumes:volumes_attached"]]
    snapshots = {s["id"]: s for s in api.get(V + "/snapshots/detail").get_json()["snapshots"]}
    assert [m["boot_index"] for m in mapping] == [0, None]
    assert [m["source_type"] for m in mapping] == ["snapshot", "snapshot"]
    assert [m["device_name"] for m in mapping] == ["/dev/vda", "/dev/vdb"]
    assert [m["delete_on_termination"] for m in mapping] == [True, False]
    assert [snapshots[m["snapshot_id"]]["volume_id"] for m in mapping] == attached
    assert {s["name"] for s in snapshots.values()} == {"snapshot for gold"}
    assert {s["status"] for s in snapshots.values()} == {"creating"}
    # no task_state: a second image straight away also works
    second = create_image(api, server_id, "gold-2")
    assert second != image_id and len(cloud.snapshots) == 4
    settle(cloud)
    assert {s["status"] for s in api.get(V + "/snapshots/detail").get_json()["snapshots"]} == {
        "available"
    }


def test_volume_backed_image_boots_from_its_snapshots_in_the_source_zone(api, cloud):
    source = boot_bfv(
        api,
        zone="cn-north-4c",
        devices=[
            boot_entry(),
            {"source_type": "blank", "destination_type": "volume", "volume_size": 8},
        ],
    )
    image_id = create_image(api, source)
    settle(cloud)
    response = create_server(api, imageRef=image_id)  # no AZ: the source AZ
    assert response.status_code == 202, response.get_data(as_text=True)
    server_id = response.get_json()["server"]["id"]
    settle(cloud)
    server = show(api, server_id)
    assert server["status"] == "ACTIVE" and server["image"] == ""
    assert server["OS-EXT-AZ:availability_zone"] == "cn-north-4c"
    mapping = json.loads(
        cloud.get_image(cloud.context_for_user("fakeecs"), image_id).properties[
            "block_device_mapping"
        ]
    )
    volumes = [
        api.get(f"{V}/volumes/{v['id']}").get_json()["volume"]
        for v in server["os-extended-volumes:volumes_attached"]
    ]
    assert [v["snapshot_id"] for v in volumes] == [m["snapshot_id"] for m in mapping]
    assert [v["size"] for v in volumes] == [40, 8]
    assert {v["availability_zone"] for v in volumes} == {"cn-north-4c"}
    # the same through block_device_mapping_v2 with source_type image
    response = create_server(
        api,
        availability_zone="cn-north-4c",
        block_device_mapping_v2=[
            {
                "source_type": "image",
                "destination_type": "volume",
                "uuid": image_id,
                "boot_index": 0,
            }
        ],
    )
    assert response.status_code == 202


def test_a_snapshot_still_creating_cannot_back_a_new_server(api, cloud):
    source = boot_bfv(api)
    image_id = create_image(api, source)
    before = counts(cloud)
    message = fault(create_server(api, imageRef=image_id), 400, "badRequest")
    assert message.startswith(f"Invalid snapshot: Image {image_id} maps snapshot")
    assert "is creating; a volume can only be created from an 'available' snapshot." in message
    assert counts(cloud) == before


def test_volume_backed_snapshot_quiesces_nothing_and_keeps_the_server(api, cloud):
    server_id = boot_bfv(api)
    api.post(api.compute(f"/servers/{server_id}/action"), json={"os-stop": None}, headers=MV60)
    settle(cloud)
    assert show(api, server_id)["status"] == "SHUTOFF"
    create_image(api, server_id)
    assert show(api, server_id)["status"] == "SHUTOFF"


# -- deletion -------------------------------------------------------------------------------


def test_server_delete_frees_volumes_by_delete_on_termination(api, cloud):
    server_id = boot_bfv(
        api,
        devices=[
            boot_entry(delete_on_termination=True),
            {
                "source_type": "blank",
                "destination_type": "volume",
                "volume_size": 3,
                "delete_on_termination": False,
            },
        ],
    )
    attached = [v["id"] for v in show(api, server_id)["os-extended-volumes:volumes_attached"]]
    assert api.delete(api.compute(f"/servers/{server_id}"), headers=MV60).status_code == 204
    assert show(api, server_id)["OS-EXT-STS:task_state"] == "deleting"
    assert {api.get(f"{V}/volumes/{v}").get_json()["volume"]["status"] for v in attached} == {
        "in-use"
    }
    cloud.clock.advance(0.5)
    fault(api.get(api.compute(f"/servers/{server_id}"), headers=MV60), 404, "itemNotFound")
    system = api.get(f"{V}/volumes/{attached[0]}").get_json()["volume"]
    data = api.get(f"{V}/volumes/{attached[1]}").get_json()["volume"]
    assert system["status"] == "deleting"
    assert data["status"] == "available" and data["attachments"] == []
    settle(cloud)
    fault(api.get(f"{V}/volumes/{attached[0]}"), 404, "itemNotFound")


def test_a_volume_with_snapshots_survives_delete_on_termination(api, cloud):
    server_id = boot_bfv(api, devices=[boot_entry(delete_on_termination=True)])
    image_id = create_image(api, server_id)
    volume_id = show(api, server_id)["os-extended-volumes:volumes_attached"][0]["id"]
    api.delete(api.compute(f"/servers/{server_id}"))
    settle(cloud)
    volume = api.get(f"{V}/volumes/{volume_id}").get_json()["volume"]
    assert volume["status"] == "available" and volume["attachments"] == []
    assert len(api.get(V + "/snapshots").get_json()["snapshots"]) == 1
    assert api.get(f"/image/v2/images/{image_id}").status_code == 200


# -- the error state --------------------------------------------------------------------------


def test_flavor_flagged_to_fail_builds_puts_the_server_in_error(api, cloud):
    cloud.add_flavor(
        id="s6.broken",
        name="s6.broken",
        vcpus=1,
        ram=1024,
        extra_specs={"fakeecs:fail_build": "true"},
    )
    response = create_server(api, flavorRef="s6.broken", imageRef=BASE_IMAGE)
    server_id = response.get_json()["server"]["id"]
    settle(cloud)
    server = show(api, server_id)
    assert server["status"] == "ERROR"
    assert server["fault"]["code"] == 500
    assert (
        server["fault"]["message"]
        == "No valid host was found. There are not enough hosts available."
    )


def test_image_whose_volumes_fail_breaks_the_build(api, cloud):
    from fakeecs.model import apply_world

    apply_world(
        cloud,
        {
            "images": [
                {
                    "id": "0badc0de-0000-4000-8000-000000000001",
                    "name": "broken",
                    "min_disk": 1,
                    "properties": {"fakeecs:fail_volume": "true"},
                }
            ]
        },
    )
    server_id = boot_bfv(
        api, devices=[boot_entry(image="0badc0de-0000-4000-8000-000000000001", size=5)]
    )
    server = show(api, server_id)
    volume_id = server["os-extended-volumes:volumes_attached"][0]["id"]
    assert server["status"] == "ERROR"
    assert server["fault"]["message"] == (
        f"Build of instance {server_id} aborted: Volume {volume_id} did not finish being "
        "created even after we waited 0 seconds or 1 attempts. And its status is error."
    )
    assert api.get(f"{V}/volumes/{volume_id}").get_json()["volume"]["status"] == "error"


def test_force_server_error_abandons_a_running_snapshot(api, cloud):
    server_id = api.boot()
    image_id = create_image(api, server_id)
    cloud.force_server_error(server_id, "host died")
    server = show(api, server_id)
    assert (server["status"], server["OS-EXT-STS:task_state"]) == ("ERROR", None)
    assert server["fault"]["message"] == "host died"
    assert api.get(f"/image/v2/images/{image_id}").status_code == 404
    settle(cloud)
    assert show(api, server_id)["status"] == "ERROR"


def test_attach_and_detach_through_the_model(api, cloud):
    ctx = cloud.context_for_user("fakeecs")
    server_id = boot_bfv(api, zone="cn-north-4a")
    volume = cloud.create_volume(ctx, size=5, availability_zone="cn-north-4a")
    other = cloud.create_volume(ctx, size=5, availability_zone="cn-north-4b")
    settle(cloud)
    entry = cloud.attach_volume(ctx, server_id, volume.id)
    assert entry["device_name"] == "/dev/vdb"
    assert cloud.get_volume(ctx, volume.id).status == "in-use"
    from fakeecs.model import Forbidden, Invalid

    with pytest.raises(Invalid, match="not in the same availability zone"):
        cloud.attach_volume(ctx, server_id, other.id)
    root = cloud.get_server(ctx, server_id).block_devices[0]["volume_id"]
    # Nova Queens answers 403 (HTTPForbidden) for the root volume
    with pytest.raises(Forbidden, match="Can't detach root device volume"):
        cloud.detach_volume(ctx, server_id, root)
    cloud.detach_volume(ctx, server_id, volume.id)
    assert cloud.get_volume(ctx, volume.id).status == "available"


# -- the Nova image proxy (<= 2.35) ---------------------------------------------------------------


def test_image_proxy_show_list_and_filters(api, cloud):
    server_id = api.boot()
    image_id = create_image(api, server_id, "snap-a")
    shown = api.get(api.compute(f"/images/{image_id}")).get_json()["image"]
    assert (shown["status"], shown["progress"], shown["OS-EXT-IMG-SIZE:size"]) == ("SAVING", 25, 0)
    assert shown["server"]["id"] == server_id
    assert shown["metadata"]["image_type"] == "snapshot"
    assert shown["minDisk"] == 40 and shown["minRam"] == 1024
    assert [link["rel"] for link in shown["links"]] == ["self", "bookmark", "alternate"]
    settle(cloud)
    assert api.get(api.compute(f"/images/{image_id}")).get_json()["image"]["status"] == "ACTIVE"
    by_server = api.get(api.compute(f"/images/detail?server={server_id}")).get_json()["images"]
    assert [i["id"] for i in by_server] == [image_id]
    link = f"http://localhost/v2.1/{PROJECT_ID}/servers/{server_id}"
    assert [
        i["id"] for i in api.get(api.compute(f"/images?server={link}")).get_json()["images"]
    ] == [image_id]
    assert [
        i["id"] for i in api.get(api.compute("/images?type=snapshot")).get_json()["images"]
    ] == [image_id]
    assert len(api.get(api.compute("/images?status=ACTIVE")).get_json()["images"]) == 3
    brief = api.get(api.compute("/images?name=snap-a")).get_json()["images"]
    assert list(brief[0]) == ["id", "name", "links"]
    page = api.get(api.compute("/images?limit=1")).get_json()
    assert [i["id"] for i in page["images"]] == [image_id] and "images_links" in page
    assert (
        api.get(api.compute("/images?changes-since=2099-01-01T00:00:00Z")).get_json()["images"]
        == []
    )
    fault(api.get(api.compute("/images?limit=x")), 400, "badRequest")


def test_image_proxy_is_gone_from_2_36(api):
    message = fault(
        api.get(api.compute("/images"), headers={"OpenStack-API-Version": "compute 2.36"}),
        404,
        "itemNotFound",
    )
    assert message == "The resource could not be found."
    assert (
        api.get(
            api.compute("/images"), headers={"OpenStack-API-Version": "compute 2.35"}
        ).status_code
        == 200
    )
    assert api.get(f"/v2/{PROJECT_ID}/images").status_code == 200


def test_image_proxy_not_found_and_delete(api, cloud):
    message = fault(api.get(api.compute("/images/nope")), 404, "itemNotFound")
    assert message == "Image not found."
    server_id = api.boot()
    image_id = create_image(api, server_id)
    settle(cloud)
    assert api.delete(api.compute(f"/images/{image_id}")).status_code == 204
    assert (
        fault(api.delete(api.compute(f"/images/{image_id}")), 404, "itemNotFound")
        == "Image not found."
    )
    from conftest import Api

    reader = Api(api.client.application, "fakeecs-reader")
    message = fault(reader.delete(api.compute(f"/images/{BASE_IMAGE}")), 403, "forbidden")
    assert message == "You are not allowed to delete the image."


def test_image_metadata_routes_up_to_2_38(api, cloud):
    server_id = api.boot()
    image_id = create_image(api, server_id, metadata={"a": "1"})
    settle(cloud)
    path = api.compute(f"/images/{image_id}/metadata")
    assert api.get(path).get_json()["metadata"]["a"] == "1"
    merged = api.post(path, json={"metadata": {"b": "2"}}).get_json()["metadata"]
    assert merged["a"] == "1" and merged["b"] == "2"
    assert api.get(path + "/b").get_json() == {"meta": {"b": "2"}}
    assert api.put(path + "/c", json={"meta": {"c": "3"}}).get_json() == {"meta": {"c": "3"}}
    assert (
        fault(api.put(path + "/c", json={"meta": {"d": "3"}}), 400, "badRequest")
        == "Request body and URI mismatch"
    )
    assert (
        fault(api.put(path + "/c", json={"meta": {"c": "3", "d": "4"}}), 400, "badRequest")
        == "Request body contains too many items"
    )
    assert api.delete(path + "/c").status_code == 204
    assert fault(api.delete(path + "/c"), 404, "itemNotFound") == "Invalid metadata key"
    assert fault(api.get(path + "/c"), 404, "itemNotFound") == "The resource could not be found."
    replaced = api.put(path, json={"metadata": {"only": "x"}}).get_json()["metadata"]
    assert replaced == {"only": "x"}
    too_many = {f"k{i}": "v" for i in range(129)}
    assert (
        fault(api.put(path, json={"metadata": too_many}), 403, "forbidden")
        == "Image metadata limit exceeded"
    )
    headers = {"OpenStack-API-Version": "compute 2.38"}
    assert api.get(path, headers=headers).status_code == 200
    headers = {"OpenStack-API-Version": "compute 2.39"}
    assert (
        fault(api.get(path, headers=headers), 404, "itemNotFound")
        == "The resource could not be found."
    )


def test_cli_style_image_to_local_root_of_a_volume_backed_image_boots_from_its_snapshots(
    api, cloud
):
    source = boot_bfv(api, zone="cn-north-4b")
    image_id = create_image(api, source)
    settle(cloud)
    response = create_server(
        api,
        imageRef=image_id,
        block_device_mapping_v2=[
            {
                "source_type": "image",
                "destination_type": "local",
                "uuid": image_id,
                "boot_index": 0,
                "delete_on_termination": True,
            }
        ],
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    settle(cloud)
    server = show(api, response.get_json()["server"]["id"])
    assert server["image"] == "" and server["OS-EXT-AZ:availability_zone"] == "cn-north-4b"
    (attached,) = server["os-extended-volumes:volumes_attached"]
    volume = api.get(f"{V}/volumes/{attached['id']}").get_json()["volume"]
    assert volume["snapshot_id"] is not None and volume["status"] == "in-use"
