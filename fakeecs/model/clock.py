"""The virtual clock that every timestamp and timed transition reads.

In ``realtime`` mode virtual time runs from an anchor at ``speed`` times the
wall clock (``time.time``, so ``freezegun`` freezes it too); in ``frozen`` mode
it only moves when told.

Independently of the mode, ``auto`` says how a *read* of a resource or job with
pending work moves the clock (see :mod:`fakeecs.model.autoclock`): ``off`` (not
at all), ``step`` (to that resource's next step) or ``finish`` (to the end of its
process).  The presets ``auto-step`` and ``auto-finish`` name a frozen clock with
that flavour, wherever a clock mode is named (CLI, handle, pytest marker).
"""

import functools
import time
from datetime import datetime, timezone
from typing import Any


def parse_time(value: Any) -> float:
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


@functools.lru_cache(maxsize=4096)  # the same instants are rendered again and again
def isoformat(epoch: float, micro: bool = False) -> str:
    """Nova/Glance style UTC timestamp (``2026-01-01T00:00:00Z``)."""
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    if micro:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


#: how a read of a resource with pending work moves the clock
AUTO_FLAVOURS = ("off", "step", "finish")
#: clock presets: name -> (mode, auto)
PRESETS = {
    "realtime": ("realtime", "off"),
    "frozen": ("frozen", "off"),
    "auto-step": ("frozen", "step"),
    "auto-finish": ("frozen", "finish"),
}


def expand_preset(name: str) -> dict[str, str]:
    """``{"mode", "auto"}`` of a preset name (``frozen``, ``auto-step``, ...); ValueError else."""
    if name not in PRESETS:
        raise ValueError(f"unknown clock mode {name!r}; known: {', '.join(PRESETS)}")
    mode, auto = PRESETS[name]
    return {"mode": mode, "auto": auto}


class VirtualClock:
    """A clock that can be frozen, sped up, set and advanced."""

    MODES = ("realtime", "frozen")

    def __init__(
        self, mode: str = "realtime", now: Any = None, speed: float = 1.0, auto: str = "off"
    ) -> None:
        if mode not in self.MODES and mode in PRESETS:
            mode, auto = PRESETS[mode]
        if mode not in self.MODES:
            raise ValueError(f"unknown clock mode {mode!r}")
        if auto not in AUTO_FLAVOURS:
            raise ValueError(f"unknown auto flavour {auto!r}")
        self.mode = mode
        self.auto = auto
        self.speed = float(speed)
        self._base = time.time() if now is None else parse_time(now)
        self._anchor = time.time()

    def now(self) -> float:
        """Current virtual time, epoch seconds."""
        if self.mode == "frozen":
            return self._base
        return self._base + (time.time() - self._anchor) * self.speed

    def set(
        self,
        now: Any = None,
        mode: str | None = None,
        speed: float | None = None,
        auto: str | None = None,
    ) -> None:
        """Change time, mode, speed or auto flavour; time keeps flowing from where it is."""
        current = self.now() if now is None else parse_time(now)
        if mode is not None:
            if mode not in self.MODES:
                raise ValueError(f"unknown clock mode {mode!r}")
            self.mode = mode
        if auto is not None:
            if auto not in AUTO_FLAVOURS:
                raise ValueError(f"unknown auto flavour {auto!r}")
            self.auto = auto
        if speed is not None:
            self.speed = float(speed)
        self._base = current
        self._anchor = time.time()

    def advance(self, seconds: float) -> float:
        """Move virtual time forward (never back)."""
        if seconds < 0:
            raise ValueError("the clock cannot go back")
        self._base = self.now() + seconds
        self._anchor = time.time()
        return self._base

    def to_dict(self) -> dict[str, Any]:
        """``{mode, speed, now}``, and ``auto`` when reads move the clock."""
        data: dict[str, Any] = {"mode": self.mode, "speed": self.speed, "now": self.now()}
        if self.auto != "off":
            data["auto"] = self.auto
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "VirtualClock":
        return cls(
            mode=data["mode"],
            now=data["now"],
            speed=data.get("speed", 1.0),
            auto=data.get("auto", "off"),
        )
