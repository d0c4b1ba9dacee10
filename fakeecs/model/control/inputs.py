"""The one schema of each control-plane input, and the typed values they load.

Every control input (an HTTP body or query, a handle call, a Python call with
plain data) is checked by exactly one marshmallow schema here, built once at
import time; :func:`load` runs it and turns its errors into one
:class:`~fakeecs.model.errors.Invalid` whose message names each key
(``"times: Must be greater than or equal to 1."``).  The HTTP routes and the
OpenAPI document (:mod:`fakeecs.api.control`) use the same schemas.

What needs the cloud's state (an unknown resource id, a process or store that
does not exist, a state a resource can never reach) is checked by the model,
once, as a semantic check.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from marshmallow import (
    EXCLUDE,
    INCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from ..clock import AUTO_FLAVOURS, VirtualClock, parse_time
from ..errors import Invalid
from ..faults import MATCH_KEYS, FaultSpec, check_match_values, check_side_effect
from ..ids import IdGenerator

STATE_FORMAT = "fakeecs-state"
STATE_VERSION = 1
#: the keys of a state export
STATE_KEYS = (
    "format",
    "version",
    "fakeecs",
    "region",
    "clock",
    "ids",
    "seq",
    "transitions",
    "heap",
    "stores",
)


#: a process duration as stored: virtual seconds, or "manual" (waits for an advance)
Duration = float | Literal["manual"]
#: what a client may give for a duration
DURATION_HELP = 'must be seconds >= 0, "manual", "immediate" or null'


# -- errors ------------------------------------------------------------------------------------


def messages(errors: Any, path: str = "") -> list[str]:
    """marshmallow's nested error dict as ``"key.sub: message"`` lines, in order."""
    out: list[str] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            sub = path if key == "_schema" else (f"{path}.{key}" if path else str(key))
            out.extend(messages(value, sub))
    elif isinstance(errors, list):
        for item in errors:
            out.extend(messages(item, path))
    else:
        out.append(f"{path}: {errors}" if path else str(errors))
    return out


def load(schema: Schema, data: Any, where: str = "", rule: str = "input") -> Any:
    """``schema.load(data)``, refusing with one :class:`Invalid` (keys prefixed by ``where``)."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise Invalid("; ".join(messages(error.messages, where)), rule=rule) from None


def _shown(value: Any) -> str:
    """A value as the client wrote it (JSON), for messages."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


# -- fields ------------------------------------------------------------------------------------


def Bool(**kwargs: Any) -> fields.Boolean:
    """A JSON boolean (``"yes"`` or ``1`` are refused)."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


class Number(fields.Float):
    """A JSON number: ``"5"`` (a string) and booleans are refused, as are NaN and infinities."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class _Choice(fields.Field[Any]):
    """A field whose accepted JSON shapes are listed for the OpenAPI document."""

    #: the JSON schema of the accepted values (apispec renders it as is)
    json_schema: dict[str, Any] = {}

    def __init__(self, **kwargs: Any) -> None:
        metadata = dict(kwargs.pop("metadata", {}))
        for key, value in self.json_schema.items():
            metadata.setdefault(key, value)
        super().__init__(metadata=metadata, **kwargs)


class NumberOrString(_Choice):
    """A time: a number (epoch seconds) or an ISO-8601 string."""

    json_schema = {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}]}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            try:
                return parse_time(value)
            except (ValueError, TypeError, OverflowError):
                pass
        raise ValidationError(f"not an ISO-8601 time or epoch seconds: {_shown(value)}")


class DurationField(_Choice):
    """A process duration (the rule is :func:`~.timing.parse_duration`)."""

    json_schema = {
        "oneOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "enum": ["manual", "immediate"]},
        ],
        "nullable": True,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return parse_duration(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class MatchValue(_Choice):
    """A non-empty string or a non-empty list of them."""

    json_schema = {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        ]
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            raise ValidationError("must be a non-empty string or a list of them")
        try:
            check_match_values(attr or "", values)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        return value


class Steps(_Choice):
    json_schema = {
        "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["all"]}]
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return parse_steps(value)


class FaultText(_Choice):
    """A server fault: a message or ``{code, message, details}``."""

    json_schema = {
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"},
                    "message": {"type": "string"},
                    "details": {"type": "string"},
                },
                "required": ["message"],
            },
        ]
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return {"code": 500, "message": value, "details": ""}
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            code = value.get("code", 500)
            if (
                not set(value) - {"code", "message", "details"}
                and isinstance(code, int)
                and not isinstance(code, bool)
            ):
                return {
                    "code": code,
                    "message": value["message"],
                    "details": str(value.get("details", "")),
                }
        raise ValidationError("a message, or {code, message, details}")


