"""The seed's six constraints: one function each, and every route that reaches it.

Each row names a constraint, the one function of :mod:`fakeecs.model.provenance`
that decides it (``provenance.CONSTRAINTS``) and one route (API family, method,
path).  The row drives the route over HTTP (Flask's test client), asserts the
refusal as that family words it (status, message, code) and asserts, through a
spy wrapped around the function, that the refusal was raised by that function:
a route that re-implemented the rule would refuse without the spy seeing it.
Constraints 3 and 4 refuse nothing on some routes (a server or image deletion
that leaves snapshots alone): those rows assert the function ran and the
snapshots (and their volumes) survived.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from conftest import BASE_IMAGE, PROJECT_ID, state

from fakeecs.model import DomainError, provenance

MICRO = {"OpenStack-API-Version": "compute 2.60"}
VPC_ID = "7a1c0b9e-5d3f-4e2a-8b6c-9d0e1f2a3b01"
SUBNET_ID = "7a1c0b9e-5d3f-4e2a-8b6c-9d0e1f2a3b02"
NOVA, V2 = f"/v2.1/{PROJECT_ID}", f"/v2/{PROJECT_ID}"
CINDER = f"/volume/v3/{PROJECT_ID}"


class Spy:
    """Wraps one provenance function: the calls it got and the refusals it raised."""

    def __init__(self, monkeypatch, name: str):
        self.calls, self.raised = [], []
        original = getattr(provenance, name)

        def spy(*args, **kwargs):
            self.calls.append(args)
            try:
                return original(*args, **kwargs)
            except DomainError as error:
                self.raised.append(error)
                raise

        monkeypatch.setattr(provenance, name, spy)


# -- set-ups (all over HTTP) -------------------------------------------------------------------


def boot(api, zone="cn-north-4a", volume_backed=False, data_disk=False):
    """A settled server; volume-backed ones get a 40 GiB root (and a 5 GiB data) volume."""
    server = {
        "name": "src",
        "flavorRef": "s6.small.1",
        "availability_zone": zone,
        "networks": "auto",
    }
    if volume_backed:
        server["block_device_mapping_v2"] = [
            {
                "source_type": "image",
                "destination_type": "volume",
                "uuid": BASE_IMAGE,
                "boot_index": 0,
                "volume_size": 40,
                "delete_on_termination": True,
            }
        ]
        if data_disk:
            server["block_device_mapping_v2"].append(
                {
                    "source_type": "blank",
                    "destination_type": "volume",
                    "volume_size": 5,
                    "boot_index": -1,
                    "delete_on_termination": True,
                }
            )
    else:
        server["imageRef"] = BASE_IMAGE
    response = api.post(f"{NOVA}/servers", json={"server": server}, headers=MICRO)
    assert response.status_code == 202, response.get_data(as_text=True)
    api.cloud.clock.advance(5)
    return response.get_json()["server"]["id"]


def create_image(api, server_id):
    """A native createImage image of ``server_id``, active."""
    response = api.post(
        f"{NOVA}/servers/{server_id}/action", json={"createImage": {"name": "snap"}}, headers=MICRO
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    api.cloud.clock.advance(5)
    return response.get_json()["image_id"]


def volumes_of(api, server_id):
    return [bd["volume_id"] for bd in api.cloud.servers.get(server_id).block_devices]


@dataclass
class Ctx:
    """What a set-up made: the server, an image, its volumes; and ``msg`` to expect."""

    server: str = ""
    image: str = ""
    volumes: tuple = ()
    msg: str = ""


def error_server(api):
    """A volume-backed server with a data disk, forced into ``error`` (constraint 1)."""
    server = boot(api, volume_backed=True, data_disk=True)
    api.cloud.force_server_error(server, "the host lost power")
    return Ctx(server=server, volumes=tuple(volumes_of(api, server)))


def zone_bound(api):
    """A createImage image of a server in cn-north-4b (constraint 2, asked for cn-north-4a)."""
    server = boot(api, zone="cn-north-4b")
    image = create_image(api, server)
    return Ctx(
        server=server,
        image=image,
        msg=(
            f"Image {image} was created from ECS {server} in availability zone cn-north-4b; a "
            "server created from it must be in cn-north-4b, not cn-north-4a."
        ),
    )


def imaged_volumes(api):
    """A volume-backed server with a data disk and a createImage image (snapshots of both)."""
    server = boot(api, volume_backed=True, data_disk=True)
    image = create_image(api, server)
    return Ctx(server=server, image=image, volumes=tuple(volumes_of(api, server)))


def orphaned_volume(api):
    """The root volume a createImage snapshot kept when its server was deleted."""
    ctx = imaged_volumes(api)
    assert api.delete(f"{NOVA}/servers/{ctx.server}").status_code == 204
    api.cloud.clock.advance(5)
    return ctx


def ecs_image(api):
    """A createImage image of a server in cn-north-4a (constraints 5 and 6)."""
    server = boot(api)
    image = create_image(api, server)
    return Ctx(
        server=server,
        image=image,
        msg=(
            f"Image {image} is an image created from an ECS with the createImage action and cannot "
            "be used to create data disks."
        ),
    )


def whole_image(api):
    """An IMS full-ECS image (constraint 6: not exportable either)."""
    server = boot(api)
    response = api.post(
        "/v1/cloudimages/wholeimages/action", json={"name": "whole", "instance_id": server}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    job = api.cloud.ims_jobs.get(response.get_json()["job_id"])
    api.cloud.clock.advance(40)
    return Ctx(server=server, image=job.entities["image_id"])


# -- request bodies -------------------------------------------------------------------------


def nova_server(image=None, zone="cn-north-4a", devices=None):
    server = {
        "name": "new",
        "flavorRef": "s6.small.1",
        "availability_zone": zone,
        "networks": "auto",
    }
    if image:
        server["imageRef"] = image
    if devices:
        server["block_device_mapping_v2"] = devices
    return {"server": server}


def image_volume(image, boot_index):
    return {
        "source_type": "image",
        "destination_type": "volume",
        "uuid": image,
        "boot_index": boot_index,
        "volume_size": 40,
    }


def ecs_server(image=BASE_IMAGE, zone="cn-north-4a", data_image=None):
    server = {
        "name": "new",
        "flavorRef": "s6.small.1",
        "imageRef": image,
        "vpcid": VPC_ID,
        "nics": [{"subnet_id": SUBNET_ID}],
        "root_volume": {"volumetype": "SSD", "size": 40},
        "availability_zone": zone,
    }
    if data_image:
        server["data_volumes"] = [{"volumetype": "SSD", "size": 40, "data_image_id": data_image}]
    return {"server": server}


def scenario(**world):
    return {"scenario": world}


# -- the table -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One route to one constraint and how that route answers."""

    constraint: int
    family: str
    method: str
    path: str  # formatted with the set-up's Ctx fields
    setup: Callable
    body: Callable | None = None  # Ctx -> JSON body
    status: int = 400
    code: str | None = None  # Huawei families' error code
    message: Callable | None = None  # Ctx -> the exact message (default ``ctx.msg``)
    contains: bool = False  # the message is inside a longer one (scenario errors)
    headers: dict | None = None  # default: Nova microversion 2.60

    def __str__(self):
        return f"{self.constraint}-{self.family}-{self.method}-{self.path}"


