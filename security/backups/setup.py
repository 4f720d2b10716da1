"""Backups in the platform: the security administrator's permissions and menu entry, and the
durable tasks (imported so that web and worker know them)."""

from __future__ import annotations

from django.core import checks
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role, register_role_permissions
from wuhan_pdr.kernel.navigation import NavItem, register_nav

from . import tasks  # noqa: F401  (durable tasks register themselves)
from .checks import backup_key_check
from .ledger import register as register_ledger_roots
from .permissions import RUN_PERMISSION, VIEW_PERMISSIONS, sees_backups


def register() -> None:
    checks.register(backup_key_check, checks.Tags.security, deploy=True)
    register_ledger_roots()
    register_role_permissions(Role.SECURITY_ADMIN, [*VIEW_PERMISSIONS, RUN_PERMISSION])
    register_nav(
        NavItem("security_backups", _("Backups"), "security:backups:index", sees_backups, order=86)
    )
