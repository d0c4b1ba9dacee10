"""Hypothesis strategies for the requests fakeecs (and ECS) must get right.

Each ``*_cases`` strategy yields a case object that carries what a conforming
cloud must answer, so a property is one line::

    @given(case=create_image_cases())
    def test_create_image(client, server_id, case):
        response = client.create_image_raw(server_id, case.body, case.headers)
        assert response.status_code == case.status, case

The rules are stated here independently of ``fakeecs.api`` (from Nova's JSON
schemas and the ECS documentation), so the strategies also check fakeecs:

* image name: a string of 1..255 characters, fewer than 243 UTF-8 bytes (ECS),
  printable (Nova ``format: name``: no control or format characters, nothing
  outside the BMP, no leading or trailing whitespace);
* metadata: an object whose keys match ``^[a-zA-Z0-9-_:. ]{1,255}$`` and whose
  values are strings of at most 255 characters; more than 128 items is a 403
  below microversion 2.39 (the ``metadata_items`` quota), allowed from 2.39;
* microversions: ``compute X.Y`` from 2.1 to 2.60 or ``latest``; a malformed
  version is a 400, one out of range a 406.
"""

import string
import unicodedata
from dataclasses import dataclass, field

from hypothesis import strategies as st

NAME_MAX_CHARS = 255
#: ECS: the image name is "greater than 0 bytes and less than 243 bytes"
NAME_MAX_BYTES = 242
METADATA_KEY_MAX = 255
METADATA_VALUE_MAX = 255
#: Nova's default ``metadata_items`` quota, enforced on createImage below 2.39
METADATA_ITEMS_QUOTA = 128
MIN_VERSION = (2, 1)
MAX_VERSION = (2, 60)
#: first microversion without the metadata quota check on createImage
QUOTA_DROPPED_AT = (2, 39)
#: first microversion answering createImage with ``{"image_id"}`` instead of a Location
IMAGE_ID_BODY_AT = (2, 45)

METADATA_KEY_ALPHABET = string.ascii_letters + string.digits + "-_:. "
INVALID_NAME_MESSAGE = (
    "An invalid 'name' value was provided. The name must be: printable "
    "characters. Can not start or end with whitespace."
)

# one printable character per UTF-8 width, and some that break the name format
ONE_BYTE = string.ascii_letters + string.digits + "-_.()[]!@#%&+=,;~"
TWO_BYTES = "éüßñçøåÆΩλЖжШщ"  # 2 bytes each in UTF-8
THREE_BYTES = "镜像服务器云中文日本語한국어€"  # 3 bytes each
NON_BMP = "😀🚀𝔘𠀋"  # 4 bytes, outside the BMP: not printable for Nova
CONTROL = "\x00\x01\x07\t\n\r\x1b\x7f\x85"
FORMAT_CHARS = "\u200b\u200e\u2028\u2029\ufeff"
WHITESPACE = " \u00a0\u3000\u2003"  # Unicode Zs: allowed inside, not at either end


# Nova's definition of printable (nova/api/validation/parameter_types.py, as its docstring
# states it): the code points below U+FFFF that are letters, combining marks, numbers,
# punctuation, symbols or horizontal space separators.  Written as that whitelist, not as
# the category blacklist fakeecs's validator uses, so the oracle does not share the code it
# checks.
_NOVA_PRINTABLE_CATEGORIES = ("L", "M", "N", "P", "S")


def _printable(char):
    category = unicodedata.category(char)
    return ord(char) < 0xFFFF and (category[0] in _NOVA_PRINTABLE_CATEGORIES or category == "Zs")


def name_problem(value):
    """Why ``value`` is not a valid createImage name, or ``None`` (Queens check order)."""
    if not isinstance(value, str):
        return "type"
    if len(value) < 1:
        return "too_short"
    if len(value) > NAME_MAX_CHARS:
        return "too_long"
    if len(value.encode("utf-8")) > NAME_MAX_BYTES:
        return "too_many_bytes"
    if not all(_printable(ch) for ch in value):
        return "format"
    if unicodedata.category(value[0]) == "Zs" or unicodedata.category(value[-1]) == "Zs":
        return "format"
    return None


