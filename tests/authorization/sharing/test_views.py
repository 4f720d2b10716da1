"""The sharing pages: each for whom it is meant, 404 for everyone else; forms submitted as a
browser would; lists with a constant query count; naughty strings never a server error."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from authorization.sharing.models import Grant, ShareRequest
from authorization.sharing.services import share_request_approve, share_request_create
from tests.catalog import factories as cf
from wuhan_pdr.kernel.workdays import today

from .conftest import make_fields, web

pytestmark = pytest.mark.django_db


def _ask(resource, user):
    return share_request_create(
        resource=resource,
        item_ids=list(resource.published_version.items.values_list("pk", flat=True)),
        fields=make_fields(),
        acting_user=user,
    )


def _form(resource, **overrides):
    data = {
        "items": [str(i) for i in resource.published_version.items.values_list("pk", flat=True)],
        "scenario": "户籍迁移业务办理",
        "basis_kind": "duty",
        "duty": "依法办理户籍迁移。",
        "purpose": "核验身份",
        "period_start": today().isoformat(),
        "period_end": (today() + dt.timedelta(days=90)).isoformat(),
        "expected_daily_rows": "500",
    }
    data.update(overrides)
    return data


def test_requester_files_a_request_through_the_form(resource, requester):
    c = web(requester.staff)
    chooser = c.get(reverse("sharing:request_choose"), {"q": resource.code})
    assert chooser.status_code == 200
    assert reverse("sharing:request_create", args=[resource.pk]) in chooser.content.decode()
    url = reverse("sharing:request_create", args=[resource.pk])
    assert c.get(url).status_code == 200
    response = c.post(url, _form(resource))
    request = ShareRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sharing:request", args=[request.pk])
    assert request.basis_kind == "duty" and request.expected_daily_rows == 500
    page = c.get(response["Location"])
    assert page.status_code == 200
    assert "Next step" in page.content.decode()


def test_request_form_names_the_bad_field(resource, requester):
    c = web(requester.staff)
    url = reverse("sharing:request_create", args=[resource.pk])
    response = c.post(url, _form(resource, duty=""))
    assert response.status_code == 200
    assert response.context["form"].errors["duty"]
    response = c.post(
        url,
        _form(resource, period_start="2030-02-01", period_end="2030-01-01"),
    )
    assert response.context["form"].errors["period_end"]
    assert not ShareRequest.objects.exists()


def test_provider_cannot_request_its_own_resource_page(resource, provider):
    c = web(provider.staff)
    assert c.get(reverse("sharing:request_create", args=[resource.pk])).status_code == 404


def test_provider_decides_through_the_form(resource, requester, provider):
    request = _ask(resource, requester.staff)
    c = web(provider.admin)
    queue = c.get(reverse("sharing:review"))
    assert f"/sharing/requests/{request.pk}/" in queue.content.decode()
    url = reverse("sharing:request_decide", args=[request.pk])
    page = c.get(url)
    assert page.status_code == 200
    items = {i.english_name: i.pk for i in resource.published_version.items.all()}
    response = c.post(
        url,
        {
            f"item_{items['id_number']}": "hmac",
            f"item_{items['full_name']}": "clear",
            f"item_{items['updated_at']}": "",
            "rate_per_minute": "30",
            "allowed_ips": "10.0.0.0/8\n192.0.2.1",
            "reasons": "更新时间不需要。",
            "valid_until": "",
        },
    )
    grant = Grant.objects.get()
    assert response.status_code == 302
    assert grant.rate_per_minute == 30
    assert grant.allowed_ips == ["10.0.0.0/8", "192.0.2.1/32"]
    assert dict(grant.items.values_list("column", "delivery")) == {
        "id_number": "hmac",
        "full_name": "clear",
    }


def test_decide_form_refuses_bad_addresses_and_missing_reasons(resource, requester, provider):
    request = _ask(resource, requester.staff)
    c = web(provider.admin)
    url = reverse("sharing:request_decide", args=[request.pk])
    first = resource.published_version.items.first()
    response = c.post(url, {f"item_{first.pk}": "clear", "rate_per_minute": "60", "reasons": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reasons"]
    data = {f"item_{i.pk}": "clear" for i in resource.published_version.items.all()} | {
        "rate_per_minute": "60",
        "allowed_ips": "not-an-address",
    }
    response = c.post(url, data)
    assert response.context["form"].errors["allowed_ips"]
    assert not Grant.objects.exists()


def test_refuse_page_needs_reasons(resource, requester, provider):
    request = _ask(resource, requester.staff)
    c = web(provider.admin)
    url = reverse("sharing:request_refuse", args=[request.pk])
    assert c.post(url, {"reasons": ""}).status_code == 200
    assert c.post(url, {"reasons": "用途与职责无关。"}).status_code == 302
    request.refresh_from_db()
    assert request.state == ShareRequest.State.REFUSED


def test_pages_are_404_for_other_agencies(resource, requester, provider):
    request = _ask(resource, requester.staff)
    grant = share_request_approve(
        request=request,
        deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
        acting_user=provider.admin,
    )
    stranger = cf.make_agency()
    c = web(stranger.admin)
    for url in (
        reverse("sharing:request", args=[request.pk]),
        reverse("sharing:request_decide", args=[request.pk]),
        reverse("sharing:grant", args=[grant.pk]),
        reverse("sharing:grant_key", args=[grant.pk]),
        reverse("sharing:grant_move", args=[grant.pk, "suspend"]),
        reverse("sharing:grant_move", args=[grant.pk, "revoke"]),
        reverse("sharing:grant_renew", args=[grant.pk]),
    ):
        assert c.get(url).status_code == 404, url
    assert c.post(reverse("sharing:grant_key", args=[grant.pk])).status_code == 404
    # Lists show nothing of them, not even counts.
    for url in (reverse("sharing:requests"), reverse("sharing:review"), reverse("sharing:grants")):
        body = c.get(url).content.decode()
        assert resource.code not in body
    # The requester may not decide, the provider may not collect the key.
    assert (
        web(requester.admin).get(reverse("sharing:request_decide", args=[request.pk])).status_code
        == 404
    )
    assert web(provider.admin).get(reverse("sharing:grant_key", args=[grant.pk])).status_code == 404
    assert (
        web(requester.staff)
        .get(reverse("sharing:grant_move", args=[grant.pk, "revoke"]))
        .status_code
        == 404
    )
    # A bureau reviewer has no agency lists.
    assert web(cf.make_city_bureau().reviewer).get(reverse("sharing:grants")).status_code == 404
    assert web().get(reverse("sharing:requests")).status_code == 302  # to the login page


def test_key_is_shown_once_and_not_cached(resource, requester, provider):
    request = _ask(resource, requester.staff)
    grant = share_request_approve(
        request=request,
        deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
        acting_user=provider.admin,
    )
    c = web(requester.staff)
    url = reverse("sharing:grant_key", args=[grant.pk])
    assert "Collect the API key" in c.get(url).content.decode()
    response = c.post(url)
    grant.refresh_from_db()
    body = response.content.decode()
    assert f"pdr_{grant.key_prefix}_" in body
    assert "no-store" in response["Cache-Control"]
    detail = c.get(reverse("sharing:grant", args=[grant.pk])).content.decode()
    assert grant.key_prefix in detail and f"pdr_{grant.key_prefix}_" not in detail


def test_suspend_and_revoke_need_confirmation_and_reasons(resource, requester, provider):
    request = _ask(resource, requester.staff)
    grant = share_request_approve(
        request=request,
        deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
        acting_user=provider.admin,
    )
    c = web(provider.admin)
    url = reverse("sharing:grant_move", args=[grant.pk, "suspend"])
    assert c.get(url).status_code == 200
    assert c.post(url, {"reason": ""}).status_code == 200
    grant.refresh_from_db()
    assert grant.state == Grant.State.ACTIVE
    assert c.post(url, {"reason": "调用量异常"}).status_code == 302
    grant.refresh_from_db()
    assert grant.state == Grant.State.SUSPENDED
    revoke = reverse("sharing:grant_move", args=[grant.pk, "revoke"])
    assert c.post(revoke, {"reason": "业务终止"}).status_code == 302
    grant.refresh_from_db()
    assert grant.state == Grant.State.REVOKED
    assert c.get(reverse("sharing:grant_move", args=[grant.pk, "explode"])).status_code == 404


def test_renew_moves_the_end_of_validity(resource, requester, provider):
    request = _ask(resource, requester.staff)
    grant = share_request_approve(
        request=request,
        deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
        acting_user=provider.admin,
    )
    c = web(provider.admin)
    url = reverse("sharing:grant_renew", args=[grant.pk])
    earlier = (today() + dt.timedelta(days=10)).isoformat()
    assert c.post(url, {"valid_until": earlier}).context["form"].errors["valid_until"]
    later = today() + dt.timedelta(days=800)
    assert c.post(url, {"valid_until": later.isoformat()}).status_code == 302
    grant.refresh_from_db()
    assert grant.valid_until.date() >= later - dt.timedelta(days=1)


def _many_grants(resource, provider, n):
    for _i in range(n):
        agency = cf.make_agency()
        request = _ask(resource, agency.staff)
        share_request_approve(
            request=request,
            deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
            acting_user=provider.admin,
        )


def test_lists_keep_a_constant_query_count(resource, provider, requester):
    c = web(provider.admin)
    urls = [reverse("sharing:data_usage"), reverse("sharing:review")]
    _many_grants(resource, provider, 2)
    with CaptureQueriesContext(connection) as few:
        for url in urls:
            assert c.get(url).status_code == 200
    _many_grants(resource, provider, 4)
    with CaptureQueriesContext(connection) as more:
        for url in urls:
            assert c.get(url).status_code == 200
    assert len(more) == len(few)


def test_searches_survive_naughty_strings(naughty, resource, provider, requester):
    urls = [
        (requester.staff, reverse("sharing:requests")),
        (requester.staff, reverse("sharing:grants")),
        (requester.staff, reverse("sharing:request_choose")),
        (provider.admin, reverse("sharing:review")),
        (provider.admin, reverse("sharing:data_usage")),
    ]
    clients = {user.pk: web(user) for user, _url in urls}
    for i, s in enumerate(naughty):
        user, url = urls[i % len(urls)]
        response = clients[user.pk].get(url, {"q": s, "state": s})
        assert response.status_code == 200, (url, repr(s))


def test_request_form_stores_naughty_text_or_refuses_it(naughty, resource, requester):
    c = web(requester.staff)
    url = reverse("sharing:request_create", args=[resource.pk])
    for s in naughty[::3]:
        response = c.post(url, _form(resource, scenario=s or "x", purpose=s or "x"))
        assert response.status_code in (200, 302), repr(s)
        if response.status_code == 302:
            stored = ShareRequest.objects.latest("pk")
            assert stored.scenario == (s or "x").strip()
            page = c.get(response["Location"])
            assert page.status_code == 200
            if "<script" in s:
                assert s not in page.content.decode()


def test_reason_fields_store_naughty_text_or_refuse_it(naughty, resource, requester, provider):
    """Refusal reasons, coordination notes and suspension reasons: never a server error;
    what is stored comes back trimmed and escaped."""
    c_provider, c_requester = web(provider.admin), web(requester.admin)
    for s in naughty[::25]:
        request = _ask(resource, requester.staff)
        response = c_provider.post(
            reverse("sharing:request_refuse", args=[request.pk]), {"reasons": s}
        )
        assert response.status_code in (200, 302), repr(s)
        request.refresh_from_db()
        if response.status_code == 302:
            assert request.refusal_reasons == s.strip()
            response = c_requester.post(
                reverse("sharing:request_coordination", args=[request.pk]), {"note": s}
            )
            assert response.status_code == 302, repr(s)
            page = c_requester.get(reverse("sharing:request", args=[request.pk]))
            assert page.status_code == 200
            if "<script" in s:
                assert s not in page.content.decode()
        else:
            assert request.state == ShareRequest.State.PENDING


def test_the_provider_sees_who_uses_its_data_and_how_much(resource, requester, provider):
    """The provider's page lists each grantee with its calls and rows (last 30 days); the
    requester's page its own grants with the same figures; nobody else's."""
    from authorization.sharing.services import usage_record

    request = _ask(resource, requester.staff)
    grant = share_request_approve(
        request=request,
        deliveries={i.pk: "clear" for i in resource.published_version.items.all()},
        acting_user=provider.admin,
    )
    usage_record(grant, rows=1234, calls=7, day=today() - dt.timedelta(days=1))
    usage_record(grant, rows=766, calls=3)
    usage_record(grant, rows=99999, calls=99, day=today() - dt.timedelta(days=45))  # too old
    other_provider = cf.make_agency()
    other_version = cf.make_published(other_provider, cf.make_city_bureau().reviewer)
    stranger = cf.make_agency()
    foreign = share_request_approve(
        request=_ask(other_version.resource, stranger.staff),
        deliveries={i.pk: "clear" for i in other_version.items.all()},
        acting_user=other_provider.admin,
    )

    page = web(provider.admin).get(reverse("sharing:data_usage"))
    assert page.status_code == 200
    rows = page.context["page_obj"].object_list
    assert [(g.pk, g.grantee.name, g.recent_calls, g.recent_rows) for g in rows] == [
        (grant.pk, requester.org.name, 10, 2000)
    ]
    html = page.content.decode()
    assert requester.org.name in html and "2000" in html and foreign.key_prefix not in html
    held = web(requester.staff).get(reverse("sharing:grants"))
    assert [
        (g.pk, g.recent_calls, g.recent_rows) for g in held.context["page_obj"].object_list
    ] == [(grant.pk, 10, 2000)]
    # The grant's page shows the days and the totals to both sides.
    for user in (provider.admin, requester.staff):
        detail = web(user).get(reverse("sharing:grant", args=[grant.pk]))
        assert detail.context["totals"] == {"calls": 109, "rows": 101999}
    # A staff member (not the data officer) of the provider has no such page.
    assert web(provider.staff).get(reverse("sharing:data_usage")).status_code == 404
