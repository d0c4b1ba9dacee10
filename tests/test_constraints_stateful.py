"""Hypothesis: random create/image/delete/boot sequences across AZs keep the constraints.

Drives the model directly (no HTTP, no sleeps; the virtual clock is advanced by
rules).  Invariants checked after every step:

* no server booted from an ECS image runs outside the image's source AZ;
* no deletion cascades: an image or snapshot made by ``createImage`` exists until
  the sequence deletes *it* explicitly (not its server, not its image);
* every refused operation leaves the state exactly as it was.
"""

from conftest import BASE_IMAGE, state
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from fakeecs.model import Conflict, Invalid, NotFound, provenance
from fakeecs.server import build_cloud

ZONES = ["cn-north-4a", "cn-north-4b", "cn-north-4c"]


class ConstraintMachine(RuleBasedStateMachine):
    servers = Bundle("servers")
    images = Bundle("images")

    def __init__(self):
        super().__init__()
        self.cloud = build_cloud(["default"], seed=7, clock="frozen")
        self.ctx = self.cloud.context_for_user("fakeecs")
        #: image id -> snapshot ids it was made with
        self.made_images = {}
        self.deleted_images = set()
        #: images that became active (an unfinished snapshot dies with its server, as in Nova)
        self.completed = set()
        #: servers that images were made from
        self.sources = []
        self.deleted_snapshots = set()
        #: server id -> the zone-bound image it was booted from
        self.booted_from = {}

    def refused(self, errors, call):
        """Run ``call``; if it raises one of ``errors``, the state must be unchanged."""
        before = state(self.cloud)
        try:
            return call()
        except errors as error:
            assert state(self.cloud) == before, f"refusal changed the state: {error}"
            return error

    # -- rules ----------------------------------------------------------------------

    @initialize(target=images, zone=st.sampled_from(ZONES), volume_backed=st.booleans())
    def start_with_an_image(self, zone, volume_backed):
        """Every run starts from one settled ECS image, so boots from images happen often."""
        server_id = self.boot_base(zone, volume_backed, data_disk=volume_backed, wait=True)
        return self.create_image(server_id, wait=True)

    @rule(
        target=servers,
        zone=st.sampled_from(ZONES),
        volume_backed=st.booleans(),
        data_disk=st.booleans(),
        wait=st.sampled_from([True, True, True, False]),
    )
    def boot_base(self, zone, volume_backed, data_disk, wait):
        devices = []
        if volume_backed:
            devices.append(
                {
                    "source_type": "image",
                    "destination_type": "volume",
                    "uuid": BASE_IMAGE,
                    "boot_index": 0,
                    "volume_size": 40,
                    "delete_on_termination": True,
                }
            )
        if data_disk:
            devices.append(
                {
                    "source_type": "blank",
                    "destination_type": "volume",
                    "volume_size": 2,
                    "delete_on_termination": True,
                }
            )
        server = self.cloud.create_server(
            self.ctx,
            name="s",
            flavor_id="s6.small.1",
            availability_zone=zone,
            image_id=None if volume_backed else BASE_IMAGE,
            block_devices=devices or None,
        )
        assert server.availability_zone == zone
        if wait:
            self.cloud.clock.advance(2)
        return server.id

    @rule(seconds=st.sampled_from([0.5, 1.0, 3.0]))
    def advance(self, seconds):
        self.cloud.clock.advance(seconds)

    @rule(target=images, server_id=servers, wait=st.sampled_from([True, True, False]))
    def create_image(self, server_id, wait):
        server = self.cloud.servers.get(server_id)
        result = self.refused(
            (Conflict, NotFound), lambda: self.cloud.create_server_image(self.ctx, server_id, "img")
        )
        if server is not None and server.vm_state == "error":
            assert isinstance(result, Conflict) and "vm_state error" in result.message
        if isinstance(result, (Conflict, NotFound)):
            event(f"createImage refused: {type(result).__name__}")
            return multiple()
        event(f"createImage ok (volume_backed={bool(result.origin.get('volume_backed'))})")
        if wait:
            self.cloud.clock.advance(3)
        self.made_images[result.id] = list(result.origin.get("snapshot_ids", []))
        self.sources.append(server_id)
        return result.id

    @rule(
        target=servers,
        image_id=images,
        zone=st.one_of(st.none(), st.sampled_from(ZONES)),
        via_bdm=st.booleans(),
    )
    def boot_from_image(self, image_id, zone, via_bdm):
        kwargs = {"name": "b", "flavor_id": "s6.small.1", "availability_zone": zone}
        if via_bdm:
            kwargs["block_devices"] = [
                {
                    "source_type": "image",
                    "destination_type": "volume",
                    "uuid": image_id,
                    "boot_index": 0,
                    "volume_size": 40,
                }
            ]
        else:
            kwargs["image_id"] = image_id
        image = self.cloud.images.get(image_id)
        result = self.refused(
            (Invalid, NotFound), lambda: self.cloud.create_server(self.ctx, **kwargs)
        )
        if isinstance(result, (Invalid, NotFound)):
            event(f"boot from image refused: {result.facts.get('rule') or type(result).__name__}")
            if (
                image is not None
                and image.status == "active"
                and zone is not None
                and zone != image.origin["availability_zone"]
            ):
                assert result.facts.get("rule") == "same_az"
            return multiple()
        assert image is not None
        assert provenance.kind(image) == "nova_snapshot"
        source_zone = image.origin["availability_zone"]
        assert result.availability_zone == source_zone, "an ECS image booted outside its AZ"
        assert zone in (None, source_zone)
        event(f"boot from image ok (zone given: {zone is not None})")
        self.booted_from[result.id] = image_id
        return result.id

    @rule(image_id=images)
    def volume_from_image(self, image_id):
        result = self.refused(
            (Invalid, NotFound),
            lambda: self.cloud.create_volume(self.ctx, size=40, image_id=image_id),
        )
        assert isinstance(result, (Invalid, NotFound)), "an ECS image became a data disk"

    @rule(server_id=servers)
    def delete_server(self, server_id):
        self.refused((NotFound,), lambda: self.cloud.delete_server(self.ctx, server_id))

    @rule(data=st.data())
    def delete_a_source_server(self, data):
        """Delete a server that images were made from, and let the deletion finish."""
        if not self.sources:
            return
        server_id = data.draw(st.sampled_from(self.sources))
        result = self.refused((NotFound,), lambda: self.cloud.delete_server(self.ctx, server_id))
        if not isinstance(result, NotFound):
            event("source server deleted")
        self.cloud.clock.advance(1)

    @rule(server_id=servers)
    def force_error(self, server_id):
        self.refused((NotFound, Conflict), lambda: self.cloud.force_server_error(server_id, "x"))

    @rule(image_id=consumes(images))
    def delete_image(self, image_id):
        result = self.refused((NotFound,), lambda: self.cloud.delete_image(self.ctx, image_id))
        if image_id in self.made_images and not isinstance(result, NotFound):
            self.deleted_images.add(image_id)

    @rule(image_id=images, data=st.data())
    def delete_one_snapshot(self, image_id, data):
        candidates = [
            s for s in self.made_images.get(image_id, ()) if s not in self.deleted_snapshots
        ]
        if not candidates:
            return
        snapshot_id = data.draw(st.sampled_from(candidates))
        result = self.refused((Invalid,), lambda: self.cloud.delete_snapshot(self.ctx, snapshot_id))
        if not isinstance(result, Invalid):
            event("mapped snapshot deleted")
            self.deleted_snapshots.add(snapshot_id)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def nothing_cascades(self):
        cloud = self.cloud
        with cloud.lock:
            cloud.settle()
            for image_id, snapshot_ids in self.made_images.items():
                image = cloud.images.get(image_id)
                if image is not None and image.status == "active":
                    self.completed.add(image_id)
                if image_id in self.completed and image_id not in self.deleted_images:
                    assert image is not None, f"image {image_id} vanished"
                for snapshot_id in snapshot_ids:
                    if snapshot_id not in self.deleted_snapshots:
                        assert snapshot_id in cloud.snapshots, f"snapshot {snapshot_id} vanished"

    @invariant()
    def servers_stay_in_their_images_zone(self):
        for server_id, image_id in self.booted_from.items():
            server = self.cloud.servers.get(server_id)
            if server is None:
                continue
            image = self.cloud.images.get(image_id)
            if image is not None:
                assert server.availability_zone == image.origin["availability_zone"]

    @invariant()
    def volumes_sit_with_their_servers(self):
        for server in self.cloud.servers:
            for bd in server.block_devices:
                volume = self.cloud.volumes.get(bd["volume_id"])
                assert volume is not None
                assert volume.availability_zone == server.availability_zone


ConstraintMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestConstraints = ConstraintMachine.TestCase
