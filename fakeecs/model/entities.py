"""The cloud's resources as plain dataclasses.

Every entity is JSON-friendly (strings, numbers, lists, dicts), so the whole
state can be exported and imported as is.  Times are virtual epoch seconds.
"""

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance
    from typing_extensions import Self

from .devices import ROOT_DEVICE
from .index import Watched


class Entity(Watched):
    """Shared (de)serialisation for the dataclasses below."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(cast("DataclassInstance", self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Self":
        names = {f.name for f in fields(cast("type[DataclassInstance]", cls))}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Domain(Entity):
    id: str
    name: str


@dataclass
class Project(Entity):
    id: str
    name: str
    domain_id: str


@dataclass
class User(Entity):
    id: str
    name: str
    password: str
    domain_id: str
    #: project id -> role names
    roles: dict[str, Any] = field(default_factory=dict)


@dataclass
class AvailabilityZone(Entity):
    name: str
    region: str
    available: bool = True


@dataclass
class Flavor(Entity):
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int = 0
    ephemeral: int = 0
    swap: int = 0
    extra_specs: dict[str, Any] = field(default_factory=dict)
    is_public: bool = True


@dataclass
class Image(Entity):
    id: str
    name: str | None
    owner: str
    status: str
    created_at: float
    updated_at: float
    seq: int = 0
    visibility: str = "private"
    protected: bool = False
    os_hidden: bool = False
    disk_format: str | None = None
    container_format: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    size: int | None = None
    virtual_size: int | None = None
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    tags: list[Any] = field(default_factory=list)
    #: base64 of the bytes uploaded through Glance; None for made-up data
    #: (see :func:`fakeecs.model.images.give_generated_data`)
    payload: str | None = None
    #: custom (string) properties, shown as top-level keys by Glance
    properties: dict[str, Any] = field(default_factory=dict)
    #: provenance: how the image was made, see :mod:`fakeecs.model.provenance`
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass
class Server(Entity):
    id: str
    name: str
    project_id: str
    user_id: str
    availability_zone: str
    flavor_id: str
    created_at: float
    updated_at: float
    seq: int = 0
    #: the base image id; "" for a volume-backed server
    image_id: str = ""
    vm_state: str = "building"
    task_state: str | None = "scheduling"
    power_state: int = 0
    locked: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    tags: list[Any] = field(default_factory=list)
    key_name: str | None = None
    config_drive: str = ""
    #: base64 text as sent on create (Nova stores it as is)
    user_data: str | None = None
    access_ipv4: str = ""
    access_ipv6: str = ""
    disk_config: str = "MANUAL"
    #: the guest hostname, fixed at create (a rename keeps it)
    hostname: str = ""
    addresses: dict[str, Any] = field(default_factory=dict)
    launched_at: float | None = None
    terminated_at: float | None = None
    fault: dict[str, Any] | None = None
    host: str = "fakeecs-host-1"
    #: block devices: dicts with volume_id, device_name, boot_index, delete_on_termination
    block_devices: list[Any] = field(default_factory=list)
    root_device_name: str = ROOT_DEVICE
    #: system metadata the snapshot inherits (image_* keys of the base image)
    system_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def volume_backed(self) -> bool:
        return any(bd.get("boot_index") == 0 for bd in self.block_devices)


@dataclass
class Volume(Entity):
    id: str
    name: str | None
    project_id: str
    size: int
    availability_zone: str
    status: str
    created_at: float
    updated_at: float
    seq: int = 0
    description: str | None = None
    bootable: bool = False
    volume_type: str = "SSD"
    metadata: dict[str, Any] = field(default_factory=dict)
    #: image properties copied when made from an image (volume_image_metadata)
    image_metadata: dict[str, Any] = field(default_factory=dict)
    source_image_id: str | None = None
    snapshot_id: str | None = None
    #: attachments: dicts with server_id, device, attachment_id
    attachments: list[Any] = field(default_factory=list)
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot(Entity):
    id: str
    name: str | None
    project_id: str
    volume_id: str
    size: int
    status: str
    created_at: float
    updated_at: float
    seq: int = 0
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass
class Job(Entity):
    """One timed process on one resource: the steps still to run and when."""

    id: str
    process: str
    kind: str
    target_id: str
    steps: list[str]
    #: virtual time of the next step; None while the process is manual
    due: float | None
    interval: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class AccessKey(Entity):
    """A Huawei Cloud permanent access key (AK/SK) of a user, scoped to a project."""

    ak: str
    sk: str
    project_id: str
    user_id: str | None = None
    status: str = "active"
    description: str = ""
    created_at: float = 0.0


@dataclass
class ImsJob(Entity):
    """An IMS asynchronous job as ``GET /v1/{project_id}/jobs/{job_id}`` shows it."""

    id: str
    job_type: str
    project_id: str
    #: INIT, RUNNING, SUCCESS or FAIL
    status: str
    begin_time: float
    seq: int = 0
    end_time: float | None = None
    error_code: str | None = None
    fail_reason: str | None = None
    process_percent: float = 0.0
    current_task: str | None = None
    #: image_id, image_name, ... (IMS ``entities``)
    entities: dict[str, Any] = field(default_factory=dict)
    #: ids of the sub-jobs (data-disk images), in order
    sub_job_ids: list[Any] = field(default_factory=list)
    parent_id: str | None = None
    #: what the job works on: server_id, volume_id, image_id, bucket, ...
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExportedObject(Entity):
    """An image file IMS wrote to an OBS bucket (``POST /v1/cloudimages/{id}/file``)."""

    id: str
    image_id: str
    project_id: str
    bucket: str
    file_name: str
    file_format: str
    created_at: float
    seq: int = 0
    job_id: str | None = None
    quick: bool = False
    size: int | None = None
    #: the exported image's origin kind, for assertions
    image_kind: str | None = None


@dataclass
class EcsJob(ImsJob):
    """An ECS asynchronous job (create, delete, batch start/stop/reboot, attach, detach).

    Same fields as an IMS job; ``entities`` holds ``server_id`` and
    ``sub_job_ids`` the per-ECS sub-jobs (``createSingleServer``, ...).
    """


@dataclass
class Vpc(Entity):
    """A Virtual Private Cloud of a project (VPC API ``/v1/{project_id}/vpcs``)."""

    id: str
    name: str
    project_id: str
    cidr: str
    created_at: float
    updated_at: float
    seq: int = 0
    description: str = ""
    status: str = "OK"


@dataclass
class Subnet(Entity):
    """A subnet of a VPC; servers get their fixed addresses from its CIDR."""

    id: str
    name: str
    project_id: str
    vpc_id: str
    cidr: str
    gateway_ip: str
    created_at: float
    updated_at: float
    seq: int = 0
    description: str = ""
    #: the AZ the subnet is bound to, or "" (any AZ of the region)
    availability_zone: str = ""
    #: the id of the Neutron subnet behind it (the VPC subnet id is the Neutron network id)
    neutron_subnet_id: str = ""
    primary_dns: str = "100.125.1.250"
    secondary_dns: str = "100.125.21.250"
    dhcp_enable: bool = True
    status: str = "ACTIVE"
