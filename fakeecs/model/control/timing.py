"""The virtual clock and the durations of the timed processes: the control plane's time room."""

from __future__ import annotations

import heapq
import math
from typing import Any

from .. import transitions
from ..clock import AUTO_FLAVOURS, VirtualClock, isoformat, parse_time
from ..errors import Invalid
from .host import ControlHost
from .inputs import ClockSettings, load_durations


def is_number(value: Any) -> bool:
    """A finite int or float (a bool is not a number here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def iso(epoch: float) -> str:
    return str(isoformat(epoch, micro=True)) + "Z"


class TimeControl(ControlHost):
    """Read, set and advance the clock; set the durations of the timed processes."""

    # -- the virtual clock ---------------------------------------------------------

    def get_clock(self) -> dict[str, Any]:
        """``{mode, speed, now, epoch}``, and ``auto`` when reads move the clock."""
        with self.lock:
            now = self.clock.now()
            state: dict[str, Any] = {
                "mode": self.clock.mode,
                "speed": self.clock.speed,
                "now": iso(now),
                "epoch": now,
            }
            if self.clock.auto != "off":
                state["auto"] = self.clock.auto
            return state

    def set_clock(
        self,
        settings: ClockSettings | None = None,
        /,
        *,
        mode: str | None = None,
        now: Any = None,
        speed: float | None = None,
        auto: str | None = None,
    ) -> dict[str, Any]:
        """Set the mode (``realtime``/``frozen``), speed, time and/or auto flavour.

        Moving the time forward runs every transition that falls due, in order.
        ``auto`` (``off``, ``step``, ``finish``) says how reads move the clock
        (:mod:`fakeecs.model.autoclock`).  ``settings`` come checked by
        :class:`~.inputs.ClockBody`; keywords are checked here.
        """
        if settings is None:
            settings = self._clock_settings(mode, now, speed, auto)
        mode, target, speed, auto = settings.mode, settings.now, settings.speed, settings.auto
        with self.lock:
            self.settle()
            if target is not None:
                if target >= self.clock.now():
                    self._advance_to(target)
                else:
                    self.clock.set(now=target)
            self.clock.set(now=target, mode=mode, speed=speed, auto=auto)
            self.settle()
            return self.get_clock()

    @staticmethod
    def _clock_settings(
        mode: str | None, now: Any, speed: float | None, auto: str | None
    ) -> ClockSettings:
        """Keyword arguments of the Python API as :class:`ClockSettings` (Invalid says why)."""
        if mode is not None and mode not in VirtualClock.MODES:
            raise Invalid(
                f"mode: must be one of {', '.join(VirtualClock.MODES)}, not {mode!r}", rule="clock"
            )
        if auto is not None and auto not in AUTO_FLAVOURS:
            raise Invalid(
                f"auto: must be one of {', '.join(AUTO_FLAVOURS)}, not {auto!r}", rule="clock"
            )
        if speed is not None and (not is_number(speed) or speed <= 0):
            raise Invalid(f"speed: must be a number > 0, not {speed!r}", rule="clock")
        target = None
        if now is not None:
            try:
                target = parse_time(now)
            except (ValueError, TypeError, OverflowError):
                raise Invalid(
                    f"now: not an ISO-8601 time or epoch seconds: {now!r}", rule="clock"
                ) from None
        return ClockSettings(mode=mode, now=target, speed=speed, auto=auto)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move virtual time forward, running each due transition at its own time."""
        if not is_number(seconds) or seconds < 0:
            raise Invalid(f"seconds: must be a number >= 0, not {seconds!r}", rule="clock")
        with self.lock:
            self.settle()
            self._advance_to(self.clock.now() + seconds)
            return self.get_clock()

    def _advance_to(self, target: float) -> None:
        while self._heap and self._heap[0][0] <= target:
            due = self._heap[0][0]
            if due > self.clock.now():
                self.clock.set(now=due)
            self.settle()
        if target > self.clock.now():
            self.clock.set(now=target)

    def charge_latency(self, latency_ms: float) -> float:
        """Injected latency: charged to a frozen clock (returns 0), else seconds to sleep."""
        if not latency_ms:
            return 0.0
        with self.lock:
            if self.clock.mode == "frozen":
                self._advance_to(self.clock.now() + latency_ms / 1000.0)
                return 0.0
        return latency_ms / 1000.0

    # -- transitions ---------------------------------------------------------------

    def known_processes(self) -> list[str]:
        return list(dict.fromkeys(list(transitions.PROCESS_DEFAULTS) + list(self.transitions)))

    def get_transitions(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.transitions)

    def _check_transitions(self, mapping: Any, where: str = "transitions") -> dict[str, Any]:
        """``{process: duration}`` through :class:`~.inputs.TransitionsBody`, then the semantic
        check (known processes); None becomes the process's default."""
        durations = load_durations(mapping, where)
        known = self.known_processes()
        unknown = sorted(str(k) for k in durations if k not in known)
        if unknown:
            raise Invalid(
                f"{where}: unknown process(es) {', '.join(unknown)}; known: {', '.join(known)}",
                rule="transitions",
            )
        return {
            name: (
                transitions.PROCESS_DEFAULTS.get(name, self.transitions.get(name))
                if value is None
                else value
            )
            for name, value in durations.items()
        }

    def set_transitions(self, mapping: Any, *, replace: bool = False) -> dict[str, Any]:
        """Set process durations (seconds, ``"manual"``, ``"immediate"``, None = default).

        Pending processes whose duration changes are rescheduled: what remains of
        them takes the new duration from now (or waits, when ``manual``).
        """
        with self.lock:
            checked = self._check_transitions(mapping)
            self.settle()
            new = dict(transitions.PROCESS_DEFAULTS) if replace else dict(self.transitions)
            new.update(checked)
            changed = [name for name in new if new[name] != self.transitions.get(name)]
            self.transitions = new
            for name in changed:
                self._reschedule(name)
            return dict(self.transitions)

    def _reschedule(self, process: str) -> None:
        duration = self.transitions[process]
        now = self.now()
        for job in [j for j in self.jobs.values() if j.process == process]:
            if duration == "manual":
                job.due = None
                job.interval = 0.0
                continue
            job.interval = float(duration) / max(len(job.steps), 1)
            if job.interval <= 0:
                job.due = None
                while job.id in self.jobs:
                    self.run_step(job, now)
                continue
            job.due = now + job.interval
            heapq.heappush(self._heap, (job.due, job.id))