def metadata_problem(value):
    """Why ``value`` is not valid createImage metadata (schema only), or ``None``."""
    if not isinstance(value, dict):
        return "type"
    bad_keys = []
    for key, item in value.items():
        if not (
            isinstance(key, str)
            and 1 <= len(key) <= METADATA_KEY_MAX
            and all(ch in METADATA_KEY_ALPHABET for ch in key)
        ):
            bad_keys.append(key)
            continue
        if not isinstance(item, str):
            return "value_type"
        if len(item) > METADATA_VALUE_MAX:
            return "value_too_long"
    return "key" if bad_keys else None


#: message fragment a conforming cloud puts in the 400 for each problem
NAME_FRAGMENTS = {
    "type": "is not of type 'string'",
    "too_short": "is too short",
    "too_long": "is too long",
    "too_many_bytes": "is too long",
    "format": INVALID_NAME_MESSAGE,
}
METADATA_FRAGMENTS = {
    "type": "is not of type 'object'",
    "key": "does not match any of the regexes",
    "value_type": "is not of type 'string'",
    "value_too_long": "is too long",
}


# -- names -----------------------------------------------------------------------------


def _fill_to_bytes(draw, total_bytes):
    """A printable name of exactly ``total_bytes`` UTF-8 bytes (mixing 1-, 2- and 3-byte
    characters), with no whitespace at either end."""
    out, used = [], 0
    while used < total_bytes:
        room = total_bytes - used
        widths = [w for w in (1, 2, 3) if w <= room]
        width = draw(st.sampled_from(widths))
        alphabet = {1: ONE_BYTE, 2: TWO_BYTES, 3: THREE_BYTES}[width]
        out.append(draw(st.sampled_from(alphabet)))
        used += width
    return "".join(out)


@st.composite
def boundary_names(draw, valid=True):
    """Names at the byte limit: exactly 242 bytes (valid) or 243..245 (invalid)."""
    total = (
        NAME_MAX_BYTES - draw(st.integers(0, 2))
        if valid
        else NAME_MAX_BYTES + draw(st.integers(1, 3))
    )
    return _fill_to_bytes(draw, total)


def _name_text(min_size=1, max_size=80):
    alphabet = st.sampled_from(ONE_BYTE + TWO_BYTES + THREE_BYTES + WHITESPACE[:1])
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


