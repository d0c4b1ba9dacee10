"""What a server says about itself: name and description, metadata, tags, addresses.

The compute room's calls around a server that are not lifecycle: ``PUT
/servers/{id}``, server metadata, server tags (2.26+), ``/ips`` and the flavor
extra specs a client reads to show a flavor.  Their state rules are the declared
ones of :mod:`fakeecs.model.instance_checks`; none of them changes an image
(``createImage`` copies the base image's properties, never server metadata or
tags, as Nova does).
"""

import re
from collections.abc import Iterable
from typing import Any

from .cloud import Room, operation
from .entities import Flavor, Server
from .errors import Invalid, NotFound, OverQuota
from .instance_checks import check_instance
from .policy import Context, authorize

#: Nova's ``metadata_items`` quota (128 passes, 129 fails)
METADATA_ITEMS_QUOTA = 128
#: ``nova.objects.instance.MAX_TAG_COUNT`` and ``nova.objects.tag.MAX_TAG_LENGTH``
MAX_TAG_COUNT = 50
MAX_TAG_LENGTH = 60
TAG_PATTERN = "^[^,/]*$"
_TAG = re.compile(TAG_PATTERN)
#: a keyword for "leave this field as it is"
UNSET: Any = object()


def tag_error(tag: Any) -> str | None:
    """Why ``tag`` breaks Nova's tag rule (jsonschema's words), or ``None``."""
    if not isinstance(tag, str):
        return f"{tag!r} is not of type 'string'"
    if not tag:
        return f"{tag!r} is too short"
    if len(tag) > MAX_TAG_LENGTH:
        return f"{tag!r} is too long"
    if not _TAG.match(tag):
        return f"{tag!r} does not match '{TAG_PATTERN}'"
    return None


def check_tags(tags: Iterable[str]) -> list[str]:
    """``tags`` without duplicates (first kept), refused beyond the per-server limit."""
    unique = list(dict.fromkeys(tags))
    if len(unique) > MAX_TAG_COUNT:
        raise Invalid(
            f"The number of tags exceeded the per-server limit {MAX_TAG_COUNT}", rule="tag_count"
        )
    return unique


def check_metadata_quota(metadata: dict[str, Any]) -> None:
    if len(metadata) > METADATA_ITEMS_QUOTA:
        raise OverQuota(
            f"Maximum number of metadata items exceeds {METADATA_ITEMS_QUOTA}",
            rule="metadata_items",
        )


