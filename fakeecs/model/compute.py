"""Servers: create, list, show, delete and the power/lock actions.

Deleted servers are kept as tombstones in ``deleted_servers`` (Nova keeps its
soft-deleted rows): admins list them with ``deleted=True``, everyone sees them in
``changes-since`` lists, and a deleted server is a valid list marker.
"""

import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from . import provenance, transitions
from .cloud import operation
from .entities import Flavor, Image, Job, Server
from .errors import Forbidden, Invalid, NotFound
from .instance_checks import check_lock, invalid_state
from .pager import server_where
from .policy import Context, authorize, authorize_admin
from .server_filters import ANY_DELETION, DELETED_ONLY, LIVE_ONLY, ServerQuery, server_matches
from .servermeta import ServerMetaMixin, check_metadata_quota, check_tags
from .store import Clause, Collection

#: Nova's ``InstanceInvalidState`` (kept under its old name for the other rooms)
conflict = invalid_state


def generated_admin_pass(server_id: str) -> str:
    """The ``adminPass`` Nova answers when the client sent none (12 characters).

    Derived from the server id, not drawn from the seeded id stream, so that
    the ids made after a create do not depend on whether ``adminPass`` was sent.
    """
    return hashlib.sha256(f"adminPass:{server_id}".encode()).hexdigest()[:12]


