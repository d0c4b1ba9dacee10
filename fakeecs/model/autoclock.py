"""Reads that move a standing clock: waits that cost nothing, in any process.

When the clock's ``auto`` flavour is not ``off`` (presets ``auto-step`` and
``auto-finish``), every model read of a resource or job calls :meth:`touch`,
which moves virtual time forward for that resource's pending work before the
read is answered:

- ``step``: to the due time of the resource's *next* step, so a polling client
  sees every intermediate state (``BUILD`` then ``ACTIVE``; ``queued``,
  ``saving``, ``active``), one per read, as on a real cloud;
- ``finish``: to the due time of the *last* step of every process pending on
  it (and of processes those start), so a client that sleeps long between polls
  finishes on its first poll.

Time moves with :meth:`~fakeecs.model.control.ControlMixin._advance_to`, so
everything else due before that moment runs first, in time order, each at its
own time.  Nothing here reads the wall clock: the same requests give the same
states and timestamps.  Manual processes never move.

Lists: a list read acts as a read of every resource of that kind in the
caller's project at once (whatever its filters and page): ``step`` runs the
soonest next step among them, ``finish`` finishes all their processes.  Reads
by the control plane, the dashboard and state exports do not call the hook.
"""

from collections.abc import Callable, Iterable

from .cloud import Room
from .entities import Job

#: processes that one ``finish`` read may run one after the other (a bound, not a goal)
MAX_CHAINED = 100


def last_due(job: Job) -> float:
    """When the last step of a timed job falls due."""
    assert job.due is not None, "a manual job has no due time"
    return job.due + job.interval * (len(job.steps) - 1)


class AutoClockMixin(Room):
    """The ``touch`` hook of :class:`~fakeecs.model.Cloud`; call it under the lock."""

    def touch(self, kind: str, ids: str | Iterable[str] | Callable[[], Iterable[str]]) -> None:
        """A read of ``kind`` resource(s) ``ids``: move time for their pending work.

        ``ids`` is one id, an iterable of ids, or (for a list read) a callable that
        returns them, called only when the clock's auto flavour is on, so that a list
        costs no scan of its store otherwise (a generator over a store would not do:
        its store is iterated, every entity listed, as soon as it is made).
        """
        flavour = self.clock.auto
        if flavour == "off":
            return
        if callable(ids):
            ids = ids()
        wanted = (ids,) if isinstance(ids, str) else tuple(ids)
        for _ in range(MAX_CHAINED):
            jobs = [
                job
                for resource_id in wanted
                for job in self._pending_jobs(kind, resource_id)
                if job.due is not None
            ]
            if not jobs:
                return
            if flavour == "step":
                self._advance_to(min(job.due for job in jobs))
                return
            self._advance_to(max(last_due(job) for job in jobs))
