"""Deterministic, seedable identifiers."""

import random
import uuid
from typing import Any


class IdGenerator:
    """UUIDs and 32-hex ids from one seeded random stream."""

    def __init__(self, seed: Any = None) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def hex32(self) -> str:
        return uuid.UUID(int=self._random.getrandbits(128), version=4).hex

    def getstate(self) -> dict[str, Any]:
        version, internal, gauss = self._random.getstate()
        return {"seed": self.seed, "state": [version, list(internal), gauss]}

    def setstate(self, data: dict[str, Any]) -> None:
        self.seed = data.get("seed")
        version, internal, gauss = data["state"]
        self._random.setstate((version, tuple(internal), gauss))

    def reseed(self, seed: Any) -> None:
        self.seed = seed
        self._random.seed(seed)
