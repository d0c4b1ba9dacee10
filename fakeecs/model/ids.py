"""Deterministic, seedable identifiers."""
import random
import uuid


class IdGenerator:
    """UUIDs and 32-hex ids from one seeded random stream."""

    def __init__(self, seed=None):
        self.seed = seed
        self._random = random.Random(seed)

    def uuid(self):
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def hex32(self):
        return uuid.UUID(int=self._random.getrandbits(128), version=4).hex

    def getstate(self):
        version, internal, gauss = self._random.getstate()
        return {"seed": self.seed, "state": [version, list(internal), gauss]}

    def setstate(self, data):
        self.seed = data.get("seed")
        version, internal, gauss = data["state"]
        self._random.setstate((version, tuple(internal), gauss))

    def reseed(self, seed):
        self.seed = seed
        self._random.seed(seed)
