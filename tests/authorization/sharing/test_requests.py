"""Share requests (item 2): unconditional granted at once, not shared refused at once,
conditional decided by the provider's data officer with delivery forms; every refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from authorization.sharing import services
from authorization.sharing.models import Grant, ShareRequest
from authorization.sharing.services import (
    grant_authenticate,
    grant_key_rotate,
    share_request_approve,
    share_request_ask_coordination,
    share_request_create,
    share_request_refuse,
    share_request_withdraw,
    share_requests_flag_overdue,
)
from tests.catalog import factories as cf
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.models import Notification, WorkflowEvent
from wuhan_pdr.kernel.workflow import events_for

from .conftest import make_fields

pytestmark = pytest.mark.django_db


def _ask(resource, user, **overrides):
    items = overrides.pop("item_ids", None)
    if items is None:
        items = list(resource.published_version.items.values_list("pk", flat=True))
    return share_request_create(
        resource=resource, item_ids=items, fields=make_fields(**overrides), acting_user=user
    )


def _items(resource):
    return {i.english_name: i for i in resource.published_version.items.all()}


def test_conditional_request_waits_for_the_provider_with_a_deadline(resource, requester, provider):
    request = _ask(resource, requester.staff)
    assert request.state == ShareRequest.State.PENDING
    assert request.share_type == "conditional"
    assert request.reply_due > timezone.now() + dt.timedelta(days=10)
    assert request.requester == requester.org and request.provider == provider.org
    assert not Grant.objects.exists()


def test_provider_approves_with_delivery_forms_and_requester_collects_the_key(
    resource, requester, provider, django_capture_on_commit_callbacks
):
    request = _ask(resource, requester.staff)
    items = _items(resource)
    with django_capture_on_commit_callbacks(execute=True):
        grant = share_request_approve(
            request=request,
            deliveries={
                items["id_number"].pk: "hmac",
                items["full_name"].pk: "masked",
                items["updated_at"].pk: None,
            },
            reasons="更新时间与业务无关。",
            acting_user=provider.admin,
        )
    request.refresh_from_db()
    assert request.state == ShareRequest.State.GRANTED
    assert dict(grant.items.values_list("column", "delivery")) == {
        "id_number": "hmac",
        "full_name": "masked",
    }
    assert grant.declared_daily_rows == 1000
    assert grant.key_collected_at is None
    assert Notification.objects.filter(recipient=requester.staff).exists()
    # Nobody knows the issued key: the requester collects a fresh one, shown once.
    grant, raw = grant_key_rotate(grant=grant, acting_user=requester.staff)
    assert grant.key_collected_at is not None
    assert grant_authenticate(raw, client_ip="10.0.0.1") == grant
    # Rotating again: the old key stops working.
    _grant, new_raw = grant_key_rotate(grant=grant, acting_user=requester.admin)
    with pytest.raises(services.GrantRefused):
        grant_authenticate(raw, client_ip="10.0.0.1")
    assert grant_authenticate(new_raw, client_ip="10.0.0.1").pk == grant.pk
    assert [e.transition for e in events_for(request)] == ["approve"]


def test_the_provider_cannot_collect_the_key(resource, requester, provider):
    request = _ask(resource, requester.staff)
    grant = share_request_approve(
        request=request,
        deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
        acting_user=provider.admin,
    )
    with pytest.raises(DomainError):
        grant_key_rotate(grant=grant, acting_user=provider.admin)


def test_unconditional_request_is_granted_at_once(
    requester, provider, bureau, django_capture_on_commit_callbacks
):
    version = cf.make_published(provider, bureau.reviewer, share_type="unconditional")
    with django_capture_on_commit_callbacks(execute=True):
        request = _ask(version.resource, requester.staff)
    assert request.state == ShareRequest.State.GRANTED
    grant = request.grants.get()
    assert grant.items.count() == 3
    assert set(grant.items.values_list("delivery", flat=True)) == {"clear"}
    assert [e.transition for e in events_for(request)] == ["grant_at_once"]
    # Recorded and notified: the provider's data officer is told.
    assert Notification.objects.filter(
        recipient=provider.admin, url=f"/sharing/requests/{request.pk}/"
    ).exists()


def test_default_delivery_forms_follow_the_item_grades(requester, provider, bureau):
    """Where the grade requires masking: the key as a keyed HMAC, other items masked, the update
    flag in clear; a grade that does not: everything in clear. The decide form starts there."""
    from django.urls import reverse

    from .conftest import web

    high = cf.make_published(provider, bureau.reviewer, grade=cf.grade("L3"))
    low = cf.make_published(provider, bureau.reviewer, name="一般资源", grade=cf.grade("L2"))
    forms = {
        item.english_name: services.default_delivery(item)
        for item in high.items.select_related("grade", "version__grade")
    }
    assert forms == {"id_number": "hmac", "full_name": "masked", "updated_at": "clear"}
    assert {
        services.default_delivery(i) for i in low.items.select_related("grade", "version__grade")
    } == {"clear"}
    request = _ask(high.resource, requester.staff)
    form = web(provider.admin).get(reverse("sharing:request_decide", args=[request.pk]))
    initial = {
        name: field.initial
        for name, field in form.context["form"].fields.items()
        if name.startswith("item_")
    }
    by_item = {f"item_{i.pk}": forms[i.english_name] for i in high.items.all()}
    assert initial == by_item


def test_not_shared_request_is_refused_at_once_with_the_catalog_basis(
    requester, provider, bureau, django_capture_on_commit_callbacks
):
    version = cf.make_published(
        provider,
        bureau.reviewer,
        share_type="none",
        share_legal_basis="《中华人民共和国保守国家秘密法》第九条",
    )
    request = _ask(version.resource, requester.staff)
    assert request.state == ShareRequest.State.REFUSED
    assert request.refusal_reasons == "《中华人民共和国保守国家秘密法》第九条"
    assert not Grant.objects.exists()
    # The requester asks the city bureau to coordinate (recorded, bureau told).
    with django_capture_on_commit_callbacks(execute=True):
        request = share_request_ask_coordination(
            request=request, note="业务确需,请协调。", acting_user=requester.admin
        )
    assert request.state == ShareRequest.State.COORDINATION
    assert Notification.objects.filter(recipient=bureau.reviewer).exists()
    event = WorkflowEvent.objects.get(transition="ask_coordination")
    assert event.comment == "业务确需,请协调。"


def test_refusal_needs_reasons(resource, requester, provider):
    request = _ask(resource, requester.staff)
    with pytest.raises(DomainError) as caught:
        share_request_refuse(request=request, reasons="   ", acting_user=provider.admin)
    assert caught.value.field == "reasons"
    request = share_request_refuse(
        request=request, reasons="用途不明确。", acting_user=provider.admin
    )
    assert request.state == ShareRequest.State.REFUSED
    assert set(request.items.values_list("granted", flat=True)) == {False}


def test_partial_grant_needs_reasons(resource, requester, provider):
    request = _ask(resource, requester.staff)
    first = resource.published_version.items.first()
    with pytest.raises(DomainError) as caught:
        share_request_approve(
            request=request, deliveries={first.pk: "clear"}, acting_user=provider.admin
        )
    assert caught.value.field == "reasons"
    with pytest.raises(DomainError) as caught:
        share_request_approve(request=request, deliveries={}, acting_user=provider.admin)
    assert caught.value.field == "items"


def test_only_the_providers_data_officer_decides(resource, requester, provider):
    request = _ask(resource, requester.staff)
    other = cf.make_agency()
    deliveries = {i.pk: "clear" for i in resource.published_version.items.all()}
    for user in (provider.staff, other.admin, requester.admin):
        with pytest.raises(DomainError):
            share_request_approve(request=request, deliveries=deliveries, acting_user=user)
        with pytest.raises(DomainError):
            share_request_refuse(request=request, reasons="不行", acting_user=user)
    request.refresh_from_db()
    assert request.state == ShareRequest.State.PENDING


def test_only_the_requesting_agency_withdraws(resource, requester, provider):
    request = _ask(resource, requester.staff)
    with pytest.raises(DomainError):
        share_request_withdraw(request=request, acting_user=provider.admin)
    request = share_request_withdraw(request=request, acting_user=requester.admin)
    assert request.state == ShareRequest.State.WITHDRAWN
    with pytest.raises(DomainError):
        share_request_approve(
            request=request,
            deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
            acting_user=provider.admin,
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period_end": dt.date(2020, 1, 1), "period_start": dt.date(2019, 1, 1)}, "period_end"),
        ({"period_start": dt.date(2030, 1, 2), "period_end": dt.date(2030, 1, 1)}, "period_end"),
        ({"period_start": dt.date(2030, 1, 1), "period_end": dt.date(2040, 1, 1)}, "period_end"),
        ({"expected_daily_rows": 0}, "expected_daily_rows"),
        ({"basis_kind": "law", "law_article": ""}, "law_article"),
        ({"basis_kind": "duty", "duty": " "}, "duty"),
        ({"basis_kind": "whim"}, "basis_kind"),
        ({"scenario": ""}, "scenario"),
        ({"purpose": "x" * 2001}, "purpose"),
        ({"purpose": "nul\x00byte"}, "purpose"),
        ({"item_ids": []}, "items"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(resource, requester, overrides, field):
    with pytest.raises(DomainError) as caught:
        _ask(resource, requester.staff, **overrides)
    assert caught.value.field == field
    assert not ShareRequest.objects.exists()


def test_items_of_another_resource_are_refused(resource, requester, provider, bureau):
    other = cf.make_published(provider, bureau.reviewer, name="另一个资源")
    with pytest.raises(DomainError) as caught:
        _ask(resource, requester.staff, item_ids=[other.items.first().pk])
    assert caught.value.field == "items"


def test_the_provider_does_not_request_its_own_resource(resource, provider):
    with pytest.raises(DomainError) as caught:
        _ask(resource, provider.staff)
    assert caught.value.field == "resource"


def test_only_agency_staff_request(resource, bureau):
    with pytest.raises((DomainError, PermissionDenied)):
        _ask(resource, bureau.reviewer)


def test_overdue_replies_are_flagged_once(
    resource, requester, provider, django_capture_on_commit_callbacks
):
    request = _ask(resource, requester.staff)
    later = request.reply_due + dt.timedelta(minutes=1)
    assert share_requests_flag_overdue(now=request.reply_due - dt.timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert share_requests_flag_overdue(now=later) == 1
    assert share_requests_flag_overdue(now=later) == 0
    request.refresh_from_db()
    assert request.overdue_flagged_at == later
    assert (
        Notification.objects.filter(
            recipient=provider.admin, url=f"/sharing/requests/{request.pk}/"
        ).count()
        == 1
    )  # the overdue reply (the request itself was made outside an on-commit capture)
