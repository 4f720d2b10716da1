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
    grant_renew,
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
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.workdays import today
from wuhan_pdr.kernel.workflow import events_for

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


def test_expiry_and_reminders(resource, requester, provider, django_capture_on_commit_callbacks):
    soon, _raw = _issue(
        resource, requester, provider, valid_until=timezone.now() + dt.timedelta(days=5)
    )
    later, _raw = _issue(
        resource, requester, provider, valid_until=timezone.now() + dt.timedelta(days=300)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert grants_remind() == 1
        assert grants_remind() == 0  # once
    soon.refresh_from_db()
    assert soon.reminded_at is not None
    # The grantee's people are told, with the grant's page; nobody about the later one.
    url = reverse("sharing:grant", args=[soon.pk])
    reminded = Notification.objects.filter(url=url)
    assert {n.recipient_id for n in reminded} >= {requester.admin.pk, requester.staff.pk}
    assert reminded.count() == len({n.recipient_id for n in reminded})
    assert not Notification.objects.filter(url=reverse("sharing:grant", args=[later.pk])).exists()
    assert grants_expire(now=timezone.now() + dt.timedelta(days=6)) == 1
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.state, later.state) == (Grant.State.EXPIRED, Grant.State.ACTIVE)


def test_renewal_brings_an_expired_grant_back_and_reminds_again(
    resource, requester, provider, django_capture_on_commit_callbacks
):
    grant, raw = _issue(
        resource, requester, provider, valid_until=timezone.now() + dt.timedelta(days=5)
    )
    grants_remind()
    assert grants_expire(now=timezone.now() + dt.timedelta(days=6)) == 1  # (beat, days later)
    grant.refresh_from_db()
    with pytest.raises(GrantRefused) as caught:
        grant_authenticate(raw, client_ip="10.0.0.1")
    assert caught.value.code == "grant_expired"
    # Only the provider's data officer renews, and only to a later end.
    with pytest.raises(DomainError):
        grant_renew(
            grant=grant, valid_until=today() + dt.timedelta(days=90), acting_user=requester.admin
        )
    with pytest.raises(DomainError) as caught:
        grant_renew(
            grant=grant, valid_until=today() - dt.timedelta(days=1), acting_user=provider.admin
        )
    assert caught.value.field == "valid_until"
    with django_capture_on_commit_callbacks(execute=True):
        grant = grant_renew(
            grant=grant, valid_until=today() + dt.timedelta(days=20), acting_user=provider.admin
        )
    assert grant.state == Grant.State.ACTIVE and grant.reminded_at is None
    assert grant_authenticate(raw, client_ip="10.0.0.1") == grant  # the same key works again
    assert Notification.objects.filter(
        recipient=requester.staff, url=reverse("sharing:grant", args=[grant.pk])
    ).exists()
    assert [e.transition for e in events_for(grant)] == ["expire", "renew"]
    # Within the reminder window again: reminded again, once.
    assert grants_remind() == 1 and grants_remind() == 0


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


def test_it_project_acceptance_asks_the_supply_path_through_the_hook(resource, provider, bureau):
    """Art. 11 through catalog.filing's acceptance check hook (registered by sharing)."""
    from catalog.filing import services as filing

    project = filing.project_create(
        organization=provider.org,
        fields={"name": "低保业务系统升级", "year": 2026, "budget_amount": "800000.00"},
        acting_user=provider.staff,
    )
    filing.project_entry_add(project=project, resource=resource, acting_user=provider.staff)
    filing.project_transition(project=project, action="submit", acting_user=provider.staff)
    filing.project_transition(project=project, action="approve", acting_user=bureau.reviewer)
    with pytest.raises(filing.AcceptanceRefused) as caught:
        filing.project_transition(
            project=project, action="submit_acceptance", acting_user=provider.staff
        )
    reasons = [str(m.reason) for m in caught.value.missing]
    assert [str(r) for r in resource_has_supply_path(resource)][0] in reasons


def test_acceptance_check_passes_a_loaded_shared_resource(db):
    from aggregation.models import Batch
    from tests.aggregation.factories import make_channel
    from tests.aggregation.test_views import csv_rows, load

    setup = make_channel(name="供数通道")
    assert resource_has_supply_path(setup.resource)  # nothing loaded yet
    assert load(setup, csv_rows(5)).status == Batch.Status.SUCCEEDED
    assert resource_has_supply_path(setup.resource) == []


def test_the_review_shows_each_grants_use_against_its_scenario_and_volume(
    resource, requester, provider, bureau
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from authorization.sharing.services import share_request_approve, share_request_create

    from .conftest import make_fields

    def granted(agency, scenario):
        request = share_request_create(
            resource=resource,
            item_ids=list(resource.published_version.items.values_list("pk", flat=True)),
            fields=make_fields(scenario=scenario, expected_daily_rows=50),
            acting_user=agency.staff,
        )
        return share_request_approve(
            request=request,
            deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
            acting_user=provider.admin,
        )

    grant = granted(requester, "核验低保家庭户籍迁移资格。")
    usage_record(grant, rows=400, calls=9, day=today() - dt.timedelta(days=2))
    reviewer = UserFactory(organization=bureau.org, roles=[Role.SECURITY_ADMIN])
    c = web(reviewer)
    with CaptureQueriesContext(connection) as few:
        page = c.get(reverse("sharing:risk"))
    html = page.content.decode()
    assert "核验低保家庭户籍迁移资格。" in html and "400" in html and ">50<" in html
    form = c.get(reverse("sharing:grant_review", args=[grant.pk]))
    assert "核验低保家庭户籍迁移资格。" in form.content.decode()
    assert (form.context["use"].recent_rows, form.context["use"].peak_rows) == (400, 400)
    for n in range(3):
        granted(cf.make_agency(), f"场景{n}")
    with CaptureQueriesContext(connection) as more:
        assert c.get(reverse("sharing:risk")).status_code == 200
    assert len(more) == len(few)
