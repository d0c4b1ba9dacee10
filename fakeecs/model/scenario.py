"""Finding, reading and validating scenario files (YAML worlds).

A scenario is a YAML mapping that describes a world (see the README's
"Scenario format").  :func:`load` finds a scenario by name or path, parses it,
validates it with marshmallow and returns a :class:`World` (a dict that also
knows its source and the line of every key).  Parsed worlds are cached by
path and modification time, so resets never re-read files.

A mistake raises :class:`ScenarioError`, whose message names the file, the key
path and line, and the problem, e.g.::

    scenarios/broken.yaml: servers[1].flavor (line 14): Missing data for required field.
"""

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow import validate as checks

from . import provenance, transitions
from .clock import AUTO_FLAVOURS

DEFAULT = "default"

#: the state lists a scenario may seed are the model's (one place: transitions, provenance)
SERVER_VM_STATES = transitions.SEEDABLE_VM_STATES
SERVER_TASK_STATES = transitions.SEEDABLE_TASK_STATES
IMAGE_STATUSES = transitions.SEEDABLE_IMAGE_STATUSES
ORIGIN_KINDS = provenance.IMAGE_KINDS
VOLUME_STATUSES = transitions.SEEDABLE_VOLUME_STATUSES
SNAPSHOT_STATUSES = transitions.SEEDABLE_SNAPSHOT_STATUSES
TOP_LEVEL_KEYS = (
    "base",
    "region",
    "availability_zones",
    "domains",
    "projects",
    "users",
    "access_keys",
    "flavors",
    "images",
    "servers",
    "volumes",
    "snapshots",
    "vpcs",
    "subnets",
    "transitions",
    "clock",
    "token_ttl",
)


#: a key path in a scenario, and the identity of a scenario file's version
Path = tuple[Any, ...]
Key = tuple[str, int, int]


class ScenarioError(ValueError):
    """A scenario that cannot be used: ``errors`` is a list of ``(key_path, line, problem)``."""

    def __init__(self, source: str, errors: list[tuple[str, int | None, str]]) -> None:
        self.source = source
        self.errors = errors
        lines = []
        for path, line, problem in errors:
            where = path or "(top level)"
            if line is not None:
                where += f" (line {line})"
            lines.append(f"{source}: {where}: {problem}")
        super().__init__("\n".join(lines))


class World(dict[str, Any]):
    """A validated scenario: the mapping, plus ``source``, ``source_key`` and ``lines``."""

    def __init__(
        self,
        data: Mapping[str, Any],
        source: str = "<inline>",
        source_key: Key | None = None,
        lines: dict[Path, int] | None = None,
    ) -> None:
        super().__init__(data)
        self.source = source
        #: hashable identity of the file version (None for inline scenarios)
        self.source_key = source_key
        #: key path tuple -> 1-based line
        self.lines = lines or {}

    def line(self, path: Iterable[Any]) -> int | None:
        """The line of the nearest key of ``path`` (a tuple) that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def where(self, path: Iterable[Any]) -> str:
        """``file: key.path (line N)`` for messages about ``path``."""
        text = f"{self.source}: {format_path(path)}"
        line = self.line(path)
        return f"{text} (line {line})" if line is not None else text


def format_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# -- marshmallow schemas ------------------------------------------------------------


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class Time(fields.Field[Any]):
    """ISO-8601 text, a YAML timestamp or epoch seconds."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        from .clock import parse_time

        try:
            return parse_time(value)
        except (ValueError, TypeError, OverflowError):
            raise ValidationError(
                f"not a time (ISO-8601 like 2026-01-01T00:00:00Z, or epoch seconds): {value!r}"
            ) from None


class Scalar(fields.Field[Any]):
    """A string, number or boolean (image properties, metadata values)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, (str, int, float, bool)):
            return value
        raise ValidationError(f"must be a string, number or boolean, not {type(value).__name__}")


class Duration(fields.Field[Any]):
    """Seconds >= 0, ``manual`` or ``immediate``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value in ("manual", "immediate"):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return value
        raise ValidationError(f"must be seconds >= 0, 'manual' or 'immediate', not {value!r}")


