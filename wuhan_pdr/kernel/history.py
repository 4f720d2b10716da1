"""Saving a regulated record so that its history names the person who acted."""

from __future__ import annotations

from django.db import models


def audited_save(
    obj: models.Model,
    *,
    acting_user,
    reason: str = "",
    update_fields: list[str] | None = None,
    validate: bool = True,
) -> models.Model:
    """Validate `obj`, then save it so that django-simple-history records `acting_user` and
    `reason`, whether or not the save happens inside a web request."""
    if validate:
        obj.full_clean()
    obj._history_user = acting_user
    obj._change_reason = reason[:100] if reason else None
    obj.save(update_fields=update_fields)
    return obj
