"""Item 1 (Art. 18): a resource enters the authorized-operation scope only when its grade
allows operation; the catalog's field rules refuse the flag on an L4 entry."""

from __future__ import annotations

import pytest

from catalog import rules, services
from catalog.models import ResourceVersion
from tests.catalog import factories as cf
from wuhan_pdr.kernel.errors import DomainError

from .conftest import apply, eligible


def _fields(grade: str, flag: bool) -> dict:
    return cf.valid_fields(
        grade=cf.grade(grade),
        operation_eligible=flag,
        share_type="conditional",
        open_type="none",
    )


def test_the_rule_refuses_an_l4_resource_in_the_operation_scope():
    broken = rules.check_resource(_fields("L4", True), cf.valid_items(), complete=True)
    assert [(v.field, v.item) for v in broken] == [("operation_eligible", None)]
    assert "L4" in broken[0].message
    assert rules.check_resource(_fields("L4", False), cf.valid_items(), complete=True) == []
    assert rules.check_resource(_fields("L3", True), cf.valid_items(), complete=True) == []


def test_an_l4_entry_flagged_for_operation_cannot_be_submitted(provider):
    version = cf.make_draft(provider, grade=cf.grade("L4"), operation_eligible=True)
    assert ("operation_eligible", None) in [
        (v.field, v.item) for v in services.violations_of(version)
    ]
    with pytest.raises(services.RulesBroken):
        services.resource_transition(version=version, action="submit", acting_user=provider.staff)
    version.refresh_from_db()
    assert version.state == ResourceVersion.State.DRAFT


def test_an_authorization_refuses_a_resource_outside_the_scope(provider, bureau, operator):
    ok = eligible(provider, bureau.reviewer)
    outside = cf.make_published(provider, bureau.reviewer, name="未纳入运营的资源").resource
    with pytest.raises(DomainError) as refused:
        apply(operator, [ok, outside])
    assert refused.value.field == "resources"
    assert outside.code in str(refused.value)