class Zone(fields.Field[Any]):
    """An AZ name, or ``{name, available}``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict):
            errors = ZoneSpec().validate(value)
            if errors:
                raise ValidationError(errors)
            return value
        raise ValidationError("must be a zone name or {name, available}")


def Str(**kwargs: Any) -> fields.String:
    return fields.String(validate=checks.Length(min=1), **kwargs)


def Int(minimum: int = 0, **kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=checks.Range(min=minimum), **kwargs)


def Metadata() -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=Scalar())


class ZoneSpec(_Strict):
    name = Str(required=True)
    available = fields.Boolean()


class DomainSpec(_Strict):
    id = Str()
    name = Str(required=True)


class ProjectSpec(_Strict):
    id = Str()
    name = Str(required=True)
    domain = Str()
    description = fields.String()


class UserSpec(_Strict):
    id = Str()
    name = Str(required=True)
    password = fields.String()
    domain = Str()
    roles = fields.Dict(keys=fields.String(), values=fields.List(Str()))


class AccessKeySpec(_Strict):
    ak = fields.String(
        required=True,
        validate=checks.Regexp(
            r"^[A-Za-z0-9]{8,128}$", error="an access key id is 8-128 letters and digits"
        ),
    )
    sk = Str(required=True)
    project = Str(required=True)
    user = Str()
    description = fields.String()
    status = fields.String(validate=checks.OneOf(("active", "inactive")))


class FlavorSpec(_Strict):
    id = Str()
    name = Str(required=True)
    vcpus = Int(1, required=True)
    ram = Int(1, required=True)
    disk = Int()
    ephemeral = Int()
    swap = Int()
    extra_specs = Metadata()
    is_public = fields.Boolean()


class OriginSpec(_Strict):
    kind = fields.String(required=True, validate=checks.OneOf(ORIGIN_KINDS))
    #: a server of this world, by name or id
    server = Str()
    server_id = Str()
    availability_zone = Str()
    project = Str()
    volume_backed = fields.Boolean()


class ImageSpec(_Strict):
    id = Str()
    name = Str(required=True)
    owner = Str()
    status = fields.String(validate=checks.OneOf(IMAGE_STATUSES))
    visibility = fields.String(validate=checks.OneOf(("public", "private", "shared", "community")))
    protected = fields.Boolean()
    os_hidden = fields.Boolean()
    disk_format = fields.String()
    container_format = fields.String()
    min_disk = Int()
    min_ram = Int()
    size = Int()
    virtual_size = Int()
    checksum = fields.String()
    os_hash_algo = fields.String()
    os_hash_value = fields.String()
    tags = fields.List(fields.String())
    properties = Metadata()
    created_at = Time()
    origin = fields.Nested(OriginSpec)

    @validates_schema
    def _origin(self, data: dict[str, Any], **kwargs: Any) -> None:
        origin = data.get("origin") or {}
        named = origin.get("server") or (
            origin.get("server_id") and origin.get("availability_zone")
        )
        if origin.get("kind") in provenance.SERVER_MADE and not named:
            raise ValidationError(
                "an image made from a server needs origin.server (a server "
                "of the world) or origin.server_id with "
                "origin.availability_zone",
                "origin",
            )


class FaultSpec(_Strict):
    code = Int(100)
    message = fields.String(required=True)
    details = fields.String()


class ServerFault(fields.Field[Any]):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            errors = FaultSpec().validate(value)
            if errors:
                raise ValidationError(errors)
            return value
        raise ValidationError("must be a message or {code, message, details}")


class ServerSpec(_Strict):
    id = Str()
    name = Str(required=True)
    project = Str()
    user = Str()
    flavor = Str(required=True)
    #: the base image (name or id); omit for a server booted from a volume
    image = Str()
    availability_zone = Str()
    vm_state = fields.String(validate=checks.OneOf(SERVER_VM_STATES))
    task_state = fields.String(allow_none=True, validate=checks.OneOf(SERVER_TASK_STATES))
    fault = ServerFault()
    locked = fields.Boolean()
    metadata = Metadata()
    tags = fields.List(fields.String())
    description = fields.String()
    key_name = fields.String()
    created_at = Time()
    launched_at = Time()


class AttachmentSpec(_Strict):
    server = Str(required=True)
    device = Str()
    boot_index = fields.Integer(strict=True)
    delete_on_termination = fields.Boolean()


class VolumeSpec(_Strict):
    id = Str()
    name = fields.String()
    project = Str()
    size = Int(1, required=True)
    availability_zone = Str()
    status = fields.String(validate=checks.OneOf(VOLUME_STATUSES))
    bootable = fields.Boolean()
    volume_type = Str()
    description = fields.String()
    metadata = Metadata()
    #: the image the volume was made from (name or id)
    image = Str()
    attached_to = fields.Nested(AttachmentSpec)
    created_at = Time()


class SnapshotSpec(_Strict):
    id = Str()
    name = fields.String()
    project = Str()
    volume = Str(required=True)
    size = Int(1)
    status = fields.String(validate=checks.OneOf(SNAPSHOT_STATUSES))
    description = fields.String()
    metadata = Metadata()
    created_at = Time()


class VpcSpec(_Strict):
    id = Str()
    name = Str(required=True)
    project = Str()
    cidr = Str(required=True)
    description = fields.String()


class SubnetSpec(_Strict):
    id = Str()
    name = Str(required=True)
    #: the VPC (name or id) of the world
    vpc = Str(required=True)
    cidr = Str(required=True)
    gateway_ip = Str()
    availability_zone = Str()
    description = fields.String()


class ClockSpec(_Strict):
    mode = fields.String(validate=checks.OneOf(("realtime", "frozen")))
    #: how reads move the clock (fakeecs.model.autoclock): off, step, finish
    auto = fields.String(validate=checks.OneOf(AUTO_FLAVOURS))
    now = Time()
    speed = fields.Float(validate=checks.Range(min=0, min_inclusive=False))


class ScenarioSchema(_Strict):
    #: the scenario this one builds on, applied first when it starts a world
    base = Str()
    region = Str()
    availability_zones = fields.List(Zone())
    domains = fields.List(fields.Nested(DomainSpec))
    projects = fields.List(fields.Nested(ProjectSpec))
    users = fields.List(fields.Nested(UserSpec))
    access_keys = fields.List(fields.Nested(AccessKeySpec))
    flavors = fields.List(fields.Nested(FlavorSpec))
    images = fields.List(fields.Nested(ImageSpec))
    servers = fields.List(fields.Nested(ServerSpec))
    volumes = fields.List(fields.Nested(VolumeSpec))
    snapshots = fields.List(fields.Nested(SnapshotSpec))
    vpcs = fields.List(fields.Nested(VpcSpec))
    subnets = fields.List(fields.Nested(SubnetSpec))
    transitions = fields.Dict(keys=fields.String(), values=Duration())
    clock = fields.Nested(ClockSpec)
    #: seconds a token lives on the virtual clock (null: practically forever)
    token_ttl = fields.Float(
        allow_none=True, allow_nan=False, validate=checks.Range(min=0, min_inclusive=False)
    )


def _flatten(errors: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """marshmallow's nested error dict as ``(path, message)`` pairs."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "_schema":
                yield from _flatten(value, path)
            else:
                yield from _flatten(value, path + (key,))
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, (dict, list)):
                yield from _flatten(item, path)
            else:
                yield path, str(item)
    else:
        yield path, str(errors)


