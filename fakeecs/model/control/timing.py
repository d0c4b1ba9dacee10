"""The virtual clock and the durations of the timed processes: the control plane's time room."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

from .. import transitions
from ..clock import isoformat
from ..errors import Invalid
from .host import ControlHost
from .inputs import AdvanceBody, ClockBody, ClockSettings, load, load_durations

#: the schemas the Python API shares with HTTP and the handles
CLOCK_BODY = ClockBody()
ADVANCE_BODY = AdvanceBody()


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
        """Keyword arguments of the Python API, checked by the control plane's own
        :class:`~.inputs.ClockBody` (a datetime ``now`` is taken as its ISO form)."""
        given = {
            key: value
            for key, value in (("mode", mode), ("now", now), ("speed", speed), ("auto", auto))
            if value is not None
        }
        if not given:
            return ClockSettings()
        if isinstance(now, datetime):
            given["now"] = now.isoformat()
        settings: ClockSettings = load(CLOCK_BODY, given, rule="clock")
        return settings

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move virtual time forward, running each due transition at its own time.

        ``seconds`` is checked by the control plane's :class:`~.inputs.AdvanceBody`."""
        checked: float = load(ADVANCE_BODY, {"seconds": seconds}, rule="clock")
        with self.lock:
            self.settle()
            self._advance_to(self.clock.now() + checked)
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
