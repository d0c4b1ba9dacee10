"""Which servers a ``GET /servers`` list shows: one query object, one predicate.

:class:`ServerQuery` holds the filters after the API has parsed them (Nova's
``search_opts`` once ``_get_servers`` is done with them); :func:`server_matches`
is the one place that decides whether a server is listed, so the same rule can
later be served from an index.  :func:`parse_isotime` reads ``changes-since``
as Nova's ``timeutils.parse_isotime`` (iso8601) does.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from re import Pattern

from . import transitions
from .entities import Server

#: how deleted servers are treated (Nova's ``deleted`` search option)
LIVE_ONLY, DELETED_ONLY, ANY_DELETION = "live", "deleted", "any"

_ISO = re.compile(
    r"""
    (?P<year>[0-9]{4})
    (?: (?: -(?P<month_d>[0-9]{1,2}) | (?P<month>[0-9]{2})(?!$) )
        (?: (?: -(?P<day_d>[0-9]{1,2}) | (?P<day>[0-9]{2}) )
            (?: [ T](?P<hour>[0-9]{2})
                (?: :?(?P<minute>[0-9]{2}) )?
                (?: :?(?P<second>[0-9]{1,2}) (?: [.,](?P<fraction>[0-9]+) )? )?
                (?P<zone> Z | (?P<sign>[-+])(?P<tz_hour>[0-9]{2}) :? (?P<tz_minute>[0-9]{2})? )?
            )?
        )?
    )?
    $""",
    re.VERBOSE,
)


def parse_isotime(text: str) -> float:
    """Epoch seconds of an ISO 8601 time as iso8601 0.1.12 reads it; ``ValueError`` if not.

    A missing zone means UTC; a date alone means midnight; ``YYYY`` and
    ``YYYY-MM`` mean the first day.
    """
    match = _ISO.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"Unable to parse date string {text!r}")
    part = match.groupdict()

    def number(*names: str, default: int = 0) -> int:
        for name in names:
            if part.get(name):
                return int(part[name])
        return default

    fraction = part["fraction"] or "0"
    zone = timezone.utc
    if part["sign"]:
        offset = timedelta(hours=int(part["tz_hour"]), minutes=int(part["tz_minute"] or 0))
        zone = timezone(offset if part["sign"] == "+" else -offset)
    stamp = datetime(
        number("year"),
        number("month_d", "month", default=1),
        number("day_d", "day", default=1),
        number("hour"),
        number("minute"),
        number("second"),
        int(float("0." + fraction) * 1e6),
        tzinfo=zone,
    )
    return stamp.timestamp()


@dataclass
class ServerQuery:
    """The filters of one server list, as the model applies them."""

    project_id: str | None = None  #: None: every project (admin all_tenants)
    name: Pattern[str] | None = None  #: a regular expression, searched
    status: str | None = None  #: a Nova status, upper case
    changes_since: float | None = None  #: ``updated_at >= changes_since``
    deleted: str = LIVE_ONLY  #: LIVE_ONLY, DELETED_ONLY or ANY_DELETION
    tags: tuple[str, ...] = ()  #: has all of them
    tags_any: tuple[str, ...] = ()  #: has at least one of them
    not_tags: tuple[str, ...] = ()  #: lacks at least one of them
    not_tags_any: tuple[str, ...] = ()  #: has none of them

    @property
    def wants_deleted(self) -> bool:
        """Whether deleted servers (tombstones) can be listed at all."""
        return self.deleted != LIVE_ONLY


def is_deleted(server: Server) -> bool:
    """Deleted or soft-deleted: what Nova's ``deleted=True`` lists."""
    return server.vm_state in ("deleted", "soft-delete")


def status_matches(server: Server, status: str) -> bool:
    """Nova's status filter: a vm_state's own status matches whatever its task_state
    (``status=ACTIVE`` keeps a rebooting server); other statuses match as shown."""
    if transitions.SERVER_STATUS.get(server.vm_state, {}).get(None) == status:
        return True
    return transitions.server_status(server.vm_state, server.task_state) == status


def server_matches(server: Server, query: ServerQuery) -> bool:
    """Whether ``server`` belongs in the list ``query`` describes."""
    if query.project_id is not None and server.project_id != query.project_id:
        return False
    if query.deleted == LIVE_ONLY and is_deleted(server):
        return False
    if query.deleted == DELETED_ONLY and not is_deleted(server):
        return False
    if query.changes_since is not None and server.updated_at < query.changes_since:
        return False
    if query.name is not None and not query.name.search(server.name):
        return False
    if query.status is not None and not status_matches(server, query.status):
        return False
    tags = set(server.tags)
    if query.tags and not tags.issuperset(query.tags):
        return False
    if query.tags_any and tags.isdisjoint(query.tags_any):
        return False
    if query.not_tags and tags.issuperset(query.not_tags):
        return False
    if query.not_tags_any and not tags.isdisjoint(query.not_tags_any):
        return False
    return True
