"""The pages: the public disclosure (no login, only what Art. 20 makes public, each bureau
disclosing its own, cached and invalidated on change, constant query counts, feeds) and the
workspace (operators, bureaus; 404 for anyone else); naughty strings never a server error."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from authorization.operation import services
from authorization.sharing.services import usage_record
from tests.accounts.factories import OrganizationFactory, UserFactory, division
from tests.catalog import factories as cf
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

from .conftest import apply, approve, committed, eligible


def web(user=None) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c


def test_the_public_list_shows_decided_authorizations_with_legal_fields_only(
    resource, bureau, operator
):
    active = approve(apply(operator, [resource]), bureau.reviewer)
    pending = apply(operator, [resource], scope="尚在审核的申请范围。")
    revoked = approve(apply(operator, [resource], scope="将被撤销的授权。"), bureau.reviewer)
    committed(
        services.authorization_change,
        authorization=revoked,
        action="revoke",
        reason="违规。",
        acting_user=bureau.reviewer,
    )
    page = web().get(reverse("disclosures:list")).content.decode()
    assert operator.organization.name in page and active.scope in page
    assert resource.code in page and resource.published_version.name in page
    assert resource.published_version.summary not in page  # not a legally public field
    assert pending.scope not in page
    assert revoked.scope in page and "Revoked" in page
    detail = web().get(reverse("disclosures:authorization", args=[revoked.pk]))
    assert detail.status_code == 200 and "违规。" in detail.content.decode()
    assert web().get(reverse("disclosures:authorization", args=[pending.pk])).status_code == 404


def test_each_bureau_discloses_its_own(bureau, operator):
    district = cf.make_district_bureau()
    local = eligible(cf.make_district_agency(), district.reviewer, name="区级公共数据")
    city = eligible(cf.make_agency(), bureau.reviewer, name="市级公共数据")
    a = approve(apply(operator, [local], scope="区级授权范围。"), district.reviewer)
    b = approve(apply(operator, [city], scope="市级授权范围。"), bureau.reviewer)
    assert a.authorizing_body == district.org and b.authorizing_body == bureau.org
    own = web().get(reverse("disclosures:list"), {"bureau": district.org.pk}).content.decode()
    assert "区级授权范围。" in own and "市级授权范围。" not in own
    # In the workspace too, a district reviewer sees only what its bureau granted.
    listed = web(district.reviewer).get(reverse("operation:list")).content.decode()
    assert f"#{a.pk}" in listed and f"#{b.pk}<" not in listed
    assert web(district.reviewer).get(reverse("operation:detail", args=[b.pk])).status_code == 404


def test_cached_pages_change_with_the_data_and_cost_constant_queries(
    resource, bureau, operator, caps
):
    a = approve(apply(operator, [resource]), bureau.reviewer)
    url = reverse("disclosures:operator", args=[operator.organization_id])
    assert "企业信用画像" not in web().get(url).content.decode()
    committed(
        services.product_save,
        acting_user=operator,
        name="企业信用画像",
        description="信用评估。",
        price=Decimal("0.04"),
        unit="次",
        fee_basis="call",
        resources=[resource.pk],
    )
    page = web().get(url).content.decode()
    assert "企业信用画像" in page and "0.04" in page
    (grant,) = a.grants.all()
    usage_record(grant, calls=7, rows=321)  # what a supply call does: shown at once
    assert "321" in web().get(url).content.decode()

    def queries(n_more: int) -> tuple[int, int]:
        for i in range(n_more):
            approve(apply(operator, [resource], scope=f"范围{i}"), bureau.reviewer)
        committed(services.disclosure_changed)
        c = web()
        with CaptureQueriesContext(connection) as cold:
            assert c.get(reverse("disclosures:list")).status_code == 200
        with CaptureQueriesContext(connection) as warm:
            assert c.get(reverse("disclosures:list")).status_code == 200
        return len(cold), len(warm)

    few, more = queries(1), queries(5)
    assert few == more
    assert more[1] < more[0]


def test_junk_parameters_share_one_cache_entry_and_searches_run_live(
    resource, bureau, operator, caps
):
    approve(apply(operator, [resource]), bureau.reviewer)
    url = reverse("disclosures:list")
    c = web()
    assert c.get(url, {"junk": "1"}).status_code == 200  # fills the entry of "some parameter"
    with CaptureQueriesContext(connection) as other_junk:
        assert c.get(url, {"junk": "2", "more": "x"}).status_code == 200
    with CaptureQueriesContext(connection) as cold:
        assert c.get(url, {"q": "企业"}).status_code == 200
    with CaptureQueriesContext(connection) as again:
        body = c.get(url, {"q": "企业"}).content.decode()
    assert len(other_junk) < len(cold)  # served from the cache entry the first junk made
    assert len(again) == len(cold)  # a free-text search is never cached
    assert resource.published_version.name in body


def test_feeds(resource, bureau, operator, caps):
    a = approve(apply(operator, [resource]), bureau.reviewer)
    data = json.loads(web().get(reverse("disclosures:feed_json")).content)
    (item,) = data["authorizations"]
    assert item["id"] == a.pk and item["state"] == "active"
    assert set(item["resources"][0]) == {"code", "name", "provider", "delivery"}
    assert {c["basis"] for c in data["fee_caps"]} == {"call", "row", "month", "product"}
    atom = web().get(reverse("disclosures:feed_atom"))
    assert atom["Content-Type"].startswith("application/atom+xml")
    assert operator.organization.name in atom.content.decode()


def test_workspace_pages_answer_their_people_and_404_to_others(resource, bureau, operator, caps):
    a = approve(apply(operator, [resource]), bureau.reviewer)
    other = UserFactory(
        organization=OrganizationFactory(
            kind=Organization.Kind.OPERATOR, division=division("420100")
        ),
        roles=[Role.OPERATOR],
    )
    for user, name, args in [
        (operator, "operation:list", []),
        (operator, "operation:apply", []),
        (operator, "operation:detail", [a.pk]),
        (operator, "operation:plan", [a.pk]),
        (operator, "operation:products", []),
        (operator, "operation:product_new", []),
        (operator, "operation:usage", []),
        (operator, "operation:disclosures", []),
        (bureau.reviewer, "operation:detail", [a.pk]),
        (bureau.reviewer, "operation:fees", []),
        (resource.provider and cf.make_agency().admin, "operation:list", []),
    ]:
        assert web(user).get(reverse(name, args=args)).status_code == 200, name
    assert web(other).get(reverse("operation:detail", args=[a.pk])).status_code == 404
    assert web(other).get(reverse("operation:plan", args=[a.pk])).status_code == 404
    assert web(operator).get(reverse("operation:fees")).status_code == 404
    anonymous = web().get(reverse("operation:list"))
    assert anonymous.status_code == 302


def test_product_form_refuses_a_price_above_the_cap(resource, bureau, operator, caps):
    approve(apply(operator, [resource]), bureau.reviewer)
    c = web(operator)
    form = {
        "name": "到站预测",
        "description": "服务",
        "resources": [resource.pk],
        "price": "0.5",
        "unit": "次",
        "fee_basis": "call",
    }
    refused = c.post(reverse("operation:product_new"), form)
    assert refused.status_code == 200 and "fee cap" in refused.content.decode()
    assert c.post(reverse("operation:product_new"), {**form, "price": "0.01"}).status_code == 302


def test_naughty_strings_never_make_a_server_error(naughty, resource, bureau, operator, caps):
    approve(apply(operator, [resource]), bureau.reviewer)
    anonymous, c = web(), web(operator)
    for i, s in enumerate(naughty):
        r = anonymous.get(reverse("disclosures:list"), {"q": s, "state": s, "bureau": s})
        assert r.status_code == 200, repr(s)
        if i % 5 == 0:
            r = c.get(reverse("operation:list"), {"q": s, "state": s})
            assert r.status_code == 200, repr(s)
    for s in naughty[::7]:
        r = c.post(
            reverse("operation:product_new"),
            {
                "name": s or "x",
                "description": s or "x",
                "resources": [resource.pk],
                "price": "0.01",
                "unit": (s or "x")[:50],
                "fee_basis": "call",
            },
        )
        assert r.status_code in (200, 302), repr(s)
        r = c.post(
            reverse("operation:apply"),
            {
                "kind": "whole",
                "scope": s or "x",
                "purpose": s or "x",
                "security_measures": s or "x",
                "resource_codes": s,
                "starts_on": "2030-01-01",
                "ends_on": "2031-01-01",
            },
        )
        assert r.status_code == 200, repr(s)  # a whole authorization without a domain


def test_the_operator_sees_each_grants_key_once(resource, bureau, operator):
    a = approve(apply(operator, [resource]), bureau.reviewer)
    (entry,) = a.entries.all()
    assert entry.grant is not None and entry.key_sealed
    c = web(operator)
    detail = c.get(reverse("operation:detail", args=[a.pk])).content.decode()
    url = reverse("operation:grant_key", args=[a.pk, entry.pk])
    assert url in detail
    assert web(bureau.reviewer).post(url).status_code == 302  # refused: not the operator
    shown = c.post(url)
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    assert 'data-testid="api-key"' in shown.content.decode()
    entry.refresh_from_db()
    assert entry.key_sealed == ""
    assert c.post(url).status_code == 302  # not kept
