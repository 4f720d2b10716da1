"""Disputes linked to the records they are about (Art. 30 with Art. 7 and 10): share
requests, objections, revenue distributions; the pre-filled form, its refusals, the dispute
opened when coordination is asked, and the panels on the upstream pages."""

from __future__ import annotations

import ast
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from aggregation.objections import services as objection_services
from authorization.revenue import services as revenue_services
from authorization.sharing.models import ShareRequest
from authorization.sharing.services import share_request_ask_coordination, share_request_create
from supervision.disputes.models import Dispute
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.authorization.revenue.conftest import issue_operation_grant
from tests.authorization.sharing.conftest import make_fields
from tests.catalog import factories as cf
from tests.conftest import client_for
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

pytestmark = pytest.mark.django_db

NEW = "supervision:dispute_create"
REFUSED_RE = re.compile(r'id="link-refused">([^<]*)<')


@pytest.fixture
def world():
    bureau = cf.make_city_bureau()
    provider, requester, stranger = cf.make_agency(), cf.make_agency(), cf.make_agency()
    version = cf.make_published(
        provider, bureau.reviewer, share_type="none", share_legal_basis="《保守国家秘密法》第九条"
    )
    resource = version.resource
    items = list(version.items.values_list("pk", flat=True))
    request = share_request_create(
        resource=resource, item_ids=items, fields=make_fields(), acting_user=requester.staff
    )
    assert request.state == ShareRequest.State.REFUSED
    return bureau, provider, requester, stranger, request


def _refusal(client, query: str) -> tuple[int, str]:
    r = client.get(reverse(NEW) + query)
    found = REFUSED_RE.search(r.content.decode())
    return r.status_code, found.group(1) if found else ""


def _post(client, query: str, **data):
    fields = {"title": "共享争议", "description": "拒绝理由不成立", "reference": ""}
    fields.update(data)
    return client.post(reverse(NEW) + query, fields)


def test_prefill_from_a_share_request_and_the_link_is_saved_and_shown(world):
    bureau, provider, requester, stranger, req = world
    c = client_for(requester.staff)
    page = c.get(reverse(NEW) + f"?share_request={req.pk}")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["subject"] == "share_refusal"
    assert form.initial["other_party"] == provider.org.pk
    assert form.initial["reference"] == f"#{req.pk} {req.resource.code}"
    assert str(req.pk) in form.initial["title"]
    # A posted other party or subject is ignored: the record fixes them.
    r = _post(c, f"?share_request={req.pk}", other_party=stranger.org.pk, subject="other")
    assert r.status_code == 302
    d = Dispute.objects.get()
    assert (d.share_request_id, d.subject) == (req.pk, "share_refusal")
    assert (d.raised_by_id, d.other_party_id) == (requester.org.pk, provider.org.pk)
    assert d.history.first().share_request_id == req.pk
    detail = c.get(reverse("supervision:dispute", args=[d.pk])).content.decode()
    assert reverse("sharing:request", args=[req.pk]) in detail
    # The city reviewer sees the request too; the list shows the reference, filters by subject.
    listing = client_for(bureau.reviewer).get(
        reverse("supervision:disputes"), {"subject": "share_refusal"}
    )
    assert f"#{req.pk} {req.resource.code}" in listing.content.decode()
    assert list(listing.context["page_obj"].object_list) == [d]
    other = client_for(bureau.reviewer).get(reverse("supervision:disputes"), {"subject": "revenue"})
    assert list(other.context["page_obj"].object_list) == []


def test_the_provider_side_may_raise_it_too(world):
    _bureau, provider, requester, _stranger, req = world
    page = client_for(provider.admin).get(reverse(NEW) + f"?share_request={req.pk}")
    assert page.status_code == 200
    assert page.context["form"].initial["other_party"] == requester.org.pk


def test_refusal_is_the_same_for_missing_unseen_and_bad_ids(world):
    _bureau, _provider, _requester, stranger, req = world
    c = client_for(stranger.staff)
    missing = _refusal(c, "?share_request=999999999")
    unseen = _refusal(c, f"?share_request={req.pk}")
    assert missing[0] == unseen[0] == 404
    assert missing[1] and missing[1] == unseen[1]
    for q in ("?objection=999999999", "?adjustment=999999999", "?share_request=abc"):
        assert _refusal(c, q) == missing
    # Posting to an unseen record opens nothing.
    assert _post(c, f"?share_request={req.pk}", other_party=1, subject="other").status_code == 404
    assert not Dispute.objects.exists()


