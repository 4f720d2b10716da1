"""Time limits of the quality and objection procedures, in Chinese working days. The bureau's
administrators may change them (`TimeLimit` rows); these are the defaults."""

from __future__ import annotations

from .models import TimeLimit

DEFAULTS = {
    TimeLimit.Key.ISSUE_RECTIFY: 10,
    TimeLimit.Key.OBJECTION_DECIDE: 5,
    TimeLimit.Key.OBJECTION_CONSULT: 10,
    TimeLimit.Key.OBJECTION_CARRY_OUT: 10,
    TimeLimit.Key.OBJECTION_CLOSE: 5,
}


def working_days_for(key: str) -> int:
    """The limit for a procedure step: the administrators' value, else the default."""
    row = TimeLimit.objects.filter(key=key).only("working_days").first()
    return row.working_days if row is not None else DEFAULTS[key]
