"""Apply a scenario (a plain dict, already validated) to a cloud."""
from .clock import parse_time
from .entities import Image
from .errors import Invalid

#: the owner of public images that no project of the world owns
PLATFORM_OWNER = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"


def apply_world(cloud, world):
    """Add what ``world`` describes on top of ``cloud``'s current state."""
    with cloud.lock:
        if "region" in world:
            cloud.region = world["region"]
        for name in world.get("availability_zones", []):
            if isinstance(name, dict):
                cloud.add_availability_zone(name["name"], name.get("available", True))
            else:
                cloud.add_availability_zone(name)
        domains = {}
        for spec in world.get("domains", []):
            domain = cloud.find_domain(name=spec["name"]) or cloud.add_domain(spec["name"], spec.get("id"))
            domains[domain.name] = domain
        for spec in world.get("projects", []):
            domain = _domain(cloud, spec.get("domain", "Default"))
            if cloud.find_project(name=spec["name"], domain_id=domain.id) is None:
                cloud.add_project(spec["name"], domain.id, spec.get("id"))
        for spec in world.get("users", []):
            domain = _domain(cloud, spec.get("domain", "Default"))
            roles = {}
            for project_name, names in (spec.get("roles") or {}).items():
                project = cloud.find_project(name=project_name) or cloud.find_project(project_id=project_name)
                if project is None:
                    raise Invalid(f"user {spec['name']}: unknown project {project_name!r}")
                roles[project.id] = list(names)
            cloud.add_user(spec["name"], spec.get("password", spec["name"]), domain.id, roles,
                           spec.get("id"))
        for spec in world.get("flavors", []):
            cloud.add_flavor(**spec)
        for spec in world.get("images", []):
            _add_image(cloud, spec)
        if "transitions" in world:
            cloud.transitions.update(world["transitions"])
        clock = world.get("clock")
        if clock:
            cloud.clock.set(now=clock.get("now"), mode=clock.get("mode"), speed=clock.get("speed"))


def _domain(cloud, name):
    domain = cloud.find_domain(name=name) or cloud.find_domain(domain_id=name)
    if domain is None:
        domain = cloud.add_domain(name)
    return domain


def _add_image(cloud, spec):
    owner_name = spec.get("owner")
    owner = cloud.find_project(name=owner_name) or cloud.find_project(project_id=owner_name)
    # images of no project in the world belong to the platform (public images on Huawei Cloud)
    owner_id = owner.id if owner is not None else (owner_name or PLATFORM_OWNER)
    now = parse_time(spec["created_at"]) if "created_at" in spec else cloud.now()
    image = Image(id=spec.get("id") or cloud.ids.uuid(), name=spec["name"], owner=owner_id,
                  status=spec.get("status", "active"), created_at=now, updated_at=now,
                  seq=cloud.next_seq(), visibility=spec.get("visibility", "public"),
                  protected=spec.get("protected", False), os_hidden=spec.get("os_hidden", False),
                  disk_format=spec.get("disk_format", "qcow2"),
                  container_format=spec.get("container_format", "bare"),
                  min_disk=spec.get("min_disk", 0), min_ram=spec.get("min_ram", 0),
                  size=spec.get("size"), virtual_size=spec.get("virtual_size"),
                  checksum=spec.get("checksum"), os_hash_algo=spec.get("os_hash_algo"),
                  os_hash_value=spec.get("os_hash_value"), tags=list(spec.get("tags", [])),
                  properties={k: str(v) for k, v in (spec.get("properties") or {}).items()},
                  origin=dict(spec.get("origin") or {"kind": "base"}))
    cloud.images.add(image)
    return image