def test_the_record_link_is_not_shown_to_who_may_not_see_the_record(world):
    bureau, provider, requester, stranger, req = world
    _post(client_for(requester.staff), f"?share_request={req.pk}")
    d = Dispute.objects.get()
    auditor = UserFactory(organization=bureau.org, roles=[Role.AUDITOR])
    assert client_for(auditor).get(reverse("supervision:dispute", args=[d.pk])).status_code == 200
    # A provider's plain staff sees the dispute (a party) but not the request (data officers'),
    # so no link to it.
    page = client_for(provider.staff).get(reverse("supervision:dispute", args=[d.pk]))
    assert page.status_code == 200
    assert reverse("sharing:request", args=[req.pk]) not in page.content.decode()


def test_coordination_asked_opens_one_linked_dispute(world, django_capture_on_commit_callbacks):
    bureau, provider, requester, _stranger, req = world
    with django_capture_on_commit_callbacks(execute=True):
        req = share_request_ask_coordination(
            request=req, note="业务确需,请协调。", acting_user=requester.admin
        )
    d = Dispute.objects.get(share_request=req)
    assert d.state == Dispute.State.COORDINATION and d.coordination_at is not None
    assert (d.raised_by_id, d.other_party_id) == (requester.org.pk, provider.org.pk)
    assert d.description == "业务确需,请协调。"
    # Asking again (refused by the workflow, or the receiver called twice) opens nothing new.
    with pytest.raises(Exception):  # noqa: B017  (the workflow refuses a second ask)
        share_request_ask_coordination(request=req, note="再次", acting_user=requester.admin)
    from supervision.disputes.services import dispute_open_on_coordination

    with transaction.atomic():
        again = dispute_open_on_coordination(request=req, note="再次", acting_user=requester.admin)
    assert again.pk == d.pk
    assert Dispute.objects.filter(share_request=req).count() == 1
    # The share request page shows it, with a link, to the requester and the bureau.
    for who in (requester.staff, bureau.reviewer):
        page = client_for(who).get(reverse("sharing:request", args=[req.pk])).content.decode()
        assert reverse("supervision:dispute", args=[d.pk]) in page


def test_a_negotiating_dispute_on_the_request_goes_to_coordination_instead(world):
    _bureau, _provider, requester, _stranger, req = world
    _post(client_for(requester.staff), f"?share_request={req.pk}")
    share_request_ask_coordination(request=req, note="请协调", acting_user=requester.admin)
    d = Dispute.objects.get()
    assert d.state == Dispute.State.COORDINATION


def test_share_request_page_offers_raise_a_dispute_to_parties_only(world):
    bureau, _provider, requester, _stranger, req = world
    url = reverse(NEW) + f"?share_request={req.pk}"
    page = client_for(requester.staff).get(reverse("sharing:request", args=[req.pk]))
    assert url in page.content.decode()
    page = client_for(bureau.reviewer).get(reverse("sharing:request", args=[req.pk]))
    assert url not in page.content.decode()


def test_link_must_match_the_subject(world):
    _bureau, provider, requester, _stranger, req = world
    with pytest.raises(IntegrityError), transaction.atomic():
        Dispute.objects.create(
            title="x",
            subject="objection",
            share_request=req,
            raised_by=requester.org,
            other_party=provider.org,
            description="x",
            negotiation_due=dt.date(2026, 1, 1),
            created_by=requester.staff,
        )


def test_naughty_query_parameters_never_500(world):
    _bureau, _provider, requester, _stranger, _req = world
    c = client_for(requester.staff)
    for s in [*naughty_strings()[:200], "1\x00", "-1", "1e3", " 1", "9" * 40]:
        for field in ("share_request", "objection", "adjustment"):
            r = c.get(reverse(NEW), {field: s})
            assert r.status_code in (200, 404), (field, s)
        r = c.get(reverse("supervision:disputes"), {"subject": s, "state": s, "q": s})
        assert r.status_code == 200


