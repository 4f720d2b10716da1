"""Who reads the audit log: the auditor and the security administrator (domain.md,
"Security"); nobody else, and the page answers 404 to them."""

from __future__ import annotations

from django.http import Http404

from wuhan_pdr.accounts.roles import Role, has_role


def may_read_audit(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and has_role(user, Role.AUDITOR, Role.SECURITY_ADMIN)
    )


def require_audit_reader(user) -> None:
    if not may_read_audit(user):
        raise Http404