def valid_image_names():
    """Names a conforming cloud accepts: short, multibyte, and at the byte limit."""
    general = st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
        ),
        min_size=1,
        max_size=60,
    )
    return st.one_of(
        _name_text(1, 40),
        boundary_names(valid=True),
        st.sampled_from(THREE_BYTES).map(lambda ch: ch * (NAME_MAX_BYTES // 3)),  # 240 bytes
        st.just("a"),
        st.just("x" * NAME_MAX_BYTES),
        general,
    ).filter(lambda name: name_problem(name) is None)


@st.composite
def _bad_format_name(draw):
    base = draw(_name_text(1, 20).filter(lambda n: n.strip() == n and n))
    where = draw(st.sampled_from(["start", "end", "inside"]))
    bad = draw(
        st.one_of(
            st.sampled_from(CONTROL + FORMAT_CHARS + NON_BMP),
            st.sampled_from(WHITESPACE).filter(lambda _: where != "inside"),
        )
    )
    if where == "start":
        return bad + base
    if where == "end":
        return base + bad
    cut = draw(st.integers(0, len(base)))
    return base[:cut] + bad + base[cut:]


def invalid_image_names():
    """Values a conforming cloud refuses as a createImage name (with a 400)."""
    return st.one_of(
        st.just(""),
        boundary_names(valid=False),
        st.sampled_from(THREE_BYTES).map(lambda ch: ch * 81),  # 243 bytes, 81 chars
        st.integers(NAME_MAX_CHARS + 1, NAME_MAX_CHARS + 20).map(lambda n: "n" * n),
        _bad_format_name(),
        st.one_of(
            st.none(), st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2)
        ),
    ).filter(lambda name: name_problem(name) is not None)


# -- metadata ----------------------------------------------------------------------------


def metadata_keys(max_size=METADATA_KEY_MAX):
    return st.one_of(
        st.text(alphabet=METADATA_KEY_ALPHABET, min_size=1, max_size=min(max_size, 40)),
        st.just("k" * max_size),
        # names Nova drops and names Glance refuses (403), so the oracle's rule is exercised
        st.sampled_from(["location", "os_glance_x", "self", "stores", "deleted", "status"]),
    )


def metadata_values():
    return st.one_of(
        st.text(max_size=40),
        st.just("v" * METADATA_VALUE_MAX),
        st.text(alphabet=THREE_BYTES, max_size=METADATA_VALUE_MAX),
    )


def valid_metadata(max_items=8):
    """Schema-valid metadata with at most ``max_items`` items (no quota problem)."""
    return st.dictionaries(metadata_keys(), metadata_values(), max_size=max_items)


@st.composite
def metadata_of_size(draw, size):
    """Exactly ``size`` schema-valid items (for the 128/129 quota boundary)."""
    value = draw(st.sampled_from(["v", "", "v" * METADATA_VALUE_MAX]))
    return {f"key-{index:04d}": value for index in range(size)}


def metadata_at_quota():
    """128 items (always fine) or 129..131 items (403 below 2.39)."""
    return st.integers(METADATA_ITEMS_QUOTA - 1, METADATA_ITEMS_QUOTA + 3).flatmap(metadata_of_size)


@st.composite
def invalid_metadata(draw):
    """Metadata the schema refuses (400): bad keys, non-string or too long values, not a dict."""
    kind = draw(st.sampled_from(["type", "key", "long_key", "value_type", "value_too_long"]))
    base = draw(valid_metadata(max_items=3))
    if kind == "type":
        return draw(
            st.one_of(st.lists(st.text(max_size=3), max_size=2), st.text(max_size=5), st.integers())
        )
    if kind == "key":
        bad = draw(
            st.text(min_size=1, max_size=10).filter(
                lambda k: any(ch not in METADATA_KEY_ALPHABET for ch in k)
            )
        )
        return dict(base, **{bad: "v"})
    if kind == "long_key":
        return dict(base, **{"k" * (METADATA_KEY_MAX + draw(st.integers(1, 5))): "v"})
    if kind == "value_type":
        return dict(
            base,
            key=draw(
                st.one_of(
                    st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)
                )
            ),
        )
    return dict(base, key="v" * (METADATA_VALUE_MAX + draw(st.integers(1, 5))))


# -- microversions ----------------------------------------------------------------------


@dataclass(frozen=True)
class MicroversionCase:
    """Request headers and what the cloud must do: serve ``version`` or fail with ``status``."""

    headers: dict
    version: tuple | None = None
    status: int = 200

    @property
    def ok(self):
        return self.version is not None


def _fmt(version):
    return "%d.%d" % version


def valid_microversions():
    """Versions as tuples, 2.1 .. 2.60."""
    return st.integers(MIN_VERSION[1], MAX_VERSION[1]).map(lambda minor: (2, minor))


