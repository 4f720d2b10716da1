"""Reads for the backups page (only the security administrator gets there: views check)."""

from __future__ import annotations

from .models import Backup, RestoreDrill


def backup_list(*, state: str = ""):
    qs = Backup.objects.select_related("created_by")
    return qs.filter(state=state) if state else qs


def drill_list(*, result: str = ""):
    qs = RestoreDrill.objects.select_related("backup", "created_by")
    return qs.filter(state=result) if result else qs
