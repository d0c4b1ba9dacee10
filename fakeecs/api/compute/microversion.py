"""Compute microversions: parsing the request headers as Nova does."""

import re

MIN_VERSION = (2, 1)
#: Huawei ECS documents 2.60 (Nova Queens)
MAX_VERSION = (2, 60)
_FORMAT = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$", re.ASCII)
#: version numbers longer than this are out of any range (and never converted: a
#: thousand-digit ``int()`` is slow, past 4300 digits it raises)
MAX_DIGITS = 9


class VersionError(Exception):
    """A bad microversion request: ``status`` 400 (format) or 406 (range)."""

    def __init__(self, status, message, version=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.version = version


def fmt(version):
    return "%d.%d" % version


def requested(headers, service="compute", legacy_header="X-OpenStack-Nova-API-Version"):
    """The raw version string the client asked for, or ``None``."""
    value = headers.get("OpenStack-API-Version")
    if value:
        for item in reversed([part.strip() for part in value.split(",")]):
            name, _, version = item.partition(" ")
            if name.lower() == service and version.strip():
                return version.strip()
    legacy = headers.get(legacy_header) if legacy_header else None
    if legacy:
        return legacy.split(",")[-1].strip()
    return None


def negotiate(
    headers,
    service="compute",
    minimum=MIN_VERSION,
    maximum=MAX_VERSION,
    legacy_header="X-OpenStack-Nova-API-Version",
):
    """The version to serve, as a tuple; raises :class:`VersionError`.

    Shared by every microversioned service (compute, and volume with its own range).
    """
    raw = requested(headers, service, legacy_header)
    if raw is None:
        return minimum
    if raw == "latest":
        return maximum
    match = _FORMAT.match(raw)
    if not match:
        raise VersionError(
            400,
            f"API Version String {raw} is of invalid format. Must be of format MajorNum.MinorNum.",
        )
    if max(len(match.group(1)), len(match.group(2))) > MAX_DIGITS:
        raise VersionError(406, _unsupported(raw, minimum, maximum))
    version = (int(match.group(1)), int(match.group(2)))
    if not minimum <= version <= maximum:
        raise VersionError(406, _unsupported(fmt(version), minimum, maximum), version)
    return version


def _unsupported(text, minimum, maximum):
    return (
        f"Version {text} is not supported by the API. "
        f"Minimum is {fmt(minimum)} and maximum is {fmt(maximum)}."
    )