def microversion_cases():
    """Header sets with their expected outcome (served version, 400 or 406)."""
    good = valid_microversions().flatmap(
        lambda v: st.sampled_from(
            [
                MicroversionCase({"OpenStack-API-Version": f"compute {_fmt(v)}"}, v),
                MicroversionCase({"X-OpenStack-Nova-API-Version": _fmt(v)}, v),
                MicroversionCase({"OpenStack-API-Version": f"volume 3.0, compute {_fmt(v)}"}, v),
            ]
        )
    )
    special = st.sampled_from(
        [
            MicroversionCase({}, MIN_VERSION),
            MicroversionCase({"OpenStack-API-Version": "compute latest"}, MAX_VERSION),
            MicroversionCase({"X-OpenStack-Nova-API-Version": "latest"}, MAX_VERSION),
        ]
    )
    out_of_range = st.one_of(
        st.integers(MAX_VERSION[1] + 1, 200).map(lambda m: (2, m)),
        st.integers(3, 9).map(lambda major: (major, 0)),
        st.just((1, 0)),
        st.just((2, 0)),
    ).map(lambda v: MicroversionCase({"OpenStack-API-Version": f"compute {_fmt(v)}"}, None, 406))
    malformed = st.sampled_from(
        ["2", "2.", ".5", "2.a", "two", "2.01", "02.1", "v2.1", "2.1.1", "2,1"]
    ).map(lambda raw: MicroversionCase({"OpenStack-API-Version": f"compute {raw}"}, None, 400))
    return st.one_of(good, special, out_of_range, malformed)


def microversion_headers():
    """Valid ``OpenStack-API-Version`` headers only (a dict)."""
    return valid_microversions().map(lambda v: {"OpenStack-API-Version": f"compute {_fmt(v)}"})


# -- createImage bodies -------------------------------------------------------------------


@dataclass
class CreateImageCase:
    """A createImage request on an ACTIVE server and what a conforming cloud answers.

    ``status`` is 202 (accepted), 400 (schema) or 403 (metadata quota below 2.39, or a
    property Glance keeps for itself);
    ``fragment`` is a piece of the error message; ``reason`` names the rule.
    """

    body: object
    version: tuple = MAX_VERSION
    status: int = 202
    reason: str | None = None
    fragment: str | None = None
    headers: dict = field(default_factory=dict)

    @property
    def valid(self):
        return self.status == 202

    @property
    def name(self):
        spec = self.body.get("createImage") if isinstance(self.body, dict) else None
        return spec.get("name") if isinstance(spec, dict) else None

    @property
    def metadata(self):
        spec = self.body.get("createImage") if isinstance(self.body, dict) else None
        return spec.get("metadata") if isinstance(spec, dict) else None


def expected_create_image(body, version=MAX_VERSION):
    """``(status, reason, fragment)`` a conforming cloud answers ``body`` with (ACTIVE server).

    Problems are reported in Nova's JSON-schema keyword order (``properties``:
    name then metadata, then ``required``, then ``additionalProperties``); the
    strategies below only build bodies with a single problem.
    """
    spec = body.get("createImage") if isinstance(body, dict) else None
    if not isinstance(spec, dict):
        return 400, "body_type", "is not of type 'object'"
    if "name" in spec:
        problem = name_problem(spec["name"])
        if problem:
            return 400, "name_" + problem, NAME_FRAGMENTS[problem]
    if "metadata" in spec:
        problem = metadata_problem(spec["metadata"])
        if problem:
            return 400, "metadata_" + problem, METADATA_FRAGMENTS[problem]
    if "name" not in spec:
        return 400, "name_required", "'name' is a required property"
    extra = [key for key in spec if key not in ("name", "metadata")]
    if extra:
        return 400, "additional", "Additional properties are not allowed"
    if version < QUOTA_DROPPED_AT and len(spec.get("metadata") or {}) > METADATA_ITEMS_QUOTA:
        return 403, "metadata_quota", "Image metadata limit exceeded"
    for key in spec.get("metadata") or {}:
        refusal = glance_refusal(key)
        if refusal:
            return 403, refusal, f"Attribute '{key}' is {refusal.replace('_', '-')}."
    return 202, None, None


#: what Nova's ``_convert_to_v2`` takes out before Glance sees the image
NOVA_DROPS_BEFORE_GLANCE = {"size", "deleted", "status", "created_at", "updated_at", "deleted_at"}
#: Glance v2 create: properties it keeps for itself (403 ``is reserved``/``is read-only``)
GLANCE_RESERVED = {"location", "deleted", "deleted_at"}
GLANCE_READ_ONLY = {"self", "file", "schema", "direct_url", "stores"}