def nova_state_message(ctx):
    return f"Cannot 'createImage' instance {ctx.server} while it is in vm_state error"


def ims_state_message(what):
    return lambda ctx: f"The ECS {ctx.server} in vm_state error cannot be used to create {what}."


def export_message(ctx):
    return (
        f"The image cannot be exported: image {ctx.image} was created from ECS "
        f"{ctx.server} with the native createImage action (POST "
        "/v2[.1]/{project_id}/servers/{server_id}/action), and such images cannot be "
        "exported to OBS buckets. Create the image with the IMS API (POST "
        "/v2/cloudimages/action) to export it."
    )


def export_body(ctx):
    return {"bucket_url": "bucket-1:x.qcow2", "file_format": "qcow2"}


def system_body(ctx):
    return {"name": "sys", "instance_id": ctx.server}


def data_body(ctx):
    return {"data_images": [{"name": "d", "volume_id": ctx.volumes[1]}]}


def create_image_body(ctx):
    return {"createImage": {"name": "x"}}


def ims_state_row(path, body, whole=False):
    """Constraint 1 on an IMS route: 400, IMS's code and wording."""
    what = "a full-ECS image" if whole else "an image"
    return Row(
        1,
        "ims",
        "POST",
        path,
        error_server,
        body,
        code="IMG.0126" if whole else "IMG.0008",
        message=ims_state_message(what),
    )


