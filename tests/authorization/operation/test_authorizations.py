"""Item 2: applying, reviewing, approving (with the approval checks and the providers'
consents), grants issued at the start, suspension and revocation with the grants; the
authorizing body (city, or a district bureau for its district's resources); fee caps and
products; the yearly disclosure published by the bureau only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from authorization.operation import services
from authorization.operation.checks import register_approval_check, unregister_approval_check
from authorization.operation.models import OperationAuthorization, YearlyDisclosure
from authorization.sharing.models import Grant
from tests.accounts.factories import UserFactory
from tests.catalog import factories as cf
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.workdays import today

from .conftest import apply, approve, committed, eligible

S = OperationAuthorization.State


def test_an_individual_authorization_goes_through_review_and_issues_grants(
    resource, bureau, operator
):
    a = apply(operator, [resource])
    assert a.state == S.SUBMITTED
    assert a.authorizing_body == bureau.org
    assert a.plan and a.plan_name == "实施方案.pdf"
    with pytest.raises(DomainError) as refused:  # the provider's consent is missing
        committed(
            services.authorization_decide,
            authorization=a,
            action="approve",
            acting_user=bureau.reviewer,
        )
    assert resource.provider.name in str(refused.value)
    a = committed(
        services.authorization_decide,
        authorization=a,
        action="return",
        comment="请补充安全措施。",
        acting_user=bureau.reviewer,
    )
    assert a.state == S.RETURNED and a.state_reason == "请补充安全措施。"
    a = committed(
        services.authorization_decide, authorization=a, action="resubmit", acting_user=operator
    )
    a = approve(a, bureau.reviewer)
    assert a.state == S.ACTIVE  # its start date has come
    (grant,) = a.grants.all()
    assert grant.origin == Grant.Origin.OPERATION
    assert grant.grantee == operator.organization and grant.resource == resource
    assert grant.key_collected_at is None  # the operator collects its key
    assert grant.valid_until.date() >= a.ends_on - dt.timedelta(days=1)


def test_the_operator_cannot_approve_and_a_refusal_needs_reasons(resource, bureau, operator):
    a = apply(operator, [resource])
    with pytest.raises(TransitionNotAllowed):
        services.authorization_decide(authorization=a, action="approve", acting_user=operator)
    with pytest.raises(DomainError):
        services.authorization_decide(
            authorization=a, action="refuse", comment=" ", acting_user=bureau.reviewer
        )


def test_approval_is_refused_while_an_approval_check_finds_a_problem(resource, bureau, operator):
    def unregistered(resources):
        return [f"{r.code}: 未登记" for r in resources]

    a = apply(operator, [resource])
    register_approval_check(unregistered)
    try:
        with pytest.raises(DomainError) as refused:
            approve(a, bureau.reviewer)
        assert f"{resource.code}: 未登记" in str(refused.value)
        a.refresh_from_db()
        assert a.state == S.SUBMITTED and not a.grants.exists()
    finally:
        unregister_approval_check(unregistered)
    assert approve(a, bureau.reviewer).state == S.ACTIVE


def test_a_later_start_waits_for_beat_and_suspension_and_revocation_carry_the_grants(
    resource, bureau, operator
):
    start = today() + dt.timedelta(days=3)
    a = approve(apply(operator, [resource], starts_on=start), bureau.reviewer)
    assert a.state == S.APPROVED and not a.grants.exists()
    assert committed(services.authorizations_activate, today=start - dt.timedelta(days=1)) == 0
    assert committed(services.authorizations_activate, today=start) == 1
    a.refresh_from_db()
    assert a.state == S.ACTIVE
    (grant,) = a.grants.all()
    a = committed(
        services.authorization_change,
        authorization=a,
        action="suspend",
        reason="核查数据使用情况。",
        acting_user=bureau.reviewer,
    )
    grant.refresh_from_db()
    assert a.state == S.SUSPENDED and grant.state == Grant.State.SUSPENDED
    a = committed(
        services.authorization_change,
        authorization=a,
        action="revoke",
        reason="违反安全要求。",
        acting_user=bureau.reviewer,
    )
    grant.refresh_from_db()
    assert a.state == S.REVOKED and a.ended_at is not None
    assert grant.state == Grant.State.REVOKED


def test_a_district_bureau_authorizes_its_districts_resources_only(bureau, operator):
    district = cf.make_district_bureau()
    agency = cf.make_district_agency()
    local = eligible(agency, district.reviewer, name="区级公共数据")
    city_resource = eligible(cf.make_agency(), bureau.reviewer, name="市级公共数据")
    a = apply(operator, [local])
    b = apply(operator, [city_resource])
    mixed = apply(operator, [local, city_resource])
    assert a.authorizing_body == district.org
    assert b.authorizing_body == bureau.org and mixed.authorizing_body == bureau.org
    with pytest.raises((TransitionNotAllowed, AccessDenied)):
        approve(a, bureau.reviewer)
    with pytest.raises(TransitionNotAllowed):
        services.authorization_decide(
            authorization=a, action="approve", acting_user=bureau.reviewer
        )
    with pytest.raises((TransitionNotAllowed, AccessDenied)):
        approve(b, district.reviewer)
    assert approve(a, district.reviewer).state == S.ACTIVE


def test_a_product_above_the_cap_of_its_fee_basis_is_refused(resource, bureau, operator, caps):
    approve(apply(operator, [resource]), bureau.reviewer)
    fields = {
        "name": "企业信用画像",
        "description": "融合数据的信用评估。",
        "unit": "次",
        "fee_basis": "call",
        "resources": [resource.pk],
    }
    with pytest.raises(DomainError) as refused:
        services.product_save(acting_user=operator, price=Decimal("0.06"), **fields)
    assert refused.value.field == "price" and "0.05" in str(refused.value)
    product = committed(
        services.product_save, acting_user=operator, price=Decimal("0.05"), **fields
    )
    assert product.price == Decimal("0.05")
    other = cf.make_published(cf.make_agency(), bureau.reviewer, name="未授权资源").resource
    with pytest.raises(DomainError) as refused:
        services.product_save(
            acting_user=operator, price=Decimal("0.01"), **{**fields, "resources": [other.pk]}
        )
    assert refused.value.field == "resources"
    with pytest.raises(AccessDenied):
        services.product_save(acting_user=bureau.reviewer, price=Decimal("0.01"), **fields)


def test_only_the_bureau_publishes_a_yearly_disclosure(resource, bureau, operator):
    approve(apply(operator, [resource]), bureau.reviewer)
    other_bureau = cf.make_district_bureau()
    colleague = UserFactory(organization=operator.organization, roles=[Role.OPERATOR])
    d = services.disclosure_draft(acting_user=operator, year=today().year - 1, body="年度报告。")
    assert d.due_on == dt.date(today().year, 3, 31)
    with pytest.raises(TransitionNotAllowed):  # not submitted yet
        services.disclosure_move(disclosure=d, action="publish", acting_user=bureau.reviewer)
    d = services.disclosure_move(disclosure=d, action="submit", acting_user=operator)
    for someone in (operator, colleague, other_bureau.reviewer):
        with pytest.raises(TransitionNotAllowed):
            services.disclosure_move(disclosure=d, action="publish", acting_user=someone)
    d = committed(
        services.disclosure_move, disclosure=d, action="publish", acting_user=bureau.reviewer
    )
    assert d.state == YearlyDisclosure.State.PUBLISHED and d.published_by == bureau.reviewer
    with pytest.raises(DomainError):  # a published report is not rewritten
        services.disclosure_draft(acting_user=operator, year=d.year, body="改写")


def test_only_the_city_bureau_sets_fee_caps(bureau, operator):
    district = cf.make_district_bureau()
    for someone in (operator, district.reviewer):
        with pytest.raises(AccessDenied):
            services.fee_cap_set(basis="call", amount="1", rule="", acting_user=someone)
    with pytest.raises(DomainError):
        services.fee_cap_set(basis="call", amount="-1", rule="", acting_user=bureau.reviewer)
    cap = committed(
        services.fee_cap_set, basis="call", amount="0.2", rule="按次", acting_user=bureau.reviewer
    )
    assert cap.amount == Decimal("0.2")