def glance_refusal(key):
    """``"reserved"``/``"read_only"`` when Glance refuses the snapshot property ``key``."""
    if key in NOVA_DROPS_BEFORE_GLANCE:
        return None
    if key in GLANCE_RESERVED or key.startswith("os_glance"):
        return "reserved"
    if key in GLANCE_READ_ONLY:
        return "read_only"
    return None


def _case(body, version):
    status, reason, fragment = expected_create_image(body, version)
    return CreateImageCase(
        body=body,
        version=version,
        status=status,
        reason=reason,
        fragment=fragment,
        headers={"OpenStack-API-Version": f"compute {_fmt(version)}"},
    )


def _with_metadata(name, metadata):
    spec = {"name": name}
    if metadata is not None:
        spec["metadata"] = metadata
    return {"createImage": spec}


def valid_create_image_bodies(max_items=8):
    """``{"createImage": {...}}`` bodies a conforming cloud accepts at every microversion."""
    return st.builds(
        _with_metadata, valid_image_names(), st.one_of(st.none(), valid_metadata(max_items))
    )


def invalid_create_image_bodies():
    """Bodies refused with a 400 at every microversion (one problem each)."""
    kinds = {
        "name": st.builds(
            _with_metadata, invalid_image_names(), st.one_of(st.none(), valid_metadata(2))
        ),
        "metadata": st.builds(_with_metadata, valid_image_names(), invalid_metadata()),
        "required": st.builds(lambda meta: {"createImage": {"metadata": meta}}, valid_metadata(2)),
        "additional": st.builds(
            lambda name, key: {"createImage": {"name": name, key: "x"}},
            valid_image_names(),
            st.sampled_from(["description", "Name", "os_type"]),
        ),
        "type": st.one_of(st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=2)).map(
            lambda spec: {"createImage": spec}
        ),
    }
    return st.sampled_from(
        ["name", "name", "name", "metadata", "metadata", "required", "additional", "type"]
    ).flatmap(kinds.__getitem__)


def create_image_cases(versions=None):
    """Valid (about half), invalid and quota-boundary requests with their expected outcome."""
    versions = versions or valid_microversions()
    kinds = {
        "valid": valid_create_image_bodies(),
        "invalid": invalid_create_image_bodies(),
        "quota": st.builds(_with_metadata, valid_image_names(), metadata_at_quota()),
    }
    bodies = st.sampled_from(["valid", "valid", "valid", "invalid", "invalid", "quota"]).flatmap(
        kinds.__getitem__
    )
    return st.builds(_case, bodies, versions)


# -- servers ----------------------------------------------------------------------------

DEFAULT_ZONES = ("cn-north-4a", "cn-north-4b", "cn-north-4c")
DEFAULT_FLAVORS = ("s6.small.1", "s6.medium.2", "s6.large.2", "s6.xlarge.2")
DEFAULT_IMAGES = ("5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a01", "5f1b4c2e-8a3d-4e6f-9b7a-0c1d2e3f4a02")


def server_names():
    """Valid Nova server names (1..255 printable characters, no edge whitespace)."""
    return _name_text(1, 30).filter(lambda name: name_problem(name) is None)


@st.composite
def server_specs(
    draw, zones=DEFAULT_ZONES, flavors=DEFAULT_FLAVORS, images=DEFAULT_IMAGES, names=None
):
    """The ``server`` object of a valid ``POST /servers`` (microversion >= 2.37)."""
    spec = {
        "name": draw(names or server_names()),
        "flavorRef": draw(st.sampled_from(list(flavors))),
        "imageRef": draw(st.sampled_from(list(images))),
        "networks": draw(st.sampled_from(["auto", "none"])),
    }
    if zones and draw(st.booleans()):
        spec["availability_zone"] = draw(st.sampled_from(list(zones)))
    if draw(st.booleans()):
        spec["metadata"] = draw(valid_metadata(max_items=3))
    return spec


# -- scenario worlds -----------------------------------------------------------------------

