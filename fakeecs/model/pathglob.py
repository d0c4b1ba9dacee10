"""Path globs of fault rules and journal filters: ``*`` within a segment, ``**`` across."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` matches within one path segment, ``**`` across segments; the rest is literal."""
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("^" + "".join(out) + "/?$")


def path_matches(pattern: str, path: str) -> bool:
    """Whether ``path`` matches the glob ``pattern`` (a trailing slash is ignored)."""
    return bool(glob_regex(pattern).match(path))
