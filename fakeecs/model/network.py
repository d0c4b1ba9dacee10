"""The minimal network world ECS needs: VPCs, their subnets, and fixed addresses.

The network room of :class:`~fakeecs.model.Cloud`:

* VPCs and subnets come from scenarios (``vpcs:``/``subnets:``); the default
  world has one of each.  They are read-only through the API (the VPC SDK's
  ``list_vpcs``/``show_vpc``/``list_subnets``/``show_subnet``).
* An ECS created through ``/v1[.1]/{project_id}/cloudservers`` names a VPC and
  one subnet per NIC; :meth:`NetworkMixin.plan_nics` checks them (before any
  side effect) and the server's addresses are allocated from the subnets'
  CIDRs, keyed by the VPC id as ECS shows them.
* There is no port store: the addresses in use are those of the servers that
  exist, so a refused create or a deleted server never leaves one behind.

Allocation takes the lowest free host address of the subnet; the gateway and
the subnet's last two host addresses are kept for the system (as Huawei keeps
addresses of every subnet for DHCP and the gateway).
"""

import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cloud import Room, operation
from .entities import Server, Subnet, Vpc
from .errors import Invalid, NotFound
from .policy import Context, authorize
from .store import Collection

#: host addresses at the end of every subnet that servers never get
RESERVED_TAIL = 2


@dataclass(frozen=True)
class NicPlan:
    """One NIC of an ECS to be created: its subnet and, if asked for, its fixed address."""

    subnet_id: str
    ip_address: str | None = None