class ComputeMixin(ServerMetaMixin):
    """The compute room of :class:`~fakeecs.model.Cloud`.

    Servers' disks are the storage room's (:class:`~fakeecs.model.storage.StorageMixin`);
    compute calls its named steps at declared points and overrides nothing of it:

    * ``create_server``: :meth:`boot_devices` first (a snapshot image's mapping,
      the AZ of existing disks), :meth:`_boot_images_of` for the AZ rule, and
      :meth:`_attach_boot_volumes` before the server is stored;
    * the build reaching ``spawning``: :meth:`_build_failure` makes and attaches
      the disks, or says why the build fails;
    * a deletion's end: :meth:`_release_server_volumes`.
    """

    def _init_stores(self) -> None:
        super()._init_stores()
        self.deleted_servers = Collection()
        self.register_store("deleted_servers", Server)

    # -- lookups -------------------------------------------------------------

    def _server(self, context: Context, server_id: str) -> Server:
        server: Server | None = self.servers.get(server_id)
        if server is None or (server.project_id != context.project_id and not context.is_admin):
            raise NotFound("server", server_id, f"Instance {server_id} could not be found.")
        return server

    @operation
    def get_server(self, context: Context, server_id: str) -> Server:
        self.touch("server", server_id)
        return self._server(context, server_id)

    @operation
    def list_servers(
        self,
        context: Context,
        query: ServerQuery | None = None,
        *,
        name: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
        all_projects: bool = False,
        deleted: bool | None = None,
        view: str = "index",
    ) -> tuple[list[Server], bool]:
        """Servers newest first, as ``(servers, more)``.

        ``query`` is a :class:`ServerQuery` with the filters (``name``, a regular
        expression as in Nova, and ``status`` are shortcuts for it).  The model
        adds who may see what: ``all_projects`` is for admins only (policy
        ``os_compute_api:servers:<view>:get_all_tenants``), ``deleted`` is
        dropped for others, and without ``deleted`` a ``changes-since`` list
        includes deleted servers (Nova's ``_get_servers``).
        """
        query = (
            dataclasses.replace(query)
            if query is not None
            else ServerQuery(
                name=re.compile(name) if name else None, status=status.upper() if status else None
            )
        )
        if all_projects:
            authorize_admin(context, f"os_compute_api:servers:{view}:get_all_tenants")
        else:
            query.project_id = context.project_id
        self.touch(
            "server",
            lambda: [
                s.id
                for s in self.servers
                if query.project_id is None or s.project_id == query.project_id
            ],
        )
        if not context.is_admin:
            deleted = None
        if query.status == "DELETED":
            if not context.is_admin:
                raise Forbidden(
                    "Only administrators may list deleted instances", rule="list_deleted"
                )
            deleted = True
        if deleted is not None:
            query.deleted = DELETED_ONLY if deleted else LIVE_ONLY
        elif query.changes_since is not None:
            query.deleted = ANY_DELETION
        where = server_where(
            query.project_id,
            status=query.status,
            pattern=query.name,
            distinct_names=lambda: self.servers.distinct("name"),
        )
        return self._server_page(
            lambda server: server_matches(server, query),
            marker,
            limit,
            with_deleted=query.wants_deleted,
            where=where,
        )

    def _server_page(
        self,
        keep: Callable[[Server], bool],
        marker: str | None,
        limit: int | None,
        *,
        with_deleted: bool,
        where: Iterable[Clause] = (),
    ) -> tuple[list[Server], bool]:
        """A page of live servers (and tombstones when asked) after ``marker``.

        Live servers page through their index; a list that also walks the
        tombstones, or whose marker is a deleted server, merges both in
        creation order.
        """
        if marker is not None and marker not in self.servers and marker not in self.deleted_servers:
            raise Invalid(f"marker [{marker}] not found", rule="marker")
        if not with_deleted and (marker is None or marker in self.servers):
            return self.servers.page(marker=marker, limit=limit, keep=keep, where=where)
        both = Collection()
        for server in list(self.servers) + list(self.deleted_servers):
            if server.id == marker or keep(server):
                both.add(server)
        return both.page(marker=marker, limit=limit)

    # -- create ----------------------------------------------------------------

    @operation
    def create_server(
        self,
        context: Context,
        *,
        name: str,
        flavor_id: str,
        image_id: str | None = None,
        availability_zone: str | None = None,
        metadata: dict[str, str] | None = None,
        networks: Any = "auto",
        description: str | None = None,
        key_name: str | None = None,
        block_devices: list[dict[str, Any]] | None = None,
        tags: Iterable[str] | None = None,
        user_data: str | None = None,
        config_drive: bool = False,
        access_ipv4: str | None = "",
        access_ipv6: str | None = "",
        disk_config: str | None = "MANUAL",
    ) -> Server:
        """Start building a server; returns it in ``building``/``scheduling``.

        ``user_data`` is kept as sent (base64 text); ``config_drive`` is a bool.
        """
        authorize(context, "os_compute_api:servers:create", write=True)
        # storage: a snapshot image's own mapping, and the AZ of existing disks
        block_devices, availability_zone = self.boot_devices(
            context, image_id, availability_zone, block_devices
        )
        if not image_id and not block_devices:
            raise Invalid("Missing imageRef attribute", rule="image")
        check_metadata_quota(metadata or {})
        tags = check_tags(tags or ())
        # an image-to-local mapping is the image itself (how the openstack CLI boots)
        block_devices = [
            bd
            for bd in block_devices or ()
            if not (
                bd.get("source_type") == "image" and bd.get("destination_type", "local") == "local"
            )
        ]
        flavor = self.flavors.get(flavor_id)
        if flavor is None:
            raise Invalid(f"Flavor {flavor_id} could not be found.", rule="flavor")
        image = None
        if image_id:
            image = self._image_for_boot(context, image_id)
            if image.min_ram and flavor.ram < image.min_ram:
                raise Invalid("Flavor's memory is too small for requested image.", rule="min_ram")
        boot_sources = [image] if image is not None else []
        boot_sources += self._boot_images_of(context, block_devices or [])  # storage
        zone_name = provenance.boot_zone(
            boot_sources, availability_zone, default=self.default_zone()
        )
        self.require_zone(zone_name)
        server = self.new_server(
            name=name,
            project_id=context.project_id,
            user_id=context.user_id,
            flavor=flavor,
            zone=zone_name,
            image=image,
            networks=networks,
            image_id=image.id if image is not None and not block_devices else "",
            metadata=dict(metadata or {}),
            description=description,
            key_name=key_name,
            tags=tags,
            user_data=user_data,
            config_drive="True" if config_drive else "",
            access_ipv4=access_ipv4 or "",
            access_ipv6=access_ipv6 or "",
            disk_config=disk_config or "MANUAL",
        )
        if block_devices:  # storage: plan, check, then make every disk
            self._attach_boot_volumes(context, server, block_devices)
        self.servers.add(server)
        self.start_job("server_build", "server", server.id, ["spawning", "active"])
        return server

    def new_server(
        self,
        *,
        name: str,
        project_id: str,
        user_id: str,
        flavor: Flavor,
        zone: str,
        image: Image | None = None,
        image_id: str | None = None,
        networks: Any = "auto",
        server_id: str | None = None,
        created_at: float | None = None,
        vm_state: str = "building",
        task_state: str | None = "scheduling",
        **attributes: Any,
    ) -> Server:
        """The one factory of servers (Nova, ECS and scenarios); the caller stores it.

        The server inherits ``image``'s metadata (``system_metadata``) and boots
        from it unless ``image_id`` says otherwise ("" for a volume-backed
        server); its power state is the one ``vm_state`` settles in and its
        addresses come from ``networks``.  ``attributes`` are further
        :class:`Server` fields (``hostname`` defaults to the name).
        """
        now = self.now() if created_at is None else created_at
        attributes.setdefault("hostname", name)
        server = Server(
            id=server_id or self.ids.uuid(),
            name=name,
            project_id=project_id,
            user_id=user_id,
            availability_zone=zone,
            flavor_id=flavor.id,
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
            image_id=(image.id if image is not None else "") if image_id is None else image_id,
            vm_state=vm_state,
            task_state=task_state,
            power_state=transitions.SETTLED_POWER[vm_state],
            **attributes,
        )
        if image is not None:
            server.system_metadata = provenance.inherited_image_meta(image, flavor)
        server.addresses = self._allocate_addresses(server, networks)
        return server

    def _image_for_boot(self, context: Context, image_id: str) -> Image:
        image: Image | None = self.images.get(image_id)
        if image is None or not self._image_visible(context, image):
            raise Invalid(f"Image {image_id} could not be found.", rule="image")
        if image.status != "active":
            raise Invalid(f"Image {image_id} is not active.", rule="image_status")
        provenance.check_system_disk(image)
        return image

    def default_zone(self) -> str:
        return next(iter(self.availability_zones))

    def _allocate_addresses(self, server: Server, networks: Any) -> dict[str, Any]:
        """The addresses of a new server: the first :attr:`ADDRESS_PLANNERS` answer that is
        not None (the network room's VPC subnets), else Nova's one fake network."""
        for name in self.ADDRESS_PLANNERS:
            planned: dict[str, Any] | None = getattr(self, name)(server, networks)
            if planned is not None:
                return planned
        if networks == "none":
            return {}
        octet = (server.seq % 250) + 2
        mac = "fa:16:3e:%02x:%02x:%02x" % (
            (server.seq >> 16) & 255,
            (server.seq >> 8) & 255,
            server.seq & 255,
        )
        return {
            "fakeecs-net": [
                {
                    "version": 4,
                    "addr": f"192.168.0.{octet}",
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": mac,
                }
            ]
        }

    def _step_server_build(self, job: Job, step: str, at: float) -> None:
        server: Server | None = self.servers.get(job.target_id)
        if server is None or server.vm_state != "building":
            return
        if step == "spawning":
            failure = self._build_failure(server, at)  # storage: make and attach the disks
            if failure is not None:
                self.jobs.pop(job.id, None)
                self.set_server_state(
                    server, "error", at=at, fault={"code": 500, "message": failure, "created": at}
                )
                return
            server.task_state = "spawning"
        else:
            self.set_server_state(server, "active", at=at)
            server.launched_at = at
        server.updated_at = at

    def set_server_state(
        self,
        server: Server,
        vm_state: str,
        *,
        at: float | None = None,
        task_state: str | None = None,
        fault: dict[str, Any] | None = None,
    ) -> None:
        """Move a server along its transition table (task cleared unless given)."""
        transitions.check("server", server.vm_state, vm_state)
        server.vm_state = vm_state
        server.task_state = task_state
        server.power_state = transitions.SETTLED_POWER[vm_state]
        server.updated_at = self.now() if at is None else at
        if fault is not None:
            server.fault = fault

    # -- actions -------------------------------------------------------------

    @operation
    def server_action(self, context: Context, server_id: str, action: str) -> None:
        """``stop``, ``start``, ``pause``, ``unpause``, ``suspend``, ``resume``,
        ``reboot_soft`` or ``reboot_hard``."""
        api_name = "reboot" if action.startswith("reboot") else action
        authorize(context, f"os_compute_api:servers:{api_name}", write=True)
        server = self._server(context, server_id)
        self._check_lock(context, server)
        allowed, task, _ = transitions.SERVER_ACTIONS[action]
        if server.vm_state not in allowed:
            raise conflict(api_name, server_id, "vm_state", server.vm_state)
        if action == "reboot_hard":
            busy_ok = {None, "rebooting", "rebooting_hard", "powering-on", "powering-off"}
            if server.task_state not in busy_ok:
                raise conflict(api_name, server_id, "task_state", server.task_state)
        elif server.task_state is not None:
            raise conflict(api_name, server_id, "task_state", server.task_state)
        server.task_state = task
        server.updated_at = self.now()
        self.start_job("server_action", "server", server.id, ["done"], {"action": action})

    def _step_server_action(self, job: Job, step: str, at: float) -> None:
        server: Server | None = self.servers.get(job.target_id)
        if server is None:
            return
        _, task, target = transitions.SERVER_ACTIONS[job.data["action"]]
        if server.task_state != task:
            return
        self.set_server_state(server, target, at=at)

    def _check_lock(self, context: Context, server: Server) -> None:
        check_lock(context, server)

    @operation
    def set_server_lock(self, context: Context, server_id: str, locked: bool) -> Server:
        rule = "os_compute_api:os-lock-server:" + ("lock" if locked else "unlock")
        authorize(context, rule, write=True)
        server = self._server(context, server_id)
        server.locked = bool(locked)
        server.updated_at = self.now()
        return server

    # -- delete ----------------------------------------------------------------

    @operation
    def delete_server(self, context: Context, server_id: str) -> Server:
        authorize(context, "os_compute_api:servers:delete", write=True)
        server = self._server(context, server_id)
        self._check_lock(context, server)
        if server.task_state == "deleting":
            return server
        self.abandon_snapshots(server, self.now())
        server.task_state = "deleting"
        server.updated_at = self.now()
        self.cancel_jobs("server", server.id)
        self.start_job("server_delete", "server", server.id, ["deleted"])
        return server

    def _step_server_delete(self, job: Job, step: str, at: float) -> None:
        server: Server | None = self.servers.get(job.target_id)
        if server is None:
            return
        self.cancel_jobs("server", server.id)
        self._release_server_volumes(server)  # storage: detach, maybe delete
        server.vm_state = "deleted"
        server.task_state = None
        server.terminated_at = at
        server.updated_at = at
        self.servers.remove(server.id)
        self.deleted_servers.add(server)