class SeedField(_Choice):
    json_schema = {"oneOf": [{"type": "integer"}, {"type": "string"}]}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return parse_seed(value)


class ScenarioRef(_Choice):
    json_schema = {
        "oneOf": [
            {"type": "string"},
            {"type": "object"},
            {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}},
        ]
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value and all(isinstance(v, (str, dict)) for v in value):
            return value
        raise ValidationError("must be a scenario name or path, or a list of them")


class IdsState(_Choice):
    """The id generator's state, as :meth:`~fakeecs.model.ids.IdGenerator.getstate` gives it."""

    json_schema = {"type": "object"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            IdGenerator().setstate(value)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValidationError(f"not a generator state ({error})") from None
        return value


class Heap(_Choice):
    json_schema = {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2}}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list) or not all(
            isinstance(e, list) and len(e) == 2 and _finite(e[0]) and isinstance(e[1], str)
            for e in value
        ):
            raise ValidationError("must be a list of [due, job_id] pairs")
        return value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_duration(value: Any) -> Duration | None:
    """The one rule for a process duration: seconds >= 0, "manual", "immediate" (0) or
    None (the default, returned as None).  Raises ValueError otherwise."""
    if value is None or value == "manual":
        return value  # type: ignore[no-any-return]
    if value == "immediate":
        return 0.0
    if _finite(value) and value >= 0:
        return float(value)
    raise ValueError(f"{DURATION_HELP}, not {_shown(value)}")


# -- rules of single values (a Python call with one argument goes through these) --------------


def parse_steps(value: Any) -> int | str:
    """``steps`` of a resource advance: an integer >= 1 or ``"all"``."""
    if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value  # type: ignore[no-any-return]
    raise ValidationError(f'must be an integer >= 1 or "all", not {_shown(value)}')


def parse_seed(value: Any) -> int | str:
    """A seed: an integer or a string."""
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return value
    raise ValidationError("must be an integer or a string")


def check_value(rule: Any, name: str, value: Any) -> Any:
    """One value through its rule (``parse_steps``, ``parse_seed``), refused as ``name: ...``."""
    try:
        return rule(value)
    except ValidationError as error:
        raise Invalid("; ".join(messages(error.messages, name)), rule=name) from None


# -- schemas -----------------------------------------------------------------------------------


class Body(Schema):
    """A strict body: unknown keys are refused."""

    class Meta:
        unknown = RAISE


