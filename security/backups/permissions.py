"""Who may see and run backups: the security administrator (model permissions declared for
the role in setup.py)."""

from __future__ import annotations

VIEW_PERMISSIONS = ("security.view_backup", "security.view_restoredrill")
RUN_PERMISSION = "security.run_backup"


def sees_backups(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perms(VIEW_PERMISSIONS)


def runs_backups(user) -> bool:
    return sees_backups(user) and user.has_perm(RUN_PERMISSION)
