"""A small authenticated HTTP client for tests and the state machine.

It logs in through Keystone v3 (password, project scope), finds the compute
and image endpoints in the catalog, and sends JSON requests with ``requests``,
so it works the same against fakeecs and against a real OpenStack/ECS cloud.
"""

from urllib.parse import urlsplit

import requests

COMPUTE = "compute"
IMAGE = "image"


def password_auth(user="fakeecs", password=None, project="fakeecs", domain="Default"):
    """The body of a Keystone v3 password login scoped to ``project`` (by name), as every
    OpenStack client sends it; the password defaults to the user's name (fakeecs's worlds)."""
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": user,
                        "password": user if password is None else password,
                        "domain": {"name": domain},
                    }
                },
            },
            "scope": {"project": {"name": project, "domain": {"name": domain}}},
        }
    }


class Client:
    """``client.compute("GET", "/servers/detail")`` / ``client.image("GET", "/v2/images")``."""

    def __init__(
        self,
        auth_url,
        username,
        password,
        project_name,
        domain_name="Default",
        region=None,
        microversion="2.60",
        timeout=30.0,
        verify=True,
        session=None,
    ):
        self.auth_url = auth_url.rstrip("/")
        self.username = username
        self.password = password
        self.project_name = project_name
        self.domain_name = domain_name
        self.region = region
        self.microversion = microversion
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.verify = verify
        host = urlsplit(self.auth_url).hostname or ""
        if session is None and (host in ("localhost", "::1") or host.startswith("127.")):
            # loopback: no proxy from the environment may intercept it (and it is faster)
            self.session.trust_env = False
        self.token = None
        self.project_id = None
        self.catalog = []
        self.endpoints = {}

    # -- auth ------------------------------------------------------------------
    def login(self):
        body = password_auth(self.username, self.password, self.project_name, self.domain_name)
        response = self.session.post(
            self.auth_url + "/auth/tokens", json=body, timeout=self.timeout
        )
        if response.status_code != 201:
            raise RuntimeError(
                f"login to {self.auth_url} failed: {response.status_code} {response.text[:300]}"
            )
        self.token = response.headers["X-Subject-Token"]
        token = response.json()["token"]
        self.project_id = token["project"]["id"]
        self.catalog = token.get("catalog", [])
        self.endpoints = {}
        return self

    def endpoint(self, service_type):
        if self.token is None:
            self.login()
        if service_type not in self.endpoints:
            for entry in self.catalog:
                if entry.get("type") != service_type:
                    continue
                for endpoint in entry.get("endpoints", []):
                    if endpoint.get("interface") != "public":
                        continue
                    if self.region and endpoint.get("region_id", endpoint.get("region")) not in (
                        self.region,
                        None,
                    ):
                        continue
                    self.endpoints[service_type] = endpoint["url"].rstrip("/")
                    break
                if service_type in self.endpoints:
                    break
            else:
                raise LookupError(f"no public {service_type} endpoint in the catalog")
        return self.endpoints[service_type]

    # -- requests ---------------------------------------------------------------
    def request(
        self, method, service, path, *, json=None, headers=None, microversion=None, **kwargs
    ):
        if self.token is None:
            self.login()
        headers = dict(headers or {})
        headers.setdefault("X-Auth-Token", self.token)
        headers.setdefault("Accept", "application/json")
        if service == COMPUTE:
            version = microversion or self.microversion
            if version:
                headers.setdefault("OpenStack-API-Version", f"compute {version}")
        url = self.endpoint(service) + path
        return self.session.request(
            method, url, json=json, headers=headers, timeout=self.timeout, **kwargs
        )

    def compute(self, method, path, **kwargs):
        return self.request(method, COMPUTE, path, **kwargs)

    def image(self, method, path, **kwargs):
        return self.request(method, IMAGE, path, **kwargs)

    # -- conveniences -------------------------------------------------------------
    def create_server(self, name, image_ref, flavor_ref, zone=None, networks="auto", **extra):
        server = {
            "name": name,
            "imageRef": image_ref,
            "flavorRef": flavor_ref,
            "networks": networks,
        }
        if zone is not None:
            server["availability_zone"] = zone
        server.update(extra)
        return self.compute("POST", "/servers", json={"server": server})

    def server_action(self, server_id, body, **kwargs):
        return self.compute("POST", f"/servers/{server_id}/action", json=body, **kwargs)

    def create_image(self, server_id, name, metadata=None, **kwargs):
        spec = {"name": name}
        if metadata is not None:
            spec["metadata"] = metadata
        return self.server_action(server_id, {"createImage": spec}, **kwargs)

    def get_server(self, server_id):
        return self.compute("GET", f"/servers/{server_id}")

    def list_servers(self):
        """Every server of the project (follows pagination)."""
        found, path = [], "/servers/detail?limit=100"
        while path:
            response = self.compute("GET", path)
            response.raise_for_status()
            body = response.json()
            found += body["servers"]
            path = None
            for link in body.get("servers_links", []):
                if link.get("rel") == "next" and body["servers"]:
                    path = f"/servers/detail?limit=100&marker={body['servers'][-1]['id']}"
        return found

    def get_image(self, image_id):
        return self.image("GET", f"/v2/images/{image_id}")

    def list_images(self, **filters):
        """Every image matching ``filters`` (follows pagination)."""
        found, marker = [], None
        while True:
            params = dict(filters, limit=100)
            if marker:
                params["marker"] = marker
            response = self.image("GET", "/v2/images", params=params)
            response.raise_for_status()
            body = response.json()
            found += body["images"]
            if not body.get("next") or not body["images"]:
                return found
            marker = body["images"][-1]["id"]

    def delete_server(self, server_id):
        return self.compute("DELETE", f"/servers/{server_id}")

    def delete_image(self, image_id):
        return self.image("DELETE", f"/v2/images/{image_id}")

    def close(self):
        self.session.close()
