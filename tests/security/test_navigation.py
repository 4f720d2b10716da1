"""The security chapter's pages sit in one drop-down of the menu bar (数据安全): backups, the
two-factor resets and the audit log are members of it, not entries of the bar itself."""

from __future__ import annotations

from django.utils import translation

from tests.accounts.factories import UserFactory
from tests.aggregation.factories import security_admin
from tests.catalog import factories as cf
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.navigation import menu_for


def _bar(user) -> dict[str, list[str]]:
    with translation.override("en"):
        return {
            str(e.label): [str(c.label) for c in (e.children or [])] for e in menu_for(user, "/")
        }


def test_the_security_admins_security_pages_are_in_the_security_group(db):
    bar = _bar(security_admin())
    for label in ("Backups", "Two-factor login of users", "Audit log"):
        assert label not in bar
        assert label in bar["Security"]
    assert "Security assessments" in bar["Security"]
    assert "Management" not in bar  # its only entry for this role went to the security group


def test_the_auditor_opens_the_audit_log_from_the_security_group(db):
    auditor = UserFactory(organization=cf.make_city_bureau().org, roles=[Role.AUDITOR])
    bar = _bar(auditor)
    assert "Audit log" not in bar and "Audit log" in bar["Security"]
