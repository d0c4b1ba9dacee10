"""Apply a scenario (a world: a validated dict) to a cloud.

The order is fixed so that references resolve: region, clock (so that every
timestamp is on the scenario's clock), zones, domains, projects, users, access
keys, flavors, images without a source server, servers, volumes (and their
attachments), volume snapshots, images made from servers (with their
provenance), transitions.  A reference names a resource by
name or id; a reference that does not resolve raises :class:`Invalid` naming
the scenario file, the key path and its line.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from . import provenance
from .clock import parse_time
from .devices import next_device
from .entities import (
    AccessKey,
    Domain,
    Flavor,
    Image,
    Project,
    Server,
    Snapshot,
    Subnet,
    User,
    Volume,
    Vpc,
)
from .errors import Invalid
from .factories import new_image
from .images import give_generated_data
from .store import Collection

if TYPE_CHECKING:
    from . import Cloud
    from .scenario import World

#: a key path in the scenario (for messages), and one entry of a list of the scenario
Path = tuple[Any, ...]
Spec = dict[str, Any]

#: the owner of public images that no project of the world owns
PLATFORM_OWNER = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
GiB = 1024**3
SERVER_MADE = provenance.SERVER_MADE


def apply_world(cloud: "Cloud", world: "Mapping[str, Any]", record: bool = True) -> None:
    """Add what ``world`` describes on top of ``cloud``'s current state.

    ``world`` is a :class:`fakeecs.model.scenario.World` or a plain dict (validated
    here).  With ``record``, a cloud that is still being built remembers the
    world so that ``cloud.reset()`` can rebuild it without re-reading files.
    """
    from . import scenario

    checked = world if isinstance(world, scenario.World) else scenario.validate(world)
    with cloud.lock:
        _apply_base(cloud, checked, 0)
        _Applier(cloud, checked).run()
        if record and hasattr(cloud, "note_start_world"):
            cloud.note_start_world(checked)


def _apply_base(cloud: "Cloud", world: "World", depth: int) -> None:
    """A scenario's ``base`` is applied first when it starts a world (no project yet)."""
    from . import scenario

    name = world.get("base")
    if not name:
        return
    where = world.where(("base",))
    if depth >= 8:
        raise Invalid(f"{where}: bases nest too deep (a cycle?)", rule="scenario")
    try:
        base = scenario.load(name)  # checked (and cached) even when it is not applied
    except (scenario.ScenarioError, FileNotFoundError) as error:
        raise Invalid(f"{where}: {error}", rule="scenario") from None
    if cloud.projects:
        return
    _apply_base(cloud, base, depth + 1)
    _Applier(cloud, base).run()


