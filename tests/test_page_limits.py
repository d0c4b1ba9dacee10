"""The most a list page holds, and the page of a list that names no limit: Nova's
``[api] max_limit``, Cinder's ``osapi_max_limit`` (1000 each) and Glance's
``limit_param_default`` (25) / ``api_limit_max`` (1000)."""

from conftest import PROJECT_ID

MAX_PAGE = 1000


def _images(cloud, count):
    context = cloud.context_for_user("fakeecs")
    for number in range(count):
        cloud.create_image(
            context, name=f"many-{number}", disk_format="qcow2", container_format="bare"
        )


def test_nova_image_lists_hold_at_most_max_limit(api, cloud):
    _images(cloud, MAX_PAGE + 5)
    for query in ("", "?limit=0", "?limit=5000"):
        body = api.get(api.compute("/images" + query)).get_json()
        assert len(body["images"]) == MAX_PAGE, query
        link = body["images_links"][0]
        assert link["rel"] == "next" and f"marker={body['images'][-1]['id']}" in link["href"]
    rest = api.get(api.compute(f"/images?marker={body['images'][-1]['id']}")).get_json()
    assert len(rest["images"]) == len(cloud.images) - MAX_PAGE and "images_links" not in rest
    assert len(api.get(api.compute("/images?limit=3")).get_json()["images"]) == 3


def test_cinder_volume_lists_hold_at_most_osapi_max_limit(api, cloud):
    context = cloud.context_for_user("fakeecs")
    for number in range(MAX_PAGE + 2):
        cloud.create_volume(context, size=1, name=f"v-{number}", availability_zone="cn-north-4a")
    for query in ("", "?limit=5000"):
        body = api.get(f"/volume/v3/{PROJECT_ID}/volumes{query}").get_json()
        assert len(body["volumes"]) == MAX_PAGE, query
        assert body["volumes_links"][0]["rel"] == "next"
    assert len(api.get(f"/volume/v3/{PROJECT_ID}/volumes?limit=2").get_json()["volumes"]) == 2