class NetworkMixin(Room):
    """VPCs, subnets and the fixed addresses of servers."""

    def _init_stores(self) -> None:
        super()._init_stores()
        self.vpcs = Collection()
        self.subnets = Collection()
        self.register_store("vpcs", Vpc)
        self.register_store("subnets", Subnet)

    # -- building the world ------------------------------------------------------

    def add_vpc(
        self,
        project_id: str,
        name: str,
        cidr: str,
        *,
        vpc_id: str | None = None,
        description: str = "",
    ) -> Vpc:
        """A VPC of ``project_id`` (for scenarios)."""
        network = _network(cidr, "cidr")
        now = self.now()
        vpc = Vpc(
            id=vpc_id or self.ids.uuid(),
            name=name,
            project_id=project_id,
            cidr=str(network),
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
            description=description,
        )
        self.vpcs.add(vpc)
        return vpc

    def add_subnet(
        self,
        vpc: Vpc,
        name: str,
        cidr: str,
        *,
        gateway_ip: str | None = None,
        subnet_id: str | None = None,
        availability_zone: str = "",
        description: str = "",
    ) -> Subnet:
        """A subnet of ``vpc`` (for scenarios): inside the VPC's CIDR, overlapping no other."""
        network = _network(cidr, "cidr")
        if not network.subnet_of(ipaddress.IPv4Network(vpc.cidr)):
            raise Invalid(
                f"subnet CIDR {network} is not inside the CIDR {vpc.cidr} of VPC {vpc.name}",
                rule="network",
            )
        for other in self.subnets:
            if other.vpc_id == vpc.id and network.overlaps(ipaddress.ip_network(other.cidr)):
                raise Invalid(
                    f"subnet CIDR {network} overlaps subnet {other.name} ({other.cidr})",
                    rule="network",
                )
        hosts = list(network.hosts())
        if len(hosts) < RESERVED_TAIL + 2:
            raise Invalid(
                f"subnet CIDR {network} is too small (use a /28 or larger)", rule="network"
            )
        gateway = gateway_ip or str(hosts[0])
        if ipaddress.ip_address(gateway) not in network:
            raise Invalid(
                f"gateway_ip {gateway} is not in the subnet CIDR {network}", rule="network"
            )
        now = self.now()
        subnet_id = subnet_id or self.ids.uuid()
        subnet = Subnet(
            id=subnet_id,
            name=name,
            project_id=vpc.project_id,
            vpc_id=vpc.id,
            cidr=str(network),
            gateway_ip=gateway,
            created_at=now,
            updated_at=now,
            seq=self.next_seq(),
            description=description,
            availability_zone=availability_zone,
            neutron_subnet_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"fakeecs:subnet:{subnet_id}")),
        )
        self.subnets.add(subnet)
        return subnet

    # -- lookups ---------------------------------------------------------------------

    def _vpc(self, context: Context, vpc_id: str) -> Vpc:
        vpc: Vpc | None = self.vpcs.get(vpc_id)
        if vpc is None or (vpc.project_id != context.project_id and not context.is_admin):
            raise NotFound("vpc", vpc_id, "VPC does not exist.")
        return vpc

    def _subnet(self, context: Context, subnet_id: str) -> Subnet:
        subnet: Subnet | None = self.subnets.get(subnet_id)
        if subnet is None or (subnet.project_id != context.project_id and not context.is_admin):
            raise NotFound("subnet", subnet_id, "Subnet does not exist.")
        return subnet

    def _network_page(
        self,
        store: Collection,
        context: Context,
        keep: Callable[[Any], bool],
        limit: int | None,
        marker: str | None,
    ) -> tuple[list[Any], bool]:
        def visible(item: Any) -> bool:
            return (item.project_id == context.project_id or context.is_admin) and keep(item)

        if marker is not None:
            found = store.get(marker)
            if found is None or not visible(found):
                raise Invalid(f"marker {marker} is not found.", rule="marker")
        return store.page(newest_first=False, marker=marker, limit=limit, keep=visible)

    @operation
    def list_vpcs(
        self,
        context: Context,
        *,
        vpc_id: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> tuple[list[Vpc], bool]:
        """The project's VPCs, oldest first; ``(vpcs, more)``."""
        authorize(context, "vpc:vpcs:list", write=False)
        return self._network_page(
            self.vpcs, context, lambda vpc: vpc_id is None or vpc.id == vpc_id, limit, marker
        )

    @operation
    def get_vpc(self, context: Context, vpc_id: str) -> Vpc:
        authorize(context, "vpc:vpcs:get", write=False)
        return self._vpc(context, vpc_id)

    @operation
    def list_subnets(
        self,
        context: Context,
        *,
        vpc_id: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> tuple[list[Subnet], bool]:
        """The project's subnets (of ``vpc_id``), oldest first; ``(subnets, more)``."""
        authorize(context, "vpc:subnets:list", write=False)
        return self._network_page(
            self.subnets,
            context,
            lambda subnet: vpc_id is None or subnet.vpc_id == vpc_id,
            limit,
            marker,
        )

    @operation
    def get_subnet(self, context: Context, subnet_id: str) -> Subnet:
        authorize(context, "vpc:subnets:get", write=False)
        return self._subnet(context, subnet_id)

    # -- addresses ---------------------------------------------------------------------

    def subnet_of_address(self, vpc_id: str, address: str) -> Subnet | None:
        """The subnet of ``vpc_id`` whose CIDR holds ``address``, if any."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        subnet: Subnet
        for subnet in self.subnets:
            if subnet.vpc_id == vpc_id and ip in ipaddress.ip_network(subnet.cidr):
                return subnet
        return None

    def used_addresses(self, subnet: Subnet) -> set[str]:
        """The addresses of ``subnet`` that servers hold."""
        network = ipaddress.ip_network(subnet.cidr)
        used: set[str] = set()
        for server in self.servers:
            for item in server.addresses.get(subnet.vpc_id, ()):
                try:
                    if ipaddress.ip_address(item.get("addr", "")) in network:
                        used.add(item["addr"])
                except ValueError:
                    continue
        return used

    @staticmethod
    def usable_addresses(subnet: Subnet) -> list[str]:
        """Host addresses a server may get, in order (not the gateway, not the reserved tail)."""
        hosts = [str(ip) for ip in ipaddress.ip_network(subnet.cidr).hosts()]
        return [ip for ip in hosts[: len(hosts) - RESERVED_TAIL] if ip != subnet.gateway_ip]

    def free_address_count(self, subnet: Subnet) -> int:
        return len(self.usable_addresses(subnet)) - len(self.used_addresses(subnet))

    def plan_nics(
        self, context: Context, vpc_id: str, nics: list[NicPlan], count: int
    ) -> list[NicPlan]:
        """Check the VPC and NICs of ``count`` new ECSs; return their :class:`NicPlan` list.

        Refused (``Invalid``, no side effect): an unknown VPC or subnet, a subnet
        of another VPC, a fixed address outside its subnet, taken, reserved, or
        asked for more than one ECS, and a subnet without ``count`` free addresses.
        """
        vpc = self.vpcs.get(vpc_id or "")
        if vpc is None or (vpc.project_id != context.project_id and not context.is_admin):
            raise Invalid(f"The VPC {vpc_id} does not exist.", rule="vpc", vpc_id=vpc_id)
        plans: list[NicPlan] = []
        wanted: dict[str, int] = {}
        for nic in nics:
            subnet = self.subnets.get(nic.subnet_id or "")
            if subnet is None or (subnet.project_id != context.project_id and not context.is_admin):
                raise Invalid(
                    f"The subnet {nic.subnet_id} does not exist.",
                    rule="subnet",
                    subnet_id=nic.subnet_id,
                )
            if subnet.vpc_id != vpc.id:
                raise Invalid(
                    f"The VPC ID {vpc.id} in the request is inconsistent with the VPC "
                    f"{subnet.vpc_id} of subnet {subnet.id}.",
                    rule="subnet_vpc",
                    subnet_id=subnet.id,
                    vpc_id=vpc.id,
                )
            if nic.ip_address:
                self._check_fixed_address(subnet, nic.ip_address, count)
            wanted[subnet.id] = wanted.get(subnet.id, 0) + count
            plans.append(nic)
        for subnet_id, needed in wanted.items():
            subnet = self.subnets.get(subnet_id)
            if self.free_address_count(subnet) < needed:
                raise Invalid(
                    f"The subnet {subnet.id} ({subnet.cidr}) does not contain enough "
                    f"IP addresses: {needed} needed, "
                    f"{self.free_address_count(subnet)} free.",
                    rule="subnet_full",
                    subnet_id=subnet.id,
                )
        return plans

    def _check_fixed_address(self, subnet: Subnet, address: str, count: int) -> None:
        if count > 1:
            raise Invalid(
                f"A fixed IP address ({address}) can only be given when one ECS is "
                "created (count 1).",
                rule="ip_count",
            )
        if address not in self.usable_addresses(subnet):
            raise Invalid(
                f"The specified IP address {address} does not belong to the subnet "
                f"{subnet.id} ({subnet.cidr}) or is reserved by the system.",
                rule="ip_subnet",
                subnet_id=subnet.id,
                ip_address=address,
            )
        if address in self.used_addresses(subnet):
            raise Invalid(
                f"The private IP address {address} is already being used.",
                rule="ip_used",
                subnet_id=subnet.id,
                ip_address=address,
            )

    def _nova_nics(self, server: Server, networks: Any) -> list[NicPlan] | None:
        """Nova ``networks`` whose every ``uuid`` is a subnet of the server's project, as NICs.

        On ECS a Nova network id is a VPC subnet id; the fixed address asked for is
        checked as on the ECS path.  ``None`` when the list names no such subnet.
        """
        if not (
            isinstance(networks, list)
            and networks
            and all(isinstance(item, dict) and item.get("uuid") for item in networks)
        ):
            return None
        subnets = [self.subnets.get(item["uuid"]) for item in networks]
        if any(subnet is None or subnet.project_id != server.project_id for subnet in subnets):
            return None
        for item, subnet in zip(networks, subnets, strict=True):
            if item.get("fixed_ip"):
                self._check_fixed_address(subnet, item["fixed_ip"], 1)
            elif self.free_address_count(subnet) < 1:
                raise Invalid(
                    f"The subnet {subnet.id} ({subnet.cidr}) does not contain enough "
                    "IP addresses: 1 needed, 0 free.",
                    rule="subnet_full",
                    subnet_id=subnet.id,
                )
        return [NicPlan(item["uuid"], item.get("fixed_ip")) for item in networks]

    def _subnet_addresses(
        self, server: Server, networks: Any
    ) -> dict[str, list[dict[str, Any]]] | None:
        """ECS NICs (a list of :class:`NicPlan`), or Nova networks naming VPC subnets, get
        addresses of their subnets, by VPC id; anything else (None) is the compute room's.

        One of ``Cloud.ADDRESS_PLANNERS``."""
        networks = self._nova_nics(server, networks) or networks
        if not (
            isinstance(networks, list)
            and networks
            and all(isinstance(nic, NicPlan) for nic in networks)
        ):
            return None
        addresses: dict[str, list[dict[str, Any]]] = {}
        for index, nic in enumerate(networks):
            subnet = self.subnets.get(nic.subnet_id)
            taken = self.used_addresses(subnet) | {
                item["addr"] for items in addresses.values() for item in items
            }
            address = nic.ip_address or next(
                ip for ip in self.usable_addresses(subnet) if ip not in taken
            )
            mac = "fa:16:3e:%02x:%02x:%02x" % (
                (server.seq >> 8) & 255,
                server.seq & 255,
                index & 255,
            )
            addresses.setdefault(subnet.vpc_id, []).append(
                {
                    "version": 4,
                    "addr": address,
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": mac,
                }
            )
        return addresses


def _network(cidr: str, field: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.ip_network(str(cidr), strict=True)
    except ValueError:
        raise Invalid(
            f"{field} {cidr!r} is not an IPv4 CIDR such as 192.168.0.0/24", rule="network"
        ) from None
    if network.version != 4:
        raise Invalid(f"{field} {cidr!r} is not an IPv4 CIDR", rule="network")
    return network
