"""Pilot scenarios (Art. 22): calls, proposals before the deadline, scored review,
selection with a priced-but-free trial, `trial_for`, the public list (selected pilots only),
who sees which proposal, naughty strings on the forms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authorization.pilots import services
from authorization.pilots.models import PilotCall, Proposal
from authorization.pilots.selectors import trial_for
from tests.conftest import client_for
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.models import Notification

from .conftest import pdf, propose, publish

pytestmark = pytest.mark.django_db


def _review(call, world):
    return services.call_move(call=call, transition="close_submissions", acting_user=world.reviewer)


def _score(proposal, user, n=20):
    return services.proposal_score(
        proposal=proposal,
        scores={"value": n, "feasibility": n, "security": n, "innovation": n},
        comment="可行",
        acting_user=user,
    )


def _select(proposal, world, until=None):
    return services.proposal_select(
        proposal=proposal,
        service="就医导航接口",
        price=Decimal("0.20"),
        unit="元/次",
        waived_until=until or timezone.localdate() + dt.timedelta(days=90),
        acting_user=world.reviewer,
    )


def test_only_the_bureau_publishes_and_the_deadline_lies_ahead(world):
    with pytest.raises(AccessDenied):
        services.call_publish(
            title="t",
            area="a",
            requirements="r",
            deadline=timezone.now() + dt.timedelta(days=1),
            acting_user=world.operator,
        )
    with pytest.raises(DomainError) as past:
        publish(world, days=-1)
    assert past.value.field == "deadline"


def test_proposals_before_the_deadline_once_per_organization(world):
    call = publish(world)
    propose(call, world.operator)
    with pytest.raises(DomainError):
        propose(call, world.operator, title="又一份")
    with pytest.raises(AccessDenied):
        propose(call, world.reviewer)
    late = publish(world, days=0.0001, title="将截止")
    PilotCall.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(DomainError):
        propose(late, world.company)


def test_a_document_that_is_not_what_its_name_says_is_refused(world):
    call = publish(world)
    fake = pdf("方案.pdf")
    fake.file.write(b"")
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(DomainError) as refused:
        services.proposal_submit(
            call=call,
            title="t",
            summary="s",
            data_needed="d",
            document=SimpleUploadedFile("方案.pdf", b"MZ\x90\x00 not a pdf"),
            acting_user=world.company,
        )
    assert refused.value.field == "document"


def test_scored_review_selection_and_trial(world, django_capture_on_commit_callbacks):
    call = publish(world)
    chosen = propose(call, world.operator)
    other = propose(call, world.company, title="信用评估")
    with pytest.raises(DomainError):
        _score(chosen, world.reviewer)  # still open for proposals
    _review(call, world)
    with pytest.raises(DomainError):
        _select(chosen, world)  # not scored yet
    _score(chosen, world.reviewer, 22)
    _score(chosen, world.reviewer2, 18)
    review = _score(chosen, world.reviewer, 24)  # a reviewer changes their scores
    assert review.total == 96 and chosen.reviews.count() == 2
    with pytest.raises(AccessDenied):
        _score(other, world.operator)
    with django_capture_on_commit_callbacks(execute=True):
        trial = _select(chosen, world)
    assert (
        trial.price == Decimal("0.20") and trial.organization_id == world.operator.organization_id
    )
    services.call_move(call=call, transition="finish", acting_user=world.reviewer)
    assert Proposal.objects.get(pk=other.pk).state == Proposal.State.NOT_SELECTED
    assert Proposal.objects.get(pk=chosen.pk).state == Proposal.State.SELECTED
    assert Notification.objects.filter(recipient=world.operator).exists()


def test_trial_for_the_fee_is_waived_until_the_end_date_then_normal_pricing(world):
    call = publish(world)
    p = propose(call, world.operator)
    _review(call, world)
    _score(p, world.reviewer)
    until = timezone.localdate() + dt.timedelta(days=30)
    trial = _select(p, world, until=until)
    org = world.operator.organization
    assert trial_for(org) == trial
    assert trial_for(org, until) == trial
    assert trial_for(org, until + dt.timedelta(days=1)) is None
    assert trial_for(org, timezone.localdate() - dt.timedelta(days=1)) is None
    assert trial_for(world.company.organization) is None


def test_a_free_period_cannot_end_before_it_starts(world):
    call = publish(world)
    p = propose(call, world.operator)
    _review(call, world)
    _score(p, world.reviewer)
    with pytest.raises(DomainError) as refused:
        _select(p, world, until=timezone.localdate() - dt.timedelta(days=1))
    assert refused.value.field == "waived_until"
    assert Proposal.objects.get(pk=p.pk).state == Proposal.State.SUBMITTED


def test_withdraw_while_open_then_submit_again(world):
    call = publish(world)
    p = propose(call, world.company)
    with pytest.raises(DomainError):
        services.proposal_withdraw(proposal=p, acting_user=world.other_company)
    services.proposal_withdraw(proposal=p, acting_user=world.company)
    assert propose(call, world.company, title="修改后").state == Proposal.State.SUBMITTED


@pytest.fixture
def decided(world):
    call = publish(world)
    chosen = propose(call, world.operator, title="入选方案甲")
    other = propose(call, world.company, title="落选方案乙")
    _review(call, world)
    _score(chosen, world.reviewer)
    _score(other, world.reviewer, 10)
    _select(chosen, world)
    return call, chosen, other


def test_anonymous_sees_only_selected_pilots_and_public_fields(world, decided):
    call, chosen, other = decided
    page = Client().get(reverse("pilots:public"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "入选方案甲" in text and "就医导航接口" in text and "0.20" in text
    assert "落选方案乙" not in text
    assert chosen.document_name not in text and "可行" not in text  # no document, no review
    for url in (
        reverse("pilots:call", args=[call.pk]),
        reverse("pilots:proposal", args=[chosen.pk]),
        reverse("pilots:document", args=[chosen.pk]),
        reverse("pilots:calls"),
    ):
        assert Client().get(url).status_code == 302


def test_applicants_see_their_own_proposals_only(world, decided):
    call, chosen, other = decided
    company = client_for(world.company)
    assert company.get(reverse("pilots:proposal", args=[other.pk])).status_code == 200
    assert company.get(reverse("pilots:proposal", args=[chosen.pk])).status_code == 404
    assert company.get(reverse("pilots:document", args=[chosen.pk])).status_code == 404
    assert (
        client_for(world.other_company).get(reverse("pilots:proposal", args=[other.pk])).status_code
        == 404
    )
    page = company.get(reverse("pilots:call", args=[call.pk])).content.decode()
    assert "落选方案乙" in page and "入选方案甲" not in page
    bureau = client_for(world.reviewer)
    assert bureau.get(reverse("pilots:document", args=[chosen.pk])).status_code == 200
    assert (
        client_for(world.auditor).get(reverse("pilots:proposal", args=[chosen.pk])).status_code
        == 200
    )
    # An applicant may not score or select.
    r = company.post(
        reverse("pilots:score", args=[other.pk]),
        {"value": 25, "feasibility": 25, "security": 25, "innovation": 25, "comment": "自评"},
    )
    assert r.status_code == 404


def test_the_bureau_scores_and_selects_through_the_page(world):
    call = publish(world)
    p = propose(call, world.company)
    _review(call, world)
    c = client_for(world.reviewer)
    r = c.post(
        reverse("pilots:score", args=[p.pk]),
        {"value": 20, "feasibility": 21, "security": 22, "innovation": 23, "comment": "好"},
    )
    assert r.status_code == 302
    r = c.post(
        reverse("pilots:select", args=[p.pk]),
        {
            "service": "接口",
            "price": "1.50",
            "unit": "元/次",
            "waived_until": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
        },
    )
    assert r.status_code == 302
    assert Proposal.objects.get(pk=p.pk).trial.price == Decimal("1.50")
    r = c.post(reverse("pilots:call_move", args=[call.pk, "finish"]))
    assert r.status_code == 302
    assert PilotCall.objects.get(pk=call.pk).state == PilotCall.State.CLOSED


def test_the_applicant_submits_through_the_page(world):
    call = publish(world)
    c = client_for(world.company)
    r = c.post(
        reverse("pilots:propose", args=[call.pk]),
        {
            "title": "方案",
            "summary": "场景",
            "data_needed": "数据",
            "document": pdf(),
        },
    )
    assert r.status_code == 302
    assert Proposal.objects.filter(call=call, organization=world.company.organization).exists()


def test_forms_and_searches_survive_naughty_strings(world, naughty):
    call = publish(world)
    company = client_for(world.company)
    bureau = client_for(world.reviewer)
    for i, text in enumerate(naughty):
        assert Client().get(reverse("pilots:public"), {"q": text}).status_code == 200
        assert bureau.get(reverse("pilots:calls"), {"q": text, "state": text}).status_code == 200
        if i % 4:
            continue
        r = bureau.post(
            reverse("pilots:call_create"),
            {
                "title": text,
                "area": text,
                "requirements": text,
                "deadline": text,
            },
        )
        assert r.status_code in (200, 302), repr(text)
        r = company.post(
            reverse("pilots:propose", args=[call.pk]),
            {
                "title": text,
                "summary": text,
                "data_needed": text,
                "document": pdf(f"{i}.pdf"),
            },
        )
        assert r.status_code in (200, 302), repr(text)
        Proposal.objects.filter(call=call).update(state=Proposal.State.WITHDRAWN)


def test_public_page_query_count_does_not_grow(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = publish(world)
    users = [world.operator, world.company, world.other_company]
    proposals = [propose(call, u, title=f"方案{i}") for i, u in enumerate(users)]
    _review(call, world)
    for p in proposals:
        _score(p, world.reviewer)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get(reverse("pilots:public")).status_code == 200
        return len(ctx)

    _select(proposals[0], world)
    one = count()
    _select(proposals[1], world)
    _select(proposals[2], world)
    assert count() == one
