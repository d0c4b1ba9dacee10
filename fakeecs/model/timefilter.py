"""Date filters on list routes (``created_at=gte:2014-01-01T01:01:01Z``), parsed once for all APIs.

Glance splits the operator as ``glance.common.utils.split_filter_op`` does: a
value that is itself an ISO time is an equality, else the text before the
first ``:`` is the operator.  The time is parsed before the operator is
checked, so a bad time wins over a bad operator.  IMS requires the operator.
"""

from __future__ import annotations

from .clock import parse_time

OPERATORS = ("gt", "gte", "lt", "lte", "eq", "neq")


class TimeFilterError(ValueError):
    """A date filter that cannot be used; ``kind`` is ``"format"`` or ``"operator"``."""

    def __init__(self, kind: str, expression: str) -> None:
        super().__init__(f"bad date filter {expression!r} ({kind})")
        self.kind = kind


def _parses(text: str) -> bool:
    try:
        parse_time(text)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def parse_time_filter(expression: str, *, operator_required: bool = False) -> tuple[str, float]:
    """``(operator, epoch seconds)`` of a date filter; raises :class:`TimeFilterError`."""
    left, sep, right = expression.partition(":")
    if operator_required:
        if not sep or left not in OPERATORS:
            raise TimeFilterError("format", expression)
        operator, text = left, right
    elif sep and not _parses(expression):
        operator, text = left, right
    else:
        operator, text = "eq", expression
    try:
        moment = parse_time(text)
    except (ValueError, TypeError, OverflowError):
        raise TimeFilterError("format", expression) from None
    if operator not in OPERATORS:
        raise TimeFilterError("operator", expression)
    return operator, moment


def time_matches(actual: float, operator: str, moment: float) -> bool:
    """Whether ``actual`` compares to ``moment`` as ``operator`` says."""
    return {
        "gt": actual > moment,
        "gte": actual >= moment,
        "lt": actual < moment,
        "lte": actual <= moment,
        "eq": actual == moment,
        "neq": actual != moment,
    }[operator]