class _Applier:
    def __init__(self, cloud: "Cloud", world: "World") -> None:
        self.cloud = cloud
        self.world = world

    def fail(self, path: Path, message: str) -> NoReturn:
        where = self.world.where(path) if hasattr(self.world, "where") else ".".join(map(str, path))
        raise Invalid(f"{where}: {message}", rule="scenario", path=list(path))

    # -- lookups -----------------------------------------------------------------

    def project(self, ref: str | None, path: Path) -> Project:
        cloud = self.cloud
        if ref is None:  # the first project of the cloud (the base world's)
            if cloud.projects:
                first: Project = next(iter(cloud.projects.values()))
                return first
            self.fail(path, "no project: declare one under projects")
        found = cloud.find_project(project_id=ref) or cloud.find_project(name=ref)
        if found is None:
            self.fail(path, f"unknown project {ref!r}")
        return found

    def user(self, ref: str | None, project: Project, path: Path) -> User | None:
        users: dict[str, User] = self.cloud.users
        if ref is None:
            for user in users.values():
                if project.id in user.roles:
                    return user
            return None
        found = users.get(ref) or next((u for u in users.values() if u.name == ref), None)
        if found is None:
            self.fail(path, f"unknown user {ref!r}")
        return found

    def flavor(self, ref: str, path: Path) -> Flavor:
        flavors = self.cloud.flavors
        found = flavors.get(ref) or next((f for f in flavors.values() if f.name == ref), None)
        if found is None:
            self.fail(path, f"unknown flavor {ref!r}; known: {', '.join(flavors) or 'none'}")
        return found

    def _named(self, store: Collection, ref: str, kind: str, path: Path) -> Any:
        found = store.get(ref)
        if found is None:
            matches = [item for item in store if getattr(item, "name", None) == ref]
            if len(matches) > 1:
                self.fail(path, f"{len(matches)} {kind}s are named {ref!r}; use an id")
            found = matches[0] if matches else None
        if found is None:
            self.fail(path, f"unknown {kind} {ref!r}")
        return found

    def image(self, ref: str, path: Path) -> Image:
        image: Image = self._named(self.cloud.images, ref, "image", path)
        return image

    def server(self, ref: str, path: Path) -> Server:
        server: Server = self._named(self.cloud.servers, ref, "server", path)
        return server

    def volume(self, ref: str, path: Path) -> Volume:
        volume: Volume = self._named(self.cloud.volumes, ref, "volume", path)
        return volume

    def zone(self, name: str | None, path: Path) -> str:
        if name not in self.cloud.availability_zones:
            self.fail(
                path,
                f"unknown availability zone {name!r}; known: "
                f"{', '.join(self.cloud.availability_zones) or 'none'}",
            )
        return name

    def time(self, spec: Spec, key: str) -> float:
        return parse_time(spec[key]) if spec.get(key) is not None else self.cloud.now()

    def new_id(self, store: Collection, spec: Spec, kind: str, path: Path) -> str:
        resource_id = spec.get("id") or self.cloud.ids.uuid()
        if resource_id in store:
            self.fail(path + ("id",), f"a {kind} with id {resource_id} already exists")
        return resource_id

    # -- the world ---------------------------------------------------------------------

    def run(self) -> None:
        cloud, world = self.cloud, self.world
        if "region" in world:
            cloud.region = world["region"]
        if "token_ttl" in world:
            cloud.token_ttl = world["token_ttl"]
        clock = world.get("clock")
        if clock:  # first, so that every timestamp of the world is on the scenario's clock
            cloud.clock.set(
                now=clock.get("now"),
                mode=clock.get("mode"),
                speed=clock.get("speed"),
                auto=clock.get("auto"),
            )
        for name in world.get("availability_zones") or []:
            if isinstance(name, dict):
                cloud.add_availability_zone(name["name"], name.get("available", True))
            else:
                cloud.add_availability_zone(name)
        for spec in world.get("domains") or []:
            if cloud.find_domain(name=spec["name"]) is None:
                cloud.add_domain(spec["name"], spec.get("id"))
        for spec in world.get("projects") or []:
            domain = _domain(cloud, spec.get("domain", "Default"))
            if cloud.find_project(name=spec["name"], domain_id=domain.id) is None:
                cloud.add_project(spec["name"], domain.id, spec.get("id"))
        for index, spec in enumerate(world.get("users") or []):
            domain = _domain(cloud, spec.get("domain", "Default"))
            roles = {}
            for project_name, names in (spec.get("roles") or {}).items():
                project = self.project(project_name, ("users", index, "roles", project_name))
                roles[project.id] = list(names)
            cloud.add_user(
                spec["name"], spec.get("password", spec["name"]), domain.id, roles, spec.get("id")
            )
        for index, spec in enumerate(world.get("access_keys") or []):
            self.access_key(index, spec)
        for spec in world.get("flavors") or []:
            cloud.add_flavor(**spec)
        for index, spec in enumerate(world.get("vpcs") or []):
            self.vpc_from(index, spec)
        for index, spec in enumerate(world.get("subnets") or []):
            self.subnet_from(index, spec)
        images = list(enumerate(world.get("images") or []))
        for index, spec in images:
            if (spec.get("origin") or {}).get("kind") not in SERVER_MADE:
                self.base_image(index, spec)
        servers = [
            self.server_from(index, spec) for index, spec in enumerate(world.get("servers") or [])
        ]
        for index, spec in enumerate(world.get("volumes") or []):
            self.volume_from(index, spec)
        for index, server in servers:
            if not server.image_id and not server.volume_backed:
                self.fail(
                    ("servers", index),
                    "a server needs an image, or a volume attached with boot_index 0",
                )
            self.start_build(server)
        for index, spec in enumerate(world.get("snapshots") or []):
            self.snapshot_from(index, spec)
        for index, spec in images:
            if (spec.get("origin") or {}).get("kind") in SERVER_MADE:
                self.server_image(index, spec)
        if world.get("transitions"):
            checker = getattr(cloud, "_check_transitions", None)
            try:
                checked = checker(world["transitions"]) if checker else dict(world["transitions"])
            except Invalid as error:
                self.fail(("transitions",), error.message.split(": ", 1)[-1])
            cloud.transitions.update(checked)

    def vpc_from(self, index: int, spec: Spec) -> Vpc:
        """A VPC of a project (the first project of the world by default)."""
        path = ("vpcs", index)
        project = self.project(spec.get("project"), path + ("project",))
        if spec.get("id") and spec["id"] in self.cloud.vpcs:
            self.fail(path + ("id",), f"a vpc with id {spec['id']} already exists")
        try:
            return self.cloud.add_vpc(
                project.id,
                spec["name"],
                spec["cidr"],
                vpc_id=spec.get("id"),
                description=spec.get("description", ""),
            )
        except Invalid as error:
            self.fail(path + ("cidr",), error.message)

    def subnet_from(self, index: int, spec: Spec) -> Subnet:
        """A subnet of a VPC of the world, inside its CIDR."""
        path = ("subnets", index)
        vpc = self._named(self.cloud.vpcs, spec["vpc"], "vpc", path + ("vpc",))
        if spec.get("availability_zone"):
            self.zone(spec["availability_zone"], path + ("availability_zone",))
        if spec.get("id") and spec["id"] in self.cloud.subnets:
            self.fail(path + ("id",), f"a subnet with id {spec['id']} already exists")
        try:
            return self.cloud.add_subnet(
                vpc,
                spec["name"],
                spec["cidr"],
                gateway_ip=spec.get("gateway_ip"),
                subnet_id=spec.get("id"),
                availability_zone=spec.get("availability_zone", ""),
                description=spec.get("description", ""),
            )
        except Invalid as error:
            self.fail(path + ("cidr",), error.message)

    def access_key(self, index: int, spec: Spec) -> None:
        path = ("access_keys", index)
        project = self.project(spec["project"], path + ("project",))
        user = self.user(spec.get("user"), project, path + ("user",))
        key = AccessKey(
            ak=spec["ak"],
            sk=spec["sk"],
            project_id=project.id,
            user_id=user.id if user is not None else None,
            status=spec.get("status", "active"),
            description=spec.get("description", ""),
            created_at=self.cloud.now(),
        )
        self.cloud.access_keys[key.ak] = key

    def base_image(self, index: int, spec: Spec) -> Image:
        cloud = self.cloud
        path = ("images", index)
        owner_ref = spec.get("owner")
        owner = None
        if owner_ref is not None:
            owner = cloud.find_project(name=owner_ref) or cloud.find_project(project_id=owner_ref)
        # images of no project in the world belong to the platform (public images on Huawei Cloud)
        owner_id = owner.id if owner is not None else (owner_ref or PLATFORM_OWNER)
        origin = dict(spec.get("origin") or {"kind": "base"})
        return self._image(path, spec, owner_id, origin, default_visibility="public")

    def _image(
        self,
        path: Path,
        spec: Spec,
        owner_id: str,
        origin: dict[str, Any],
        default_visibility: str,
        properties: dict[str, str] | None = None,
        **core: Any,
    ) -> Image:
        cloud = self.cloud
        now = self.time(spec, "created_at")
        props = dict(properties or {})
        props.update({k: _text(v) for k, v in (spec.get("properties") or {}).items()})
        values = {
            "min_disk": 0,
            "min_ram": 0,
            "size": None,
            "virtual_size": None,
            "checksum": None,
            "os_hash_algo": None,
            "os_hash_value": None,
        }
        values.update(core)
        for key in values:
            if key in spec:
                values[key] = spec[key]
        return new_image(
            cloud,
            image_id=self.new_id(cloud.images, spec, "image", path),
            name=spec["name"],
            owner=owner_id,
            origin=origin,
            status=spec.get("status", "active"),
            created_at=now,
            visibility=spec.get("visibility", default_visibility),
            protected=spec.get("protected", False),
            os_hidden=spec.get("os_hidden", False),
            disk_format=spec.get("disk_format", "qcow2"),
            container_format=spec.get("container_format", "bare"),
            tags=list(spec.get("tags", [])),
            properties=props,
            **values,
        )

    def server_image(self, index: int, spec: Spec) -> Image:
        """An image made from a server, with its provenance (origin)."""
        path = ("images", index)
        origin_spec = spec["origin"]
        kind = origin_spec["kind"]
        server = None
        if origin_spec.get("server"):
            server = self.server(origin_spec["server"], path + ("origin", "server"))
            extra = {"volume_backed": server.volume_backed} if kind == "nova_snapshot" else {}
            origin = provenance.from_server(kind, server, **extra)
            project_id = server.project_id
        else:
            zone = self.zone(
                origin_spec["availability_zone"], path + ("origin", "availability_zone")
            )
            project = self.project(origin_spec.get("project"), path + ("origin", "project"))
            origin = {
                "kind": kind,
                "server_id": origin_spec["server_id"],
                "availability_zone": zone,
                "project_id": project.id,
            }
            if kind == "nova_snapshot":
                origin["volume_backed"] = bool(origin_spec.get("volume_backed", False))
            project_id = project.id
        owner = (
            self.project(spec["owner"], path + ("owner",)).id if spec.get("owner") else project_id
        )
        properties, core = self.server_image_properties(kind, server, origin, project_id)
        generated = spec.get("status", "active") == "active" and "size" not in spec
        if generated:
            core["virtual_size"] = max(core.get("min_disk", 0), 1) * GiB
        image = self._image(path, spec, owner, origin, "private", properties, **core)
        if generated:
            give_generated_data(image)
        return image

    def server_image_properties(
        self, kind: str, server: Server | None, origin: dict[str, Any], project_id: str
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """``(properties, core fields)`` of a server-made image, as its API would make them.

        With the server (and its user) in the world, the rooms' own property
        builders decide: Nova's snapshot properties (``_snapshot_properties``, as
        the server's user) plus what the upload adds, or IMS's
        (``_system_properties``).  Without it, only what the origin says.
        """
        cloud = self.cloud
        user = cloud.users.get(server.user_id) if server is not None else None
        if kind == "nova_snapshot":
            core = {}
            if user is not None and server is not None:
                context = cloud._context(user.id, server.project_id)
                properties = cloud._snapshot_properties(context, server)
            elif server is not None:
                meta = server.system_metadata
                properties = dict(meta.get("properties", {}))
                properties["base_image_ref"] = meta.get("base_image_ref", server.image_id or "")
            else:
                properties = {}
            properties.update(
                {
                    "image_type": "snapshot",
                    "instance_uuid": origin["server_id"],
                    "image_location": "snapshot",
                    "image_state": "available",
                    "owner_id": project_id,
                }
            )
            if server is not None:
                meta = server.system_metadata
                properties["user_id"] = server.user_id
                core = {"min_disk": meta.get("min_disk", 0), "min_ram": meta.get("min_ram", 0)}
            return {k: _text(v) for k, v in properties.items()}, core
        if server is not None and kind in ("ims_system", "ims_whole"):
            return cloud._system_properties(server, whole=kind == "ims_whole"), {}
        properties = {"__imagetype": "private", "__image_source_type": "uds"}
        if kind == "ims_whole":
            properties["__whole_image"] = "true"
        return properties, {}

    def server_from(self, index: int, spec: Spec) -> tuple[int, Server]:
        cloud = self.cloud
        path = ("servers", index)
        project = self.project(spec.get("project"), path + ("project",))
        user = self.user(spec.get("user"), project, path + ("user",))
        flavor = self.flavor(spec["flavor"], path + ("flavor",))
        image = self.image(spec["image"], path + ("image",)) if spec.get("image") else None
        default_zone = next(iter(cloud.availability_zones), "")
        try:
            chosen = provenance.boot_zone(
                [image] if image else [], spec.get("availability_zone"), default=default_zone
            )
        except Invalid as error:
            self.fail(path + ("availability_zone",), error.message)
        if not chosen:
            self.fail(path, "no availability zone: declare availability_zones")
        zone = self.zone(chosen, path + ("availability_zone",))
        vm_state = spec.get("vm_state", "active")
        task_state = spec.get("task_state", "scheduling" if vm_state == "building" else None)
        now = self.time(spec, "created_at")
        server = cloud.new_server(
            server_id=self.new_id(cloud.servers, spec, "server", path),
            name=spec["name"],
            project_id=project.id,
            user_id=user.id if user is not None else "",
            zone=zone,
            flavor=flavor,
            created_at=now,
            image=image,
            vm_state=vm_state,
            task_state=task_state,
            locked=spec.get("locked", False),
            metadata=_texts(spec.get("metadata")),
            description=spec.get("description"),
            key_name=spec.get("key_name"),
            tags=list(spec.get("tags") or []),
        )
        if vm_state != "building":
            server.launched_at = self.time(spec, "launched_at") if spec.get("launched_at") else now
        fault = spec.get("fault")
        if vm_state == "error" or fault:
            if fault is None:
                fault = {"message": "the server went into error"}
            elif isinstance(fault, str):
                fault = {"message": fault}
            server.fault = {
                "code": fault.get("code", 500),
                "message": fault["message"],
                "details": fault.get("details", ""),
                "created": now,
            }
        cloud.servers.add(server)
        return index, server

    def start_build(self, server: Server) -> None:
        if server.vm_state == "building" and hasattr(self.cloud, "start_job"):
            self.cloud.start_job("server_build", "server", server.id, ["spawning", "active"])

    def volume_from(self, index: int, spec: Spec) -> Volume:
        cloud = self.cloud
        path = ("volumes", index)
        attach: Spec = spec.get("attached_to") or {}
        server = self.server(attach["server"], path + ("attached_to", "server")) if attach else None
        if spec.get("project"):
            project = self.project(spec["project"], path + ("project",))
        elif server is not None:
            project = cloud.projects[server.project_id]
        else:
            project = self.project(None, path + ("project",))
        zone = (
            spec.get("availability_zone")
            or (server.availability_zone if server else None)
            or next(iter(cloud.availability_zones), None)
        )
        zone = self.zone(zone, path + ("availability_zone",))
        if server is not None and zone != server.availability_zone:
            self.fail(
                path + ("availability_zone",),
                f"volume in {zone} cannot be attached to server {server.name} in "
                f"{server.availability_zone}",
            )
        image = self.image(spec["image"], path + ("image",)) if spec.get("image") else None
        if image is not None:
            try:
                if not (attach and attach.get("boot_index") == 0):
                    provenance.check_data_disk(image)
                elif server is not None:  # a boot volume: the server's AZ is the image's
                    provenance.boot_zone(
                        [image], server.availability_zone, default=server.availability_zone
                    )
            except Invalid as error:
                self.fail(path + ("image",), error.message)
        boot = bool(attach and attach.get("boot_index") == 0)
        now = self.time(spec, "created_at")
        size = spec["size"]
        if image is not None and image.min_disk and size < image.min_disk:
            self.fail(
                path + ("size",),
                f"{size} GiB is smaller than the image's min_disk {image.min_disk} GiB",
            )
        device: str | None = None
        if server is not None:
            used = {bd.get("device_name") for bd in server.block_devices}
            if boot and any(bd.get("boot_index") == 0 for bd in server.block_devices):
                self.fail(
                    path + ("attached_to", "boot_index"),
                    f"server {server.name} already has a boot volume",
                )
            device = attach.get("device") or next_device(used, boot=boot)
            if device is None:
                self.fail(
                    path + ("attached_to", "device"),
                    f"server {server.name} has no free device name",
                )
            if device in used:
                self.fail(
                    path + ("attached_to", "device"),
                    f"device {device} of server {server.name} is taken",
                )
        volume = cloud.new_volume(
            project.id,
            zone,
            size,
            volume_id=self.new_id(cloud.volumes, spec, "volume", path),
            name=spec.get("name"),
            description=spec.get("description"),
            volume_type=spec.get("volume_type"),
            metadata=_texts(spec.get("metadata")),
            image=image,
            status=spec.get("status", "in-use" if server is not None else "available"),
            created_at=now,
            bootable=spec.get("bootable", image is not None or boot),
            origin={"kind": "scenario"},
            timed=False,
        )
        if server is not None:
            volume.attachments = [
                {
                    "server_id": server.id,
                    "device": device,
                    "attachment_id": cloud.ids.uuid(),
                    "attached_at": now,
                }
            ]
            server.block_devices.append(
                {
                    "volume_id": volume.id,
                    "device_name": device,
                    "boot_index": attach.get("boot_index", 0 if boot else None),
                    "delete_on_termination": attach.get("delete_on_termination", boot),
                    "source_type": "volume",
                    "destination_type": "volume",
                    "disk_bus": None,
                    "device_type": "disk",
                    "volume_size": volume.size,
                }
            )
            if boot and device is not None:
                server.root_device_name = device
                if image is not None and not server.system_metadata:
                    flavor = cloud.flavors[server.flavor_id]
                    server.system_metadata = provenance.inherited_image_meta(image, flavor)
                    server.system_metadata["base_image_ref"] = ""
        return volume

    def snapshot_from(self, index: int, spec: Spec) -> Snapshot:
        cloud = self.cloud
        path = ("snapshots", index)
        volume = self.volume(spec["volume"], path + ("volume",))
        project = (
            self.project(spec["project"], path + ("project",))
            if spec.get("project")
            else cloud.projects[volume.project_id]
        )
        return cloud.new_snapshot(
            volume,
            snapshot_id=self.new_id(cloud.snapshots, spec, "snapshot", path),
            name=spec.get("name"),
            project_id=project.id,
            size=spec.get("size", volume.size),
            status=spec.get("status", "available"),
            created_at=self.time(spec, "created_at"),
            description=spec.get("description"),
            metadata=_texts(spec.get("metadata")),
            origin={"kind": "scenario"},
            timed=False,
        )


def _texts(values: Mapping[str, Any] | None) -> dict[str, str]:
    """A scenario's metadata mapping as the model stores it (every value text)."""
    return {k: _text(v) for k, v in (values or {}).items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _domain(cloud: "Cloud", name: str) -> Domain:
    domain = cloud.find_domain(name=name) or cloud.find_domain(domain_id=name)
    if domain is None:
        domain = cloud.add_domain(name)
    return domain