ROWS = [
    # 1. no image from a server in error
    Row(
        1,
        "nova",
        "POST",
        NOVA + "/servers/{server}/action",
        error_server,
        create_image_body,
        409,
        message=nova_state_message,
    ),
    Row(
        1,
        "nova",
        "POST",
        V2 + "/servers/{server}/action",
        error_server,
        create_image_body,
        409,
        message=nova_state_message,
    ),
    ims_state_row("/v2/cloudimages/action", system_body),
    ims_state_row("/v2.1/cloudimages/action", system_body),
    ims_state_row("/v2/cloudimages/action", data_body),
    ims_state_row("/v1/cloudimages/wholeimages/action", system_body, whole=True),
    ims_state_row("/v2.1/cloudimages/wholeimages/action", system_body, whole=True),
    # 2. a server from a createImage image stays in the source server's AZ
    Row(2, "nova", "POST", NOVA + "/servers", zone_bound, lambda c: nova_server(c.image)),
    Row(2, "nova", "POST", V2 + "/servers", zone_bound, lambda c: nova_server(c.image)),
    Row(
        2,
        "nova",
        "POST",
        NOVA + "/servers",
        zone_bound,
        lambda c: nova_server(devices=[image_volume(c.image, 0)]),
    ),
    Row(
        2,
        "ecs",
        "POST",
        f"/v1/{PROJECT_ID}/cloudservers",
        zone_bound,
        lambda c: ecs_server(c.image),
        code="Ecs.0005",
    ),
    Row(
        2,
        "ecs",
        "POST",
        f"/v1.1/{PROJECT_ID}/cloudservers",
        zone_bound,
        lambda c: ecs_server(c.image),
        code="Ecs.0005",
    ),
    Row(
        2,
        "ecs",
        "POST",
        f"/v1/{PROJECT_ID}/cloudservers",
        zone_bound,
        lambda c: ecs_server(data_image=c.image),
        code="Ecs.0005",
    ),
    Row(
        2,
        "control",
        "POST",
        "/_fakeecs/scenarios",
        zone_bound,
        lambda c: scenario(
            servers=[
                {
                    "name": "seeded",
                    "flavor": "s6.small.1",
                    "image": c.image,
                    "availability_zone": "cn-north-4a",
                }
            ]
        ),
        contains=True,
    ),
    Row(
        2,
        "control",
        "POST",
        "/_fakeecs/scenarios",
        zone_bound,
        lambda c: scenario(
            servers=[
                {"name": "seeded", "flavor": "s6.small.1", "availability_zone": "cn-north-4a"}
            ],
            volumes=[
                {
                    "name": "root",
                    "size": 40,
                    "image": c.image,
                    "attached_to": {"server": "seeded", "boot_index": 0},
                }
            ],
        ),
        contains=True,
    ),
    # 3. deleting a server deletes no snapshot: Cinder deletes no volume that has one
    Row(
        3,
        "cinder",
        "DELETE",
        CINDER + "/volumes/{volumes[0]}",
        orphaned_volume,
        message=lambda c: (
            "Invalid volume: Volume status must be available or error or error_restoring or "
            "error_extending or error_managing and must not be migrating, attached, belong to "
            "a group, have snapshots or be disassociated from snapshots after volume "
            "transfer."
        ),
    ),
    Row(3, "nova", "DELETE", NOVA + "/servers/{server}", imaged_volumes, status=204),
    Row(
        3,
        "ecs",
        "POST",
        f"/v1/{PROJECT_ID}/cloudservers/delete",
        imaged_volumes,
        lambda c: {"servers": [{"id": c.server}], "delete_volume": True},
        status=200,
    ),
    # 4. deleting an image deletes no snapshot
    Row(4, "glance", "DELETE", "/image/v2/images/{image}", imaged_volumes, status=204),
    Row(
        4, "nova", "DELETE", NOVA + "/images/{image}", imaged_volumes, status=204, headers={}
    ),  # the image proxy is gone after microversion 2.35
    Row(4, "ims", "DELETE", "/v2/images/{image}", imaged_volumes, status=204),
    # 5. a createImage image is no data disk
    Row(
        5,
        "cinder",
        "POST",
        CINDER + "/volumes",
        ecs_image,
        lambda c: {"volume": {"size": 40, "imageRef": c.image, "availability_zone": "cn-north-4a"}},
    ),
    Row(
        5,
        "nova",
        "POST",
        NOVA + "/servers",
        ecs_image,
        lambda c: nova_server(devices=[image_volume(BASE_IMAGE, 0), image_volume(c.image, 1)]),
    ),
    Row(
        5,
        "ecs",
        "POST",
        f"/v1/{PROJECT_ID}/cloudservers",
        ecs_image,
        lambda c: ecs_server(data_image=c.image),
        code="Ecs.0007",
    ),
    Row(
        5,
        "control",
        "POST",
        "/_fakeecs/scenarios",
        ecs_image,
        lambda c: scenario(volumes=[{"name": "data", "size": 40, "image": c.image}]),
        contains=True,
    ),
    # 6. a createImage image (or a full-ECS one) does not go to OBS
    Row(
        6,
        "ims",
        "POST",
        "/v1/cloudimages/{image}/file",
        ecs_image,
        export_body,
        code="IMG.0071",
        message=export_message,
    ),
    Row(
        6,
        "ims",
        "POST",
        "/v2.1/cloudimages/{image}/file",
        ecs_image,
        export_body,
        code="IMG.0071",
        message=export_message,
    ),
    Row(
        6,
        "ims",
        "POST",
        "/v1/cloudimages/{image}/file",
        whole_image,
        export_body,
        code="IMG.0128",
        message=lambda c: f"The full-ECS image {c.image} cannot be exported.",
    ),
]


