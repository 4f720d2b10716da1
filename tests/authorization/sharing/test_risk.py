"""Item 7: the periodic review, expiry and reminders, grants of the higher grades waiting for
a passed assessment, and the IT-project acceptance check "has a supply path" (Art. 11)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from authorization.sharing.checks import resource_has_supply_path
from authorization.sharing.models import Grant
from authorization.sharing.services import (
    ASSESSMENT_KIND,
    GrantRefused,
    grant_authenticate,
    grant_issue,
    grant_review_record,
    grants_expire,
    grants_remind,
    grants_volume_check,
    usage_record,
)
from security.assessments.registry import subject_kind
from security.assessments.services import assessment_record
from tests.accounts.factories import UserFactory
from tests.catalog import factories as cf
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.workdays import today

from .conftest import web

pytestmark = pytest.mark.django_db


def _issue(resource, requester, provider, **kwargs):
    defaults = dict(
        resource=resource,
        grantee=requester.org,
        items={i.pk: "clear" for i in resource.published_version.items.all()},
        origin="share_request",
        valid_until=timezone.now() + dt.timedelta(days=60),
        acting_user=provider.admin,
    )
    defaults.update(kwargs)
    return grant_issue(**defaults)


def test_higher_grade_grant_works_after_a_passed_assessment(requester, provider, bureau):
    items = cf.valid_items()
    version = cf.make_published(provider, bureau.reviewer, items=items, grade=cf.grade("L3"))
    grant, raw = _issue(version.resource, requester, provider)
    with pytest.raises(GrantRefused) as caught:
        grant_authenticate(raw, client_ip="10.0.0.1")
    assert caught.value.code == "assessment_required"
    subject = subject_kind(ASSESSMENT_KIND)
    assert subject is not None and subject.resolve(str(grant.pk)) == grant
    assert grant in list(subject.pending())
    assessment_record(
        subject_kind=ASSESSMENT_KIND,
        subject_id=grant.pk,
        assessed_on=today(),
        result="pass",
        findings="符合要求。",
        answers=[(q.key, "yes", "") for q in subject.checklist],
        valid_until=today() + dt.timedelta(days=365),
        acting_user=UserFactory(organization=bureau.org, roles=[Role.SECURITY_ADMIN]),
    )
    assert grant_authenticate(raw, client_ip="10.0.0.1") == grant


def test_expiry_and_reminders(resource, requester, provider):
    soon, _raw = _issue(
        resource, requester, provider, valid_until=timezone.now() + dt.timedelta(days=5)
    )
    later, _raw = _issue(
        resource, requester, provider, valid_until=timezone.now() + dt.timedelta(days=300)
    )
    assert grants_remind() == 1
    assert grants_remind() == 0  # once
    soon.refresh_from_db()
    assert soon.reminded_at is not None
    assert grants_expire(now=timezone.now() + dt.timedelta(days=6)) == 1
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.state, later.state) == (Grant.State.EXPIRED, Grant.State.ACTIVE)


def test_volume_flag_once_a_day_and_review_clears_it(resource, requester, provider, bureau):
    grant, _raw = _issue(resource, requester, provider, declared_daily_rows=10)
    yesterday = today() - dt.timedelta(days=1)
    usage_record(grant, rows=31, day=yesterday)
    assert grants_volume_check(day=yesterday) == 1
    assert grants_volume_check(day=yesterday) == 0
    grant.refresh_from_db()
    assert grant.flagged_at is not None
    # Only the reviewers or the provider record a review; a note is required.
    with pytest.raises(DomainError):
        grant_review_record(grant=grant, note="看过了", acting_user=requester.admin)
    security_admin = UserFactory(organization=bureau.org, roles=[Role.SECURITY_ADMIN])
    with pytest.raises(DomainError) as caught:
        grant_review_record(grant=grant, note=" ", acting_user=security_admin)
    assert caught.value.field == "note"
    grant = grant_review_record(grant=grant, note="业务高峰,属正常。", acting_user=security_admin)
    assert grant.flagged_at is None and grant.reviewed_at is not None
    # The risk page lists it for the security admin, not for an agency.
    page = web(security_admin).get(reverse("sharing:risk"))
    assert page.status_code == 200 and grant.key_prefix in page.content.decode()
    assert web(requester.admin).get(reverse("sharing:risk")).status_code == 404
    # The security admin may suspend it; the requester may not.
    suspend = reverse("sharing:grant_move", args=[grant.pk, "suspend"])
    assert web(requester.admin).post(suspend, {"reason": "x"}).status_code == 404
    assert web(security_admin).post(suspend, {"reason": "用量异常"}).status_code == 302
    grant.refresh_from_db()
    assert grant.state == Grant.State.SUSPENDED


def test_acceptance_check_names_what_is_missing(resource, provider, bureau):
    missing = resource_has_supply_path(resource)
    assert any("no data" in str(m) for m in missing)
    hidden = cf.make_published(
        provider,
        bureau.reviewer,
        name="不予共享的资源",
        share_type="none",
        share_legal_basis="《中华人民共和国保守国家秘密法》第九条",
    )
    reasons = [str(m) for m in resource_has_supply_path(hidden.resource)]
    assert any("not shared" in r for r in reasons)


def test_acceptance_check_passes_a_loaded_shared_resource(db):
    from aggregation.models import Batch
    from tests.aggregation.factories import make_channel
    from tests.aggregation.test_views import csv_rows, load

    setup = make_channel(name="供数通道")
    assert resource_has_supply_path(setup.resource)  # nothing loaded yet
    assert load(setup, csv_rows(5)).status == Batch.Status.SUCCEEDED
    assert resource_has_supply_path(setup.resource) == []
