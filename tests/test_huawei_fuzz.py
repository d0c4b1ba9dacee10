"""Whatever body arrives on an IMS write route, the answer is a coded 4xx (or 200), never a 500."""

import json

from conftest import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeecs.api import create_app
from fakeecs.server import build_cloud

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = [
    "name",
    "instance_id",
    "data_images",
    "description",
    "tags",
    "image_tags",
    "min_ram",
    "max_ram",
    "bucket_url",
    "file_format",
    "is_quick_export",
    "op",
    "path",
    "value",
    "volume_id",
    "delete_backup",
]
BODIES = (
    JSON
    | st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5)
    | st.lists(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=3), max_size=3)
)

_api = {}


def api():
    """One cloud for every example (building one per example is slow); state is compared."""
    if "api" not in _api:
        cloud = build_cloud(["default"], seed=99, clock="frozen")
        client = Api(create_app(cloud))
        server_id = client.boot()
        response = client.post(
            "/v2/cloudimages/action", json={"name": "seed-img", "instance_id": server_id}
        )
        cloud.clock.advance(40)
        with cloud.lock:
            cloud.settle()
        image_id = cloud.ims_jobs.get(response.get_json()["job_id"]).entities["image_id"]
        _api["api"], _api["server"], _api["image"] = client, server_id, image_id
    return _api["api"]


def state(cloud):
    return (
        len(cloud.images),
        len(cloud.ims_jobs),
        len(cloud.image_exports),
        json.dumps([i.to_dict() for i in cloud.images], sort_keys=True, default=str),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from(["create", "whole", "export", "patch", "glance_patch", "delete"]),
    body=BODIES,
)
def test_ims_write_routes_never_fail_with_500(route, body):
    client = api()
    image_id = _api["image"]
    before = state(client.cloud)
    raw = json.dumps(body)
    method, path, content_type = {
        "create": ("POST", "/v2/cloudimages/action", "application/json"),
        "whole": ("POST", "/v1/cloudimages/wholeimages/action", "application/json"),
        "export": ("POST", f"/v1/cloudimages/{image_id}/file", "application/json"),
        "patch": ("PATCH", f"/v2/cloudimages/{image_id}", "application/json"),
        "glance_patch": (
            "PATCH",
            f"/v2/images/{image_id}",
            "application/openstack-images-v2.1-json-patch",
        ),
        "delete": ("DELETE", "/v2/images/00000000-0000-4000-8000-000000000000", "application/json"),
    }[route]
    response = client.request(method, path, data=raw, headers={"Content-Type": content_type})
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.headers.get("X-Request-Id", "").startswith("req-")
    if response.status_code >= 400:
        body = response.get_json()
        assert body["error"]["code"].startswith("IMG."), body
        assert state(client.cloud) == before