class ResetBody(Body):
    """Reset to the starting world, or start over from other scenario(s)."""

    scenario = ScenarioRef(metadata={"description": "name or path (or a list of them)"})

    @post_load
    def _scenario(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return data.get("scenario")


class ScenarioBody(Body):
    """Load a scenario on top of the current state: exactly one of name, path, scenario."""

    name = fields.String(
        validate=validate.Length(min=1),
        metadata={"description": "a scenario of scenarios/ (without .yaml)"},
    )
    path = fields.String(validate=validate.Length(min=1), metadata={"description": "a YAML file"})
    scenario = fields.Dict(metadata={"description": "an inline scenario (the YAML as JSON)"})

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [k for k in ("name", "path", "scenario") if k in data]
        if len(given) != 1:
            raise ValidationError("give exactly one of name, path or scenario")
        name = data.get("name")
        if name is not None and ("/" in name or name.endswith((".yaml", ".yml"))):
            raise ValidationError(
                "a scenario name has no '/' or extension; use path for files", "name"
            )

    @post_load
    def _target(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return data.get("name") or data.get("path") or data.get("scenario")


class ClockState(Schema):
    """The clock of a state export."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": "Not a valid mapping type."}

    mode = fields.String(
        required=True,
        validate=validate.OneOf(
            VirtualClock.MODES, error=f"must be one of {', '.join(VirtualClock.MODES)}"
        ),
    )
    now = Number(
        required=True,
        error_messages={"required": "must be epoch seconds", "invalid": "must be epoch seconds"},
    )
    speed = Number(
        load_default=1.0,
        validate=validate.Range(min=0, min_inclusive=False, error="must be a number > 0"),
        error_messages={"invalid": "must be a number > 0"},
    )
    auto = fields.String(
        load_default="off",
        validate=validate.OneOf(AUTO_FLAVOURS, error=f"must be one of {', '.join(AUTO_FLAVOURS)}"),
    )


class StateBody(Schema):
    """An export of GET /_fakeecs/state, taken back as is."""

    class Meta:
        unknown = EXCLUDE  # unknown keys are named by _known_keys

    format = fields.String(
        required=True,
        validate=validate.Equal(STATE_FORMAT, error=f"must be {STATE_FORMAT!r}, not {{input!r}}"),
    )
    version = fields.Raw(required=True, validate=lambda v: _version(v))
    fakeecs = fields.String(metadata={"description": "the fakeecs version that exported it"})
    region = fields.String(
        validate=validate.Length(min=1, error="must be a non-empty string"),
        error_messages={"invalid": "must be a non-empty string"},
    )
    clock = fields.Nested(
        ClockState,
        required=True,
        error_messages={"required": "must be an object {{mode, now, speed}}"},
    )
    ids = IdsState(required=True)
    seq = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, error="must be an integer >= 0"),
        error_messages={"invalid": "must be an integer >= 0"},
    )
    transitions = fields.Dict(keys=fields.String(), load_default=dict)
    heap = Heap(load_default=list)
    stores = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        load_default=dict,
        error_messages={"invalid": "must be an object of stores"},
    )

    @validates_schema(pass_original=True)
    def _known_keys(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        unknown = sorted(set(original) - set(STATE_KEYS))
        if unknown:
            raise ValidationError(f"unknown key(s) {', '.join(unknown)}")


def _version(value: Any) -> None:
    if isinstance(value, bool) or value != STATE_VERSION:
        raise ValidationError(f"this fakeecs reads version {STATE_VERSION}, not {value!r}")


class CheckedState(dict[str, Any]):
    """A state export :class:`StateBody` has checked."""


def load_state(data: Any) -> CheckedState:
    """A state export checked by :class:`StateBody` (what :meth:`import_state` takes);
    a :class:`CheckedState` passes as is."""
    if isinstance(data, CheckedState):
        return data
    if not isinstance(data, dict):
        raise Invalid(
            "state: must be a JSON object (an export of GET /_fakeecs/state)", rule="state"
        )
    return CheckedState(load(STATE_SCHEMA, data, "state", rule="state"))


@dataclass
class ClockSettings:
    """What a clock update sets (None: leave as is); ``now`` in epoch seconds."""

    mode: str | None = None
    now: float | None = None
    speed: float | None = None
    auto: str | None = None


class ClockBody(Body):
    """Set the clock's mode, speed, time and/or auto flavour."""

    mode = fields.String(validate=validate.OneOf(VirtualClock.MODES))
    now = NumberOrString()
    speed = Number(validate=validate.Range(min=0, min_inclusive=False))
    auto = fields.String(
        validate=validate.OneOf(AUTO_FLAVOURS),
        metadata={
            "description": "how a read of a resource with pending work moves the clock: off, "
            "step (to its next step) or finish (to the end of its process)"
        },
    )

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one of mode, now, speed, auto")

    @post_load
    def _settings(self, data: dict[str, Any], **kwargs: Any) -> ClockSettings:
        return ClockSettings(**data)


class AdvanceBody(Body):
    """Advance the clock by ``seconds``, running every transition that falls due."""

    seconds = Number(required=True, validate=validate.Range(min=0))

    @post_load
    def _seconds(self, data: dict[str, Any], **kwargs: Any) -> float:
        return float(data["seconds"])


class Durations(dict[str, Duration | None]):
    """Checked process durations: ``{process: seconds | "manual" | None}`` (None: default)."""


class TransitionsBody(Schema):
    """``{process: seconds | "manual" | "immediate" | null}``: each key a timed process
    (GET /_fakeecs/transitions lists them), null for its default duration."""

    class Meta:
        unknown = INCLUDE  # every key is a process: which ones exist is the model's check

    @post_load
    def _durations(self, data: dict[str, Any], **kwargs: Any) -> Durations:
        errors: dict[str, Any] = {}
        out = Durations()
        for key, value in data.items():
            try:
                out[key] = DURATION.deserialize(value)
            except ValidationError as error:
                errors[str(key)] = error.messages
        if errors:
            raise ValidationError(errors)
        return out


DURATION = DurationField()


def load_durations(mapping: Any, where: str) -> Durations:
    """Durations checked by :class:`TransitionsBody`; a :class:`Durations` passes as is."""
    if isinstance(mapping, Durations):
        return mapping
    if not isinstance(mapping, dict):
        raise Invalid(
            f'{where}: must be an object of process: seconds or "manual"', rule="transitions"
        )
    loaded = load(TRANSITIONS_SCHEMA, mapping, where, rule="transitions")
    return Durations(loaded)


class TransitionsQuery(Body):
    replace = fields.Boolean(
        load_default=False,
        truthy={"1", "true", "yes", "True"},
        falsy={"0", "false", "no", "False", ""},
        metadata={"description": "reset every other process to its default"},
    )


class ResourceAdvanceBody(Body):
    steps = Steps(load_default=1, metadata={"description": 'how many steps (default 1), or "all"'})

    @post_load
    def _steps(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return data["steps"]


@dataclass
class ForceFields:
    """The fields a forced state sets; only those given are in ``given``."""

    given: dict[str, Any] = field(default_factory=dict)


def load_force(given: Any) -> ForceFields:
    """Forced-state fields checked by :class:`ForceBody`; :class:`ForceFields` pass as is."""
    if isinstance(given, ForceFields):
        return given
    return load(FORCE_SCHEMA, given, rule="state")  # type: ignore[no-any-return]


class ForceBody(Body):
    """A server takes vm_state, task_state, power_state, fault, locked; others take status."""

    vm_state = fields.String()
    task_state = fields.String(allow_none=True)
    power_state = fields.Raw(metadata={"description": "a number or a name (RUNNING, SHUTDOWN...)"})
    fault = FaultText()
    locked = Bool()
    status = fields.String()

    @post_load
    def _given(self, data: dict[str, Any], **kwargs: Any) -> ForceFields:
        return ForceFields(dict(data))


class MatchBody(Body):
    method = MatchValue(metadata={"description": "HTTP method(s)"})
    path = MatchValue(metadata={"description": "glob: * within a segment, ** across"})
    action = MatchValue(metadata={"description": "server action (first key of an /action body)"})
    project = MatchValue(metadata={"description": "project id or name"})
    family = MatchValue(
        metadata={"description": "API family: nova, glance, cinder, keystone, ims, ecs"}
    )


assert tuple(MatchBody._declared_fields) == MATCH_KEYS


class FaultBody(Body):
    """A fault rule."""

    match = fields.Nested(MatchBody)
    status = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(100, 599),
        metadata={"description": "null: only the latency"},
    )
    message = fields.String(allow_none=True)
    body = fields.Raw(allow_none=True, metadata={"description": "answer this JSON instead"})
    headers = fields.Dict(keys=fields.String(), values=fields.String())
    skip = fields.Integer(strict=True, validate=validate.Range(min=0))
    times = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1))
    latency_ms = Number(validate=validate.Range(min=0))
    probability = Number(validate=validate.Range(0, 1))
    side_effect = Bool(metadata={"description": "the operation still happens"})

    @validates_schema
    def _side_effect(self, data: dict[str, Any], **kwargs: Any) -> None:
        try:
            check_side_effect(data.get("status", 500), data.get("side_effect", False))
        except ValueError as error:
            raise ValidationError(str(error), "side_effect") from None

    @post_load
    def _spec(self, data: dict[str, Any], **kwargs: Any) -> FaultSpec:
        if "probability" in data:
            data["probability"] = float(data["probability"])
        return FaultSpec(**data)


class SeedBody(Body):
    seed = SeedField(required=True)

    @post_load
    def _seed(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return data["seed"]


class RequestsQuery(Body):
    method = fields.String()
    path = fields.String(metadata={"description": "glob"})
    status = fields.Integer()
    action = fields.String()
    project = fields.String()
    since = fields.Integer(metadata={"description": "only entries with a larger seq"})
    limit = fields.Integer(validate=validate.Range(min=0))


#: schemas built once, at import time
STATE_SCHEMA = StateBody()
TRANSITIONS_SCHEMA = TransitionsBody()
FORCE_SCHEMA = ForceBody()