def _key_lines(
    node: yaml.Node, path: Path = (), lines: dict[Path, int] | None = None
) -> dict[Path, int]:
    """Key path -> line of a composed YAML node tree (keys point at their key line)."""
    if lines is None:
        lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            _key_lines(value_node, path + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _key_lines(item, path + (index,), lines)
    return lines


def validate(
    data: Any,
    source: str = "<inline>",
    source_key: Key | None = None,
    lines: dict[Path, int] | None = None,
) -> World:
    """Check a scenario mapping; return it as a :class:`World` or raise :class:`ScenarioError`."""
    if not isinstance(data, dict):
        raise ScenarioError(
            source,
            [
                (
                    "",
                    1 if lines is not None else None,
                    "a scenario must be a mapping at the top level",
                )
            ],
        )
    world = World(data, source, source_key, lines)
    errors = ScenarioSchema().validate(data)
    if errors:
        found: list[tuple[str, int | None, str]] = []
        for path, message in _flatten(errors):
            if message == "Unknown field." and len(path) == 1:
                message += f" Known top-level keys: {', '.join(TOP_LEVEL_KEYS)}."
            found.append((format_path(path), world.line(path), message))
        found.sort(key=lambda e: (e[1] is None, e[1] or 0, e[0]))
        raise ScenarioError(source, found)
    return world


def parse(text: str, source: str = "<text>", source_key: Key | None = None) -> World:
    """Parse and validate scenario YAML text."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(
            source, [("", mark.line + 1 if mark else None, f"not valid YAML: {problem}")]
        ) from None
    if data is None:
        data = {}
    lines = _key_lines(node) if node is not None else {}
    return validate(data, source, source_key, lines)


# -- finding scenarios --------------------------------------------------------------------


def scenario_dirs() -> list[str]:
    """Where named scenarios live: the repository's ``scenarios/`` or the installed copy."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = [os.path.join(os.path.dirname(package), "scenarios")]
    try:
        dirs.append(str(resources.files("fakeecs._scenarios")))
    except ModuleNotFoundError:
        pass
    return [d for d in dirs if os.path.isdir(d)]


def find(name_or_path: str) -> str:
    """The path of a scenario given by name (``default``) or by path."""
    if os.path.sep in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        if os.path.isfile(name_or_path):
            return name_or_path
        raise FileNotFoundError(f"no scenario file {name_or_path}")
    for directory in scenario_dirs():
        path = os.path.join(directory, name_or_path + ".yaml")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"no scenario named {name_or_path!r} (known: {', '.join(available()) or 'none'})"
    )


def available() -> list[str]:
    names: set[str] = set()
    for directory in scenario_dirs():
        names.update(f[:-5] for f in os.listdir(directory) if f.endswith(".yaml"))
    return sorted(names)


_cache: dict[Key, World] = {}
_cache_lock = threading.Lock()


def _display(path: str) -> str:
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else path


def load(name_or_path: str) -> World:
    """The validated :class:`World` of a scenario (cached by path and mtime)."""
    path = find(name_or_path)
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    world = parse(text, _display(path), key)
    with _cache_lock:
        _cache[key] = world
    return world


def read(name_or_path: str) -> World:
    """The world described by a scenario, as a (validated) dict."""
    return load(name_or_path)


def describe(world: Mapping[str, Any]) -> str:
    """A one-line summary of what a world holds (for logs)."""
    parts = [
        f"{len(world[k])} {k}"
        for k in TOP_LEVEL_KEYS
        if isinstance(world.get(k), list) and world[k]
    ]
    return ", ".join(parts) or "empty"


__all__ = [
    "DEFAULT",
    "ScenarioError",
    "World",
    "available",
    "find",
    "load",
    "parse",
    "read",
    "validate",
]
