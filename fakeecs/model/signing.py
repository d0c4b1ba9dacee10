"""Huawei's AK/SK request signature (``SDK-HMAC-SHA256``), verified in plain Python.

The Huawei Cloud SDK (``huaweicloudsdkcore.signer.Signer``) signs a canonical
request built from the method, the path, the sorted query, the headers it
lists in ``SignedHeaders`` and the SHA-256 of the body::

    Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex>

:func:`verify` recomputes that signature on the server side from what
arrived on the wire; :func:`sign` does what the SDK does (for tests and for
clients that do not use the SDK).  No HTTP framework is imported here.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

from .errors import Unauthorized

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
#: how far ``X-Sdk-Date`` may be from the (virtual) clock, as on Huawei's gateway
MAX_SKEW = 15 * 60


class Headers(Protocol):
    """Request headers: any object with ``items()`` (a dict, werkzeug's ``Headers``)."""

    def items(self) -> Iterable[tuple[Any, Any]]: ...


#: a raw query string, or its decoded ``(key, value)`` pairs
Query = str | bytes | Iterable[tuple[str, str]]


class SignatureError(Unauthorized):
    """A signed request that does not verify; ``reason`` says why."""

    def __init__(self, message: str, *, reason: str, access_key: str | None = None) -> None:
        super().__init__(message, reason=reason, access_key=access_key)
        self.reason = reason
        self.access_key = access_key


def is_signed(authorization: str | None) -> bool:
    return bool(authorization and authorization.strip().startswith(ALGORITHM + " "))


def parse_authorization(value: str) -> tuple[str, list[str], str]:
    """``(access_key, signed_headers, signature)`` from an ``Authorization`` value."""
    if not is_signed(value):
        raise SignatureError(
            "Incorrect IAM authentication information: unsupported authorization algorithm",
            reason="algorithm",
        )
    fields: dict[str, str] = {}
    for part in value.strip()[len(ALGORITHM) :].split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key.strip()] = item.strip()
    access = fields.get("Access")
    signed = fields.get("SignedHeaders")
    signature = fields.get("Signature")
    if not access or not signed or not signature:
        raise SignatureError(
            "Incorrect IAM authentication information: the Authorization "
            "header must carry Access, SignedHeaders and Signature",
            reason="malformed",
        )
    return access, [h.strip().lower() for h in signed.split(";") if h.strip()], signature


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """Each ``/`` segment of the decoded path re-quoted, always ending in ``/``."""
    uri = "/".join(_encode(segment) for segment in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Sorted ``k=v`` pairs, each side quoted with only ``~`` kept."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(pairs))


def query_pairs(raw_query: str | bytes) -> list[tuple[str, str]]:
    """The decoded ``(key, value)`` pairs of a raw query string."""
    if isinstance(raw_query, bytes):
        raw_query = raw_query.decode("latin-1")
    return parse_qsl(raw_query, keep_blank_values=True)


def canonical_request(
    method: str,
    path: str,
    pairs: Iterable[tuple[str, str]],
    headers: Mapping[str, Any],
    signed_headers: list[str],
    body: bytes,
) -> str:
    """The SDK's CanonicalRequest.  ``headers`` maps lower-case names to values."""
    lines = "".join(f"{name}:{str(headers.get(name, '')).strip()}\n" for name in signed_headers)
    content_hash = headers.get("x-sdk-content-sha256")
    if not body:
        payload_hash = EMPTY_HASH
    elif content_hash:
        payload_hash = content_hash
    else:
        payload_hash = hashlib.sha256(body).hexdigest()
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(pairs),
            lines,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(canonical: str, sdk_date: str | None) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret: str, text: str) -> str:
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_sdk_date(value: str | None) -> float | None:
    try:
        moment = datetime.strptime(value or "", DATE_FORMAT)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc).timestamp()


def format_sdk_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime(DATE_FORMAT)


def verify(
    *,
    method: str,
    path: str,
    query: Query,
    headers: Headers,
    body: bytes | None,
    secret_for: Callable[[str], str | None],
    now: float,
    max_skew: int = MAX_SKEW,
) -> str:
    """Check a signed request; return the access key id it was signed with.

    ``headers`` is any mapping (matched case-insensitively); ``query`` is the
    raw query string or a list of pairs; ``secret_for(ak)`` returns the secret
    key or ``None`` for an unknown key; ``now`` is virtual epoch seconds.
    Raises :class:`SignatureError` with ``reason`` one of ``algorithm``,
    ``malformed``, ``date``, ``skew``, ``unknown_key``, ``headers``, ``signature``.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    access, signed_headers, given = parse_authorization(lowered.get("authorization", ""))
    sdk_date = lowered.get("x-sdk-date")
    moment = parse_sdk_date(sdk_date)
    if moment is None:
        raise SignatureError(
            "Incorrect IAM authentication information: X-Sdk-Date is missing "
            f"or not of the form YYYYMMDDTHHMMSSZ ({sdk_date!r})",
            reason="date",
            access_key=access,
        )
    if abs(moment - now) > max_skew:
        raise SignatureError(
            "Incorrect IAM authentication information: the request has "
            f"expired: X-Sdk-Date {sdk_date} is more than {max_skew // 60} "
            f"minutes from the server time {format_sdk_date(now)}",
            reason="skew",
            access_key=access,
        )
    secret = secret_for(access)
    if secret is None:
        raise SignatureError(
            f"Incorrect IAM authentication information: ak {access} not exist",
            reason="unknown_key",
            access_key=access,
        )
    missing = [name for name in ("x-sdk-date", "host") if name not in signed_headers]
    absent = [name for name in signed_headers if name not in lowered]
    if missing or absent:
        raise SignatureError(
            "Incorrect IAM authentication information: verify aksk signature "
            "fail (signed headers must include host and x-sdk-date and be "
            "present in the request)",
            reason="headers",
            access_key=access,
        )
    pairs = query_pairs(query) if isinstance(query, (str, bytes)) else list(query)
    canonical = canonical_request(method, path, pairs, lowered, signed_headers, body or b"")
    expected = signature(secret, string_to_sign(canonical, sdk_date))
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureError(
            "Incorrect IAM authentication information: verify aksk signature fail",
            reason="signature",
            access_key=access,
        )
    return access


def sign(
    *,
    method: str,
    path: str,
    query: Query = "",
    headers: Mapping[str, Any],
    body: bytes | None = b"",
    access_key: str,
    secret: str,
    now: float,
) -> dict[str, Any]:
    """Headers to add to a request so that :func:`verify` accepts it (SDK behaviour).

    ``headers`` must already hold ``Host`` (and Content-Type etc.); returns a
    new dict with ``X-Sdk-Date`` and ``Authorization`` added.
    """
    out = dict(headers)
    if not any(k.lower() == "x-sdk-date" for k in out):
        out["X-Sdk-Date"] = format_sdk_date(now)
    content_type = next((v for k, v in out.items() if k.lower() == "content-type"), "")
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        out["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    lowered = {k.lower(): str(v) for k, v in out.items()}
    signed_headers = sorted(k for k in lowered if "_" not in k and k != "authorization")
    pairs = query_pairs(query) if isinstance(query, (str, bytes)) else list(query)
    canonical = canonical_request(method, path, pairs, lowered, signed_headers, body or b"")
    value = signature(secret, string_to_sign(canonical, lowered["x-sdk-date"]))
    out["Authorization"] = (
        f"{ALGORITHM} Access={access_key}, SignedHeaders="
        f"{';'.join(signed_headers)}, Signature={value}"
    )
    return out