class ServerMetaMixin(Room):
    """Update, metadata, tags and addresses of servers; flavor extra specs."""

    # -- PUT /servers/{id} ----------------------------------------------------------

    @operation
    def update_server(
        self,
        context: Context,
        server_id: str,
        *,
        name: str | None = UNSET,
        description: str | None = UNSET,
        access_ipv4: str | None = UNSET,
        access_ipv6: str | None = UNSET,
        disk_config: str | None = UNSET,
    ) -> Server:
        """Nova's server update: no lock and no state check, policy after the lookup."""
        server: Server = self._server(context, server_id)
        authorize(context, "os_compute_api:servers:update", write=True)
        changes = {
            "name": name,
            "description": description,
            "access_ipv4": access_ipv4,
            "access_ipv6": access_ipv6,
            "disk_config": disk_config,
        }
        for attr, value in changes.items():
            if value is not UNSET:
                setattr(server, attr, value)
        if any(value is not UNSET for value in changes.values()):
            server.updated_at = self.now()
        return server

    # -- metadata ------------------------------------------------------------------

    @operation
    def get_server_metadata(self, context: Context, server_id: str) -> dict[str, str]:
        authorize(context, "os_compute_api:server-metadata:index", write=False)
        return dict(self._server(context, server_id).metadata)

    @operation
    def get_server_metadata_item(self, context: Context, server_id: str, key: str) -> str:
        authorize(context, "os_compute_api:server-metadata:show", write=False)
        metadata: dict[str, str] = self._server(context, server_id).metadata
        if key not in metadata:
            raise NotFound("metadata", key, "Metadata item was not found")
        return metadata[key]

    @operation
    def update_server_metadata(
        self,
        context: Context,
        server_id: str,
        items: dict[str, str],
        *,
        replace: bool = False,
        rule: str = "create",
    ) -> dict[str, str]:
        """Merge ``items`` into the metadata (or ``replace`` it); returns the result.

        ``rule`` names the policy: ``create`` (POST), ``update_all`` (PUT) or
        ``update`` (PUT of one key).
        """
        authorize(context, f"os_compute_api:server-metadata:{rule}", write=True)
        server: Server = self._server(context, server_id)
        check_instance(context, server, "update metadata")
        merged: dict[str, str] = dict(items) if replace else {**server.metadata, **items}
        check_metadata_quota(merged)
        server.metadata = merged
        return dict(merged)

    @operation
    def delete_server_metadata_item(self, context: Context, server_id: str, key: str) -> None:
        authorize(context, "os_compute_api:server-metadata:delete", write=True)
        server: Server = self._server(context, server_id)
        if key not in server.metadata:
            raise NotFound("metadata", key, "Metadata item was not found")
        check_instance(context, server, "delete metadata")
        del server.metadata[key]

    # -- tags (2.26+) ----------------------------------------------------------------

    def _tagged_server(self, context: Context, server_id: str) -> Server:
        """The server for a tags call: an id Nova never had has no cell mapping."""
        if server_id not in self.servers and server_id not in self.deleted_servers:
            raise NotFound("server", server_id, f"Instance {server_id} has no mapping to a cell.")
        server: Server = self._server(context, server_id)
        return server

    @operation
    def list_server_tags(self, context: Context, server_id: str) -> list[str]:
        authorize(context, "os_compute_api:os-server-tags:index", write=False)
        return list(self._tagged_server(context, server_id).tags)

    @operation
    def has_server_tag(self, context: Context, server_id: str, tag: str) -> None:
        """``GET /tags/{tag}``; raises ``NotFound`` when the server lacks it."""
        authorize(context, "os_compute_api:os-server-tags:show", write=False)
        if tag not in self._tagged_server(context, server_id).tags:
            raise NotFound("tag", tag, f"Server {server_id} has no tag '{tag}'")

    @operation
    def add_server_tag(self, context: Context, server_id: str, tag: str) -> bool:
        """Add one tag; returns whether it is new.  State first, then the tag rule."""
        authorize(context, "os_compute_api:os-server-tags:update", write=True)
        server = self._tagged_server(context, server_id)
        check_instance(context, server, "update tag")
        problem = tag_error(tag)
        if problem:
            raise Invalid(
                f"Tag '{tag}' is invalid. It must be a non empty string without "
                f"characters '/' and ','. Validation error message: {problem}",
                rule="tag",
            )
        if len(server.tags) >= MAX_TAG_COUNT:
            raise Invalid(
                f"The number of tags exceeded the per-server limit {MAX_TAG_COUNT}",
                rule="tag_count",
            )
        if tag in server.tags:
            return False
        server.tags.append(tag)
        return True

    @operation
    def replace_server_tags(self, context: Context, server_id: str, tags: list[str]) -> list[str]:
        authorize(context, "os_compute_api:os-server-tags:update_all", write=True)
        server = self._tagged_server(context, server_id)
        check_instance(context, server, "update tags")
        server.tags = check_tags(tags)
        return list(server.tags)

    @operation
    def delete_server_tag(self, context: Context, server_id: str, tag: str) -> None:
        authorize(context, "os_compute_api:os-server-tags:delete", write=True)
        server = self._tagged_server(context, server_id)
        check_instance(context, server, "delete tag")
        if tag not in server.tags:
            raise NotFound("tag", tag, f"Instance {server_id} has no tag '{tag}'")
        server.tags.remove(tag)

    @operation
    def delete_server_tags(self, context: Context, server_id: str) -> None:
        authorize(context, "os_compute_api:os-server-tags:delete_all", write=True)
        server = self._tagged_server(context, server_id)
        check_instance(context, server, "delete tags")
        server.tags = []

    # -- addresses ------------------------------------------------------------------

    @operation
    def server_addresses(
        self,
        context: Context,
        server_id: str,
        network: str | None = None,
    ) -> dict[str, list[dict[str, Any]]] | list[dict[str, Any]]:
        """``{label: [{"version", "addr"}]}``; with ``network``, that label's list only."""
        authorize(context, "os_compute_api:ips:" + ("show" if network else "index"), write=False)
        server: Server = self._server(context, server_id)
        plain = {
            label: [{"version": ip["version"], "addr": ip["addr"]} for ip in ips]
            for label, ips in server.addresses.items()
        }
        if network is None:
            return plain
        if network not in plain:
            raise NotFound("network", network, "Instance is not a member of specified network")
        return plain[network]

    # -- flavor extra specs (read) -----------------------------------------------------

    def _visible_flavor(self, context: Context, flavor_id: str) -> Flavor:
        flavor = self.flavors.get(flavor_id)
        if flavor is None or not (flavor.is_public or context.is_admin):
            raise NotFound("flavor", flavor_id, f"Flavor {flavor_id} could not be found.")
        return flavor

    @operation
    def get_flavor_extra_specs(self, context: Context, flavor_id: str) -> dict[str, str]:
        authorize(context, "os_compute_api:os-flavor-extra-specs:index", write=False)
        return dict(self._visible_flavor(context, flavor_id).extra_specs)

    @operation
    def get_flavor_extra_spec(self, context: Context, flavor_id: str, key: str) -> str:
        authorize(context, "os_compute_api:os-flavor-extra-specs:show", write=False)
        specs: dict[str, str] = self._visible_flavor(context, flavor_id).extra_specs
        if key not in specs:
            raise NotFound(
                "extra_spec", key, f"Flavor {flavor_id} has no extra specs with key {key}."
            )
        return specs[key]
