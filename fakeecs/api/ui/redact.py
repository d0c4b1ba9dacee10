"""What the dashboard never shows: passwords, secret keys, tokens.

Two nets, applied to every value the dashboard renders (journal entries,
resource records):

1. by name: a scalar under a key that names a secret (``password``,
   ``adminPass``, ``secret``, ``sk``, ``securitytoken``, the token headers, the
   ``id`` of an auth ``token`` object) is replaced by :data:`MASK`;
2. by value: any string that contains a secret the cloud knows (issued tokens,
   secret keys, the admin token, passwords that are not also a name) has it
   replaced by :data:`MASK`, wherever it appears (paths, query strings, text).
"""

import re
from re import Pattern
from typing import Any

MASK = "***"

#: keys (lower case) whose values are secrets
SECRET_KEYS = frozenset(
    {
        "password",
        "original_password",
        "adminpass",
        "admin_pass",
        "secret",
        "sk",
        "secret_key",
        "secretkey",
        "securitytoken",
        "security_token",
        "x-auth-token",
        "x-subject-token",
        "x-fakeecs-admin-token",
        "token_id",
        "access_token",
    }
)
#: shortest known secret value masked wherever it appears (shorter ones would mask text)
MIN_SECRET_LENGTH = 6


def known_secrets(cloud, admin_token: str | None = None) -> Pattern[str] | None:
    """A pattern of every secret value ``cloud`` knows, longest first (None: none)."""
    with cloud.lock:
        names: set[str] = set()
        for store in (cloud.users, cloud.projects, cloud.domains):
            names.update(item.name for item in store.values())
        values = set(getattr(cloud, "tokens", {}) or {})
        values.update(key.sk for key in getattr(cloud, "access_keys", {}).values())
        values.update(user.password for user in cloud.users.values() if user.password not in names)
    if admin_token:
        values.add(admin_token)
    longest_first = sorted(
        (v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH),
        key=len,
        reverse=True,
    )
    if not longest_first:
        return None
    return re.compile("|".join(re.escape(v) for v in longest_first))


def _authorization(value: str) -> str:
    """Keep the scheme and the AK of a signature, never the signature or a bearer secret."""
    head, found, _ = value.partition("Signature=")
    if found:
        return head + "Signature=" + MASK
    scheme = value.split(" ", 1)[0]
    return f"{scheme} {MASK}" if " " in value else MASK


def redact(value: Any, secrets: Pattern | None = None, key: str | None = None) -> Any:
    """A copy of ``value`` (JSON-like) with every secret masked."""
    name = key.lower() if isinstance(key, str) else None
    if (
        name in SECRET_KEYS
        and not isinstance(value, (dict, list, tuple))
        and value not in (None, "")
    ):
        return MASK
    if name == "authorization" and isinstance(value, str):
        return _authorization(value)
    if name == "token" and isinstance(value, str):
        return MASK
    if isinstance(value, dict):
        out = {k: redact(v, secrets, k) for k, v in value.items()}
        if name == "token" and "id" in out:  # Keystone's {"token": {"id": ...}} auth method
            out["id"] = MASK
        return out
    if isinstance(value, (list, tuple)):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str) and secrets is not None:
        return secrets.sub(MASK, value)
    return value
