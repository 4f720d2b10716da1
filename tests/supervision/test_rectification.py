"""Rectification orders (Art. 31): who may issue to whom, the workflow with evidence, overdue
detection, reminders and escalation (one test through the real worker), suggestions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from supervision.rectification import services
from supervision.rectification.models import OrderSuggestion, RectificationOrder
from tests.catalog.factories import (
    JIANGAN,
    JIANGHAN,
    make_agency,
    make_city_bureau,
    make_district_agency,
    make_district_bureau,
)
from tests.conftest import client_for
from tests.services import wait_for
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.workdays import add_working_days
from wuhan_pdr.kernel.workdays import today as local_today

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
S = RectificationOrder.State


def pdf(name="整改报告.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def city(db):
    return make_city_bureau()


def _issue(city, agency, days=10):
    return services.order_issue(
        agency=agency.org,
        case="not_provided",
        facts="未按目录提供数据",
        deadline_days=days,
        acting_user=city.reviewer,
    )


def test_the_city_orders_any_agency_a_district_only_its_own(city):
    own = make_district_agency(JIANGAN)
    foreign = make_district_agency(JIANGHAN)
    city_agency = make_agency()
    district = make_district_bureau(JIANGAN)
    order = services.order_issue(
        agency=own.org,
        case="objection",
        facts="异议未反馈",
        deadline_days=5,
        acting_user=district.reviewer,
    )
    assert order.issuer_id == district.org.pk
    assert order.due_on == add_working_days(local_today(), 5)
    for target in (foreign, city_agency):
        with pytest.raises(DomainError) as exc:
            services.order_issue(
                agency=target.org,
                case="objection",
                facts="x",
                deadline_days=5,
                acting_user=district.reviewer,
            )
        assert exc.value.field == "agency"
    with pytest.raises(DomainError):
        services.order_issue(
            agency=own.org, case="objection", facts="x", deadline_days=5, acting_user=own.admin
        )
    assert _issue(city, foreign).issuer_id == city.org.pk
    # The agency is told.
    assert Notification.objects.filter(recipient=own.admin).exists()


def test_acknowledge_answer_with_evidence_return_and_verify(city):
    a = make_agency()
    order = _issue(city, a)
    with pytest.raises(DomainError):  # the bureau cannot acknowledge for the agency
        services.order_transition(order=order, action="acknowledge", acting_user=city.reviewer)
    order = services.order_transition(order=order, action="acknowledge", acting_user=a.staff)
    assert order.state == S.ACKNOWLEDGED and order.acknowledged_at
    with pytest.raises(DomainError) as exc:
        services.order_answer(order=order, answer="已整改", files=[], acting_user=a.staff)
    assert exc.value.field == "files"
    bad = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(DomainError) as exc:
        services.order_answer(order=order, answer="已整改", files=[bad], acting_user=a.staff)
    assert exc.value.field == "files"
    order = services.order_answer(order=order, answer="已整改", files=[pdf()], acting_user=a.staff)
    assert order.state == S.ANSWERED and order.evidence.count() == 1
    with pytest.raises(DomainError) as exc:
        services.order_transition(
            order=order, action="return", comment="", acting_user=city.reviewer
        )
    assert exc.value.field == "comment"
    order = services.order_transition(
        order=order, action="return", comment="证据不足", acting_user=city.reviewer
    )
    assert order.state == S.RETURNED
    # Answered again: the earlier evidence stands.
    order = services.order_answer(order=order, answer="已补充说明", files=[], acting_user=a.admin)
    order = services.order_transition(order=order, action="verify", acting_user=city.reviewer)
    assert order.state == S.VERIFIED and order.verified_at
    assert order.history.count() >= 5


def test_agencies_see_only_their_own_orders(city):
    a, b = make_agency(), make_agency()
    mine, theirs = _issue(city, a), _issue(city, b)
    c = client_for(a.admin)
    assert c.get(reverse("supervision:order", args=[mine.pk])).status_code == 200
    assert c.get(reverse("supervision:order", args=[theirs.pk])).status_code == 404
    listing = c.get(reverse("supervision:orders")).content.decode()
    assert f"#{mine.pk}<" in listing and f"#{theirs.pk}<" not in listing
    assert c.get(reverse("supervision:order_create")).status_code == 404
    assert c.get(reverse("supervision:suggestions")).status_code == 404


def test_the_pages_take_an_answer_and_refuse_naughty_input(city, naughty):
    a = make_agency()
    order = _issue(city, a)
    services.order_transition(order=order, action="acknowledge", acting_user=a.staff)
    c = client_for(a.staff)
    r = c.post(
        reverse("supervision:order_answer", args=[order.pk]), {"answer": "已整改", "files": [pdf()]}
    )
    assert r.status_code == 302
    cb = client_for(city.reviewer)
    for text in naughty[::9]:
        r1 = cb.post(
            reverse("supervision:order_create"),
            {"agency": a.org.pk, "case": text, "facts": text, "deadline_days": text},
        )
        r2 = cb.get(reverse("supervision:orders"), {"q": text, "state": text})
        r3 = cb.post(
            reverse("supervision:order_action", args=[order.pk]),
            {"action": "return", "comment": text},
        )
        assert max(r1.status_code, r2.status_code, r3.status_code) < 500, text


def test_the_sweep_reminds_flags_overdue_and_escalates_once(city):
    a = make_agency()
    today = local_today()
    late = _issue(city, a)
    soon = _issue(city, a, days=1)
    RectificationOrder.objects.filter(pk=late.pk).update(due_on=today - dt.timedelta(days=10))
    counts = services.orders_sweep(today=today)
    assert counts == {"reminded": 2, "overdue": 1, "escalated": 1}
    late.refresh_from_db()
    assert late.overdue_since == today and late.escalated_at and late.reminded_on == today
    assert Notification.objects.filter(
        recipient=city.reviewer, title__contains=f"#{late.pk}"
    ).exists()
    # The same day again: nothing new.
    assert services.orders_sweep(today=today) == {"reminded": 0, "overdue": 0, "escalated": 0}
    soon.refresh_from_db()
    assert soon.overdue_since is None and soon.reminded_on == today


def test_suggestions_from_signals_are_recorded_once_and_decided(city):
    from django.utils import timezone

    from authorization.sharing.models import ShareRequest
    from tests.aggregation.factories import make_channel

    setup = make_channel()
    requester = make_agency()
    r = ShareRequest.objects.create(
        resource=setup.resource,
        version=setup.resource.published_version,
        provider=setup.agency.org,
        requester=requester.org,
        requested_by=requester.staff,
        share_type="conditional",
        scenario="核验",
        basis_kind="duty",
        duty="职责",
        purpose="核验",
        period_start=local_today(),
        period_end=local_today(),
        expected_daily_rows=1,
        state="pending",
        reply_due=timezone.now() - dt.timedelta(days=2),
    )
    assert services.suggestions_scan() >= 1
    assert services.suggestions_scan() == 0
    s = OrderSuggestion.objects.get(signal="share_unanswered", source_id=str(r.pk))
    assert s.agency_id == setup.agency.org.pk and s.case == "not_shared"
    assert "共享申请" in s.facts
    with pytest.raises(DomainError) as exc:
        services.suggestion_dismiss(suggestion=s, reason=" ", acting_user=city.reviewer)
    assert exc.value.field == "reason"
    order = services.suggestion_confirm(suggestion=s, deadline_days=5, acting_user=city.reviewer)
    s.refresh_from_db()
    assert s.state == "confirmed" and s.order == order and order.agency_id == setup.agency.org.pk
    with pytest.raises(DomainError):
        services.suggestion_dismiss(suggestion=s, reason="重复", acting_user=city.reviewer)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_order_goes_overdue_and_escalates_through_the_real_worker(
    celery_worker, celery_app_on_spare_redis
):
    from tests.catalog.conftest import ensure_catalog_base_data
    from wuhan_pdr.celery import app

    ensure_catalog_base_data()
    city = make_city_bureau()
    a = make_agency()
    order = _issue(city, a)
    RectificationOrder.objects.filter(pk=order.pk).update(
        due_on=local_today() - dt.timedelta(days=10)
    )
    app.send_task("supervision.orders_sweep")

    def escalated():
        return RectificationOrder.objects.filter(pk=order.pk, escalated_at__isnull=False).first()

    try:
        done = wait_for(escalated, timeout=60, what="order escalated")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert done.overdue_since == local_today()
    assert Notification.objects.filter(
        recipient=city.reviewer, title__contains=f"#{order.pk}"
    ).exists()
    assert Notification.objects.filter(recipient=a.admin, title__contains=f"#{order.pk}").exists()
    page = client_for(city.reviewer).get(reverse("supervision:order", args=[order.pk]))
    assert 'id="order-escalated"' in page.content.decode()


def test_an_unregistered_resource_in_the_operation_scope_is_suggested_until_registered(city):
    """Art. 23 and 31: past the grace period, an operation-scope resource without a current
    registration is suggested once; a registered one is not."""
    from django.utils import timezone

    from registration.applications.demo import _one
    from registration.applications.models import Registration
    from tests.aggregation.factories import make_channel
    from tests.registration.applications.conftest import make_registrar

    old = timezone.now() - dt.timedelta(days=60)
    first, second = make_channel(), make_channel()
    for s_ in (first, second):
        s_.resource.published_version.__class__.objects.filter(
            pk=s_.resource.published_version_id
        ).update(operation_eligible=True, published_at=old)
    _one(
        second.agency.staff,
        make_registrar(),
        Registration.Kind.RESOURCE,
        second.resource.published_version.name,
        Registration.State.REGISTERED,
    )
    assert Registration.objects.get(resource=second.resource).state == "registered"
    services.suggestions_scan()
    found = OrderSuggestion.objects.filter(signal="unregistered")
    assert {s.source_id for s in found} == {str(first.resource.pk)}
    (s,) = found
    assert s.agency_id == first.agency.org.pk and s.case == "other"
    assert first.resource.code in s.facts and "第二十三条" in s.facts
    assert services.suggestions_scan() == 0