def refusal_message(row, response):
    """The message of a refusal in ``row.family``'s format (and its code where it has one)."""
    body = response.get_json()
    if row.code is not None:
        assert body["error"]["code"] == row.code, body
        return body["error"]["message"]
    if row.family == "control":
        return body["error"]["message"]
    (fault,) = body.values()
    assert fault["code"] == row.status, body
    return fault["message"]


def test_every_constraint_has_one_function_and_routes():
    assert sorted(provenance.CONSTRAINTS) == [1, 2, 3, 4, 5, 6]
    assert {row.constraint for row in ROWS} == set(provenance.CONSTRAINTS)
    families = {(row.constraint, row.family) for row in ROWS}
    for family in ("nova", "ims"):
        assert (1, family) in families
    for family in ("nova", "ecs", "control"):
        assert (2, family) in families
    for family in ("cinder", "nova", "ecs", "control"):
        assert (5, family) in families


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_route_reaches_the_one_function(api, monkeypatch, row):
    ctx = row.setup(api)
    spy = Spy(monkeypatch, provenance.CONSTRAINTS[row.constraint].__name__)
    body = row.body(ctx) if row.body else None
    path = row.path.format(**vars(ctx))
    before = state(api.cloud)
    response = api.request(
        row.method, path, json=body, headers=MICRO if row.headers is None else row.headers
    )
    assert response.status_code == row.status, response.get_data(as_text=True)
    if row.status >= 400:
        assert spy.calls, f"{path} refused without asking the rule's function"
        message = refusal_message(row, response)
        expected = (row.message or (lambda c: c.msg))(ctx)
        assert (expected in message) if row.contains else (message == expected)
        assert spy.raised, f"{path} refused without the rule's function refusing"
        assert state(api.cloud) == before
        return
    api.cloud.clock.advance(10)
    after = state(api.cloud)
    assert spy.calls, f"{path} did not ask the rule's function"
    assert after["snapshots"] == before["snapshots"]
    if row.constraint == 3:  # each delete_on_termination volume was kept by the rule
        assert len(spy.raised) == len(ctx.volumes)
        assert all(api.cloud.volumes.get(v).status == "available" for v in ctx.volumes)
    else:
        assert [call[1].id for call in spy.calls] == [ctx.image]
        assert api.cloud.images.get(ctx.image) is None
