"""The virtual clock that every timestamp and timed transition reads.

In ``realtime`` mode virtual time runs from an anchor at ``speed`` times the
wall clock (``time.time``, so ``freezegun`` freezes it too); in ``frozen`` mode
it only moves when told.
"""
import time
from datetime import datetime, timezone


def parse_time(value):
    """Epoch seconds from an ISO-8601 string, a datetime or a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def isoformat(epoch, micro=False):
    """Nova/Glance style UTC timestamp (``2026-01-01T00:00:00Z``)."""
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    if micro:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class VirtualClock:
    """A clock that can be frozen, sped up, set and advanced."""

    MODES = ("realtime", "frozen")

    def __init__(self, mode="realtime", now=None, speed=1.0):
        if mode not in self.MODES:
            raise ValueError(f"unknown clock mode {mode!r}")
        self.mode = mode
        self.speed = float(speed)
        self._base = time.time() if now is None else parse_time(now)
        self._anchor = time.time()

    def now(self):
        """Current virtual time, epoch seconds."""
        if self.mode == "frozen":
            return self._base
        return self._base + (time.time() - self._anchor) * self.speed

    def set(self, now=None, mode=None, speed=None):
        """Change time, mode or speed; time keeps flowing from where it is."""
        current = self.now() if now is None else parse_time(now)
        if mode is not None:
            if mode not in self.MODES:
                raise ValueError(f"unknown clock mode {mode!r}")
            self.mode = mode
        if speed is not None:
            self.speed = float(speed)
        self._base = current
        self._anchor = time.time()

    def advance(self, seconds):
        """Move virtual time forward (never back)."""
        if seconds < 0:
            raise ValueError("the clock cannot go back")
        self._base = self.now() + seconds
        self._anchor = time.time()
        return self._base

    def to_dict(self):
        return {"mode": self.mode, "speed": self.speed, "now": self.now()}

    @classmethod
    def from_dict(cls, data):
        return cls(mode=data["mode"], now=data["now"], speed=data.get("speed", 1.0))