DEFAULT_IDENTITY = {
    "domains": [{"id": "3c9a6b0e1d2f4a5b8c7d6e5f4a3b2c1d", "name": "Default"}],
    "projects": [
        {"id": "0fae0ec5c0de4e1bb2b3c4d5e6f70819", "name": "fakeecs", "domain": "Default"}
    ],
    "users": [
        {
            "id": "1aa0ec5c0de4e1bb2b3c4d5e6f708191",
            "name": "fakeecs",
            "domain": "Default",
            "roles": {"fakeecs": ["admin", "member", "reader"]},
        }
    ],
}

PROCESSES = ("server_build", "server_action", "server_delete", "image_snapshot")


def transition_settings(processes=PROCESSES):
    """``{"server_build": 0.5, "image_snapshot": "manual", ...}`` for some processes."""
    durations = st.one_of(
        st.sampled_from([0, 0.5, 1, 2, 10, 60]),
        st.floats(0, 120, allow_nan=False, allow_infinity=False),
        st.just("manual"),
    )
    return st.dictionaries(st.sampled_from(list(processes)), durations, max_size=len(processes))


@st.composite
def worlds(draw, identity=True, max_zones=4, max_flavors=4, max_images=3, transitions=True):
    """A self-consistent scenario dict: AZs (at least one available), flavors, public
    images a flavor can boot, and optionally timed-process settings.

    With ``identity`` the default project and user are included, so the default
    credentials work against a cloud built from the world alone.
    """
    region = draw(st.sampled_from(["cn-north-4", "cn-east-3", "ap-southeast-1"]))
    count = draw(st.integers(1, max_zones))
    zone_names = [f"{region}{letter}" for letter in "abcdefgh"[:count]]
    available = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    available[draw(st.integers(0, count - 1))] = True
    zones = [
        {"name": name, "available": ok} for name, ok in zip(zone_names, available, strict=False)
    ]
    flavor_count = draw(st.integers(1, max_flavors))
    rams = sorted(
        draw(
            st.lists(
                st.sampled_from([512, 1024, 2048, 4096, 8192]),
                min_size=flavor_count,
                max_size=flavor_count,
                unique=True,
            )
        )
    )
    flavors = [
        {"id": f"s6.f{i}", "name": f"s6.f{i}", "vcpus": max(1, ram // 2048), "ram": ram}
        for i, ram in enumerate(rams)
    ]
    images = []
    for index in range(draw(st.integers(0, max_images))):
        images.append(
            {
                "id": f"00000000-0000-4000-8000-{index:012d}",
                "name": draw(_name_text(1, 20).filter(lambda n: name_problem(n) is None)),
                "visibility": "public",
                "min_ram": draw(st.sampled_from([0] + [r for r in rams])),
                "min_disk": draw(st.sampled_from([0, 20, 40])),
                "properties": {"os_distro": draw(st.sampled_from(["ubuntu", "centos", "euleros"]))},
            }
        )
    world = {"region": region, "availability_zones": zones, "flavors": flavors, "images": images}
    if identity:
        world = dict(DEFAULT_IDENTITY, **world)
    if transitions and draw(st.booleans()):
        world["transitions"] = draw(transition_settings())
    return world


__all__ = [
    "MAX_VERSION",
    "METADATA_ITEMS_QUOTA",
    "MIN_VERSION",
    "NAME_MAX_BYTES",
    "NAME_MAX_CHARS",
    "CreateImageCase",
    "MicroversionCase",
    "boundary_names",
    "create_image_cases",
    "expected_create_image",
    "invalid_create_image_bodies",
    "invalid_image_names",
    "invalid_metadata",
    "metadata_at_quota",
    "metadata_keys",
    "metadata_problem",
    "microversion_cases",
    "microversion_headers",
    "name_problem",
    "server_names",
    "server_specs",
    "transition_settings",
    "valid_create_image_bodies",
    "valid_image_names",
    "valid_metadata",
    "valid_microversions",
    "worlds",
]
