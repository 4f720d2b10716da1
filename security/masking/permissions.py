"""Who may see and change masking rules: the security administrator manages them; the
auditor reads them (and their history)."""

from __future__ import annotations

from wuhan_pdr.accounts.roles import Role, has_role


def can_view_rules(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and has_role(
        user, Role.SECURITY_ADMIN, Role.AUDITOR
    )


def can_manage_rules(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and has_role(user, Role.SECURITY_ADMIN)
