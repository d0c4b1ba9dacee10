"""Servers: create, list, show, delete and the power/lock actions."""
import re

from . import provenance, transitions
from .cloud import operation
from .entities import Server
from .errors import Conflict, Invalid, NotFound
from .policy import authorize


def conflict(action, server_id, attr, state):
    """Nova's ``InstanceInvalidState`` as a domain error."""
    return Conflict(f"Cannot '{action}' instance {server_id} while it is in {attr} {state}",
                    action=action, attr=attr, state=state, server_id=server_id)


class ComputeMixin:
    """The compute room of :class:`~fakeecs.model.Cloud`."""

    # -- lookups -------------------------------------------------------------

    def _server(self, context, server_id):
        server = self.servers.get(server_id)
        if server is None or (server.project_id != context.project_id and not context.is_admin):
            raise NotFound("server", server_id, f"Instance {server_id} could not be found.")
        return server

    @operation
    def get_server(self, context, server_id):
        self.touch("server", server_id)
        return self._server(context, server_id)

    @operation
    def list_servers(self, context, *, name=None, status=None, limit=None, marker=None,
                     all_projects=False):
        """Servers newest first; ``name`` is a regular expression as in Nova."""
        self.touch("server", (s.id for s in self.servers if s.project_id == context.project_id))
        pattern = re.compile(name) if name else None
        wanted = status.upper() if status else None

        def keep(server):
            if server.project_id != context.project_id and not (all_projects and context.is_admin):
                return False
            if pattern is not None and not pattern.search(server.name):
                return False
            if wanted is not None and transitions.server_status(server.vm_state, server.task_state) != wanted:
                return False
            return True

        if marker is not None and marker not in self.servers:
            raise Invalid(f"marker [{marker}] not found", rule="marker")
        return self.servers.page(marker=marker, limit=limit, keep=keep)

    # -- create ----------------------------------------------------------------

    @operation
    def create_server(self, context, *, name, flavor_id, image_id=None, availability_zone=None,
                      metadata=None, networks="auto", description=None, key_name=None,
                      block_devices=None):
        """Start building a server; returns it in ``building``/``scheduling``."""
        authorize(context, "os_compute_api:servers:create", write=True)
        # an image-to-local mapping is the image itself (how the openstack CLI boots)
        block_devices = [bd for bd in block_devices or ()
                         if not (bd.get("source_type") == "image"
                                 and bd.get("destination_type", "local") == "local")]
        flavor = self.flavors.get(flavor_id)
        if flavor is None:
            raise Invalid(f"Flavor {flavor_id} could not be found.", rule="flavor")
        image = None
        if image_id:
            image = self._image_for_boot(context, image_id)
            if image.min_ram and flavor.ram < image.min_ram:
                raise Invalid("Flavor's memory is too small for requested image.", rule="min_ram")
        boot_sources = [image] if image is not None else []
        boot_sources += self._boot_images_of(context, block_devices or [])
        zone_name = provenance.boot_zone(boot_sources, availability_zone,
                                         default=self.default_zone())
        self.require_zone(zone_name)
        now = self.now()
        server = Server(id=self.ids.uuid(), name=name, project_id=context.project_id,
                        user_id=context.user_id, availability_zone=zone_name,
                        flavor_id=flavor.id, created_at=now, updated_at=now,
                        seq=self.next_seq(), image_id=image.id if image is not None and not block_devices else "",
                        metadata=dict(metadata or {}), description=description, key_name=key_name)
        if image is not None:
            server.system_metadata = provenance.inherited_image_meta(image, flavor)
        server.addresses = self._allocate_addresses(server, networks)
        if block_devices:
            self._attach_boot_volumes(context, server, block_devices)
        self.servers.add(server)
        self.start_job("server_build", "server", server.id, ["spawning", "active"])
        return server

    def _image_for_boot(self, context, image_id):
        image = self.images.get(image_id)
        if image is None or not self._image_visible(context, image):
            raise Invalid(f"Image {image_id} could not be found.", rule="image")
        if image.status != "active":
            raise Invalid(f"Image {image_id} is not active.", rule="image_status")
        provenance.check_system_disk(image)
        return image

    def _boot_images_of(self, context, block_devices):
        """Images that block devices would be made from (overridden by storage)."""
        return []

    def _attach_boot_volumes(self, context, server, block_devices):
        raise Invalid("Block device mapping is not supported.", rule="block_device_mapping")

    def default_zone(self):
        return next(iter(self.availability_zones))

    def _allocate_addresses(self, server, networks):
        if networks == "none":
            return {}
        octet = (server.seq % 250) + 2
        mac = "fa:16:3e:%02x:%02x:%02x" % ((server.seq >> 16) & 255, (server.seq >> 8) & 255, server.seq & 255)
        return {"fakeecs-net": [{"version": 4, "addr": f"192.168.0.{octet}",
                                 "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": mac}]}

    def _step_server_build(self, job, step, at):
        server = self.servers.get(job.target_id)
        if server is None or server.vm_state != "building":
            return
        if step == "spawning":
            server.task_state = "spawning"
        else:
            self.set_server_state(server, "active", at=at)
            server.launched_at = at
        server.updated_at = at

    def set_server_state(self, server, vm_state, *, at=None, task_state=None, fault=None):
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
    def server_action(self, context, server_id, action):
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

    def _step_server_action(self, job, step, at):
        server = self.servers.get(job.target_id)
        if server is None:
            return
        _, task, target = transitions.SERVER_ACTIONS[job.data["action"]]
        if server.task_state != task:
            return
        self.set_server_state(server, target, at=at)

    def _check_lock(self, context, server):
        if server.locked and not context.is_admin:
            raise Conflict(f"Instance {server.id} is locked", rule="locked", server_id=server.id)

    @operation
    def set_server_lock(self, context, server_id, locked):
        rule = "os_compute_api:os-lock-server:" + ("lock" if locked else "unlock")
        authorize(context, rule, write=True)
        server = self._server(context, server_id)
        server.locked = bool(locked)
        server.updated_at = self.now()
        return server

    # -- delete ----------------------------------------------------------------

    @operation
    def delete_server(self, context, server_id):
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

    def _step_server_delete(self, job, step, at):
        server = self.servers.get(job.target_id)
        if server is None:
            return
        self.cancel_jobs("server", server.id)
        self._release_server_volumes(server)
        server.vm_state = "deleted"
        server.task_state = None
        server.terminated_at = at
        self.servers.remove(server.id)

    def _release_server_volumes(self, server):
        """Detach (and maybe delete) the server's volumes; storage overrides this."""
