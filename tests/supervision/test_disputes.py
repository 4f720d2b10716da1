"""Disputes (Art. 30): negotiation first, within a time limit, then the city bureau's
coordination with meetings and a decision the parties see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from supervision.disputes import services
from supervision.disputes.models import Dispute
from tests.catalog.factories import make_agency, make_city_bureau
from tests.conftest import client_for
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.workdays import add_working_days
from wuhan_pdr.kernel.workdays import today as local_today


@pytest.fixture
def parties(db):
    return make_agency(), make_agency(), make_city_bureau()


def _open(a, b):
    return services.dispute_open(
        other_party=b.org,
        subject="share_refusal",
        title="共享争议",
        description="拒绝共享",
        acting_user=a.admin,
    )


def test_negotiate_then_coordinate_and_decide(parties):
    a, b, city = parties
    d = _open(a, b)
    assert d.state == "negotiating"
    assert d.negotiation_due == add_working_days(local_today(), 10)
    with pytest.raises(DomainError):  # negotiate first
        services.dispute_escalate(dispute=d, acting_user=a.admin)
    with pytest.raises(DomainError):  # the bureau does not hold the parties' negotiation
        services.meeting_record(
            dispute=d,
            held_on=local_today(),
            participants="x",
            minutes="y",
            acting_user=city.reviewer,
        )
    services.meeting_record(
        dispute=d,
        held_on=local_today(),
        participants="双方",
        minutes="未达成一致",
        acting_user=b.staff,
    )
    d = services.dispute_escalate(dispute=d, acting_user=b.staff)
    assert d.state == "coordination"
    with pytest.raises(DomainError):  # a coordination meeting first
        services.dispute_decide(dispute=d, decision="x", acting_user=city.reviewer)
    services.meeting_record(
        dispute=d,
        held_on=local_today(),
        participants="市数据局",
        minutes="协调",
        acting_user=city.reviewer,
    )
    with pytest.raises(DomainError) as exc:
        services.dispute_decide(dispute=d, decision=" ", acting_user=city.reviewer)
    assert exc.value.field == "decision"
    with pytest.raises(DomainError):
        services.dispute_decide(dispute=d, decision="共享脱敏字段", acting_user=a.admin)
    d = services.dispute_decide(dispute=d, decision="共享脱敏字段", acting_user=city.reviewer)
    assert d.state == "decided"
    for who in (a.staff, b.admin, city.reviewer):
        page = client_for(who).get(reverse("supervision:dispute", args=[d.pk])).content.decode()
        assert "共享脱敏字段" in page


def test_the_negotiation_time_limit_sends_it_to_coordination(parties):
    a, b, _city = parties
    d = _open(a, b)
    assert services.disputes_sweep(today=d.negotiation_due) == 0
    assert services.disputes_sweep(today=d.negotiation_due + dt.timedelta(days=1)) == 1
    d.refresh_from_db()
    assert d.state == "coordination" and d.coordination_at


def test_settled_by_the_parties_and_seen_by_them_only(parties):
    a, b, city = parties
    stranger = make_agency()
    d = _open(a, b)
    with pytest.raises(DomainError):
        services.dispute_settle(dispute=d, settlement="同意", acting_user=stranger.admin)
    with pytest.raises(DomainError):
        services.dispute_open(
            other_party=a.org, subject="other", title="x", description="y", acting_user=a.admin
        )
    d = services.dispute_settle(dispute=d, settlement="同意共享", acting_user=b.admin)
    assert d.state == Dispute.State.SETTLED
    assert (
        client_for(stranger.admin).get(reverse("supervision:dispute", args=[d.pk])).status_code
        == 404
    )
    listing = client_for(stranger.admin).get(reverse("supervision:disputes")).content.decode()
    assert "共享争议" not in listing


def test_naughty_strings_on_the_dispute_forms(parties, naughty):
    a, b, _city = parties
    d = _open(a, b)
    c = client_for(a.admin)
    for text in naughty[::9]:
        r1 = c.post(
            reverse("supervision:dispute_create"),
            {"other_party": b.org.pk, "subject": text, "title": text, "description": text},
        )
        r2 = c.post(
            reverse("supervision:dispute_meeting", args=[d.pk]),
            {"held_on": text, "participants": text, "minutes": text},
        )
        r3 = c.get(reverse("supervision:disputes"), {"q": text, "state": text})
        assert max(r1.status_code, r2.status_code, r3.status_code) < 500, text