# --- objections -----------------------------------------------------------------------------


def test_prefill_from_an_objection(world):
    bureau, provider, requester, stranger, _req = world
    version = cf.make_published(provider, bureau.reviewer)
    objection = objection_services.objection_submit(
        resource=version.resource,
        kind="error",
        description="姓名有误。",
        acting_user=requester.staff,
    )
    page = client_for(requester.staff).get(reverse(NEW) + f"?objection={objection.pk}")
    assert page.status_code == 200
    assert page.context["form"].initial["other_party"] == provider.org.pk
    assert page.context["form"].initial["subject"] == "objection"
    assert _post(client_for(requester.staff), f"?objection={objection.pk}").status_code == 302
    d = Dispute.objects.get()
    assert d.objection_id == objection.pk and d.subject == "objection"
    # The provider's data officer is the other side; a stranger is refused like a missing id.
    page = client_for(provider.admin).get(reverse(NEW) + f"?objection={objection.pk}")
    assert page.context["form"].initial["other_party"] == requester.org.pk
    c = client_for(stranger.staff)
    assert _refusal(c, f"?objection={objection.pk}") == _refusal(c, "?objection=999999999")
    # The objection page shows the dispute to the filer.
    page = client_for(requester.staff).get(reverse("objections:detail", args=[objection.pk]))
    assert reverse("supervision:dispute", args=[d.pk]) in page.content.decode()


# --- revenue --------------------------------------------------------------------------------


def test_prefill_from_a_revenue_distribution(world):
    bureau, provider, _requester, stranger, _req = world
    operator = OrganizationFactory(kind=Organization.Kind.OPERATOR)
    operator_user = UserFactory(organization=operator, roles=[Role.OPERATOR])
    version = cf.make_published(provider, bureau.reviewer)
    issue_operation_grant(version.resource, operator, bureau.reviewer)
    revenue = revenue_services.revenue_record(
        operator=operator,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 3, 31),
        amount=Decimal("100.00"),
        acting_user=operator_user,
    )
    dist = revenue_services.distribution_set(
        revenue=revenue,
        government_ratio=Decimal("0.5"),
        rule="weights",
        weights={provider.org.pk: Decimal("1")},
        acting_user=bureau.reviewer,
    )
    q = f"?adjustment={dist.pk}"
    # The agency's data officer disputes it with the operator.
    page = client_for(provider.admin).get(reverse(NEW) + q)
    assert page.status_code == 200
    assert page.context["form"].initial["other_party"] == operator.pk
    assert page.context["form"].initial["subject"] == "revenue"
    # The operator chooses among the distribution's agencies only.
    page = client_for(operator_user).get(reverse(NEW) + q)
    assert list(page.context["form"].fields["other_party"].queryset) == [provider.org]
    r = _post(client_for(operator_user), q, other_party=stranger.org.pk)
    assert r.status_code == 200 and not Dispute.objects.exists()
    r = _post(client_for(operator_user), q, other_party=provider.org.pk)
    assert r.status_code == 302
    d = Dispute.objects.get()
    assert (d.adjustment_id, d.raised_by_id, d.other_party_id) == (
        dist.pk,
        operator.pk,
        provider.org.pk,
    )
    c = client_for(stranger.admin)
    assert _refusal(c, q) == _refusal(c, "?adjustment=999999999")
    # The agency's statement and the revenue page show it.
    page = client_for(provider.admin).get(reverse("revenue:statement", args=[provider.org.pk]))
    assert reverse("supervision:dispute", args=[d.pk]) in page.content.decode()
    page = client_for(operator_user).get(reverse("revenue:detail", args=[revenue.pk]))
    assert reverse("supervision:dispute", args=[d.pk]) in page.content.decode()
    detail = client_for(provider.admin).get(reverse("supervision:dispute", args=[d.pk]))
    assert reverse("revenue:statement", args=[provider.org.pk]) in detail.content.decode()


# --- direction of imports ------------------------------------------------------------------


def test_upstream_apps_never_import_supervision():
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for app in ("catalog", "aggregation", "authorization", "registration", "security"):
        for path in (root / app).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "supervision"]
    assert offenders == []
