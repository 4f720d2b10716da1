"""Compilation campaigns (Art. 12): opening, closing and reopening, each agency's stage
derived from its records, overdue agencies on the board and in their work queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict
from django.urls import reverse

from catalog.filing import selectors, services
from catalog.filing.models import CompilationCampaign
from catalog.filing.queues import _campaign_items, _overdue_agencies
from catalog.filing.selectors import Stage
from tests.catalog import factories as f
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.workflow import events_for

from .conftest import make_campaign, make_system

pytestmark = pytest.mark.django_db
YESTERDAY = dt.date.today() - dt.timedelta(days=2)


def _row(user, campaign, org):
    return next(r for r in selectors.campaign_board(user, campaign) if r.organization_id == org.pk)


# --- the stage rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "stage"),
    [
        (dict(confirmed=False, n_systems=0, n_complete=0), Stage.CENSUS),
        (dict(confirmed=False, n_systems=2, n_complete=1), Stage.CENSUS),
        (dict(confirmed=True, n_systems=2, n_complete=1), Stage.METADATA),
        (dict(confirmed=False, n_systems=1, n_complete=1, n_drafts=2), Stage.METADATA),
        (
            dict(confirmed=False, n_systems=1, n_complete=1, n_drafts=1, n_in_review=3),
            Stage.METADATA,
        ),
        (dict(confirmed=False, n_systems=1, n_complete=1, n_in_review=3), Stage.COMPILATION),
        (
            dict(confirmed=False, n_systems=1, n_complete=1, n_in_review=1, n_published=5),
            Stage.COMPILATION,
        ),
        (dict(confirmed=False, n_systems=1, n_complete=1, n_published=5), Stage.PUBLICATION),
    ],
)
def test_stage_rule(counts, stage):
    values = dict(n_drafts=0, n_in_review=0, n_published=0) | counts
    assert selectors.agency_stage(**values) == stage


# --- each stage, from real records -----------------------------------------------------------


def test_agency_without_systems_is_at_census(agency, city, campaign):
    assert _row(city.reviewer, campaign, agency.org).stage == Stage.CENSUS


def test_incomplete_census_stays_at_census_until_confirmed(agency, city, campaign):
    make_system(agency, builder="")
    assert _row(city.reviewer, campaign, agency.org).stage == Stage.CENSUS
    services.census_confirm(campaign=campaign, acting_user=agency.staff)
    row = _row(city.reviewer, campaign, agency.org)
    assert row.confirmed and row.stage == Stage.METADATA


def test_drafts_mean_metadata_collection(agency, city, campaign):
    make_system(agency)
    f.make_draft(agency)
    row = _row(city.reviewer, campaign, agency.org)
    assert (row.stage, row.n_systems, row.n_drafts) == (Stage.METADATA, 1, 1)


def test_submitted_entries_mean_compilation(agency, city, campaign):
    make_system(agency)
    f.approve(f.make_draft(agency), agency)
    row = _row(city.reviewer, campaign, agency.org)
    assert (row.stage, row.n_drafts, row.n_in_review) == (Stage.COMPILATION, 0, 1)


def test_everything_published_means_publication(agency, city, campaign):
    make_system(agency)
    f.make_published(agency, city.reviewer)
    row = _row(city.reviewer, campaign, agency.org)
    assert (row.stage, row.n_published, row.overdue) == (Stage.PUBLICATION, 1, False)


# --- states: open, overdue, closed, reopened -------------------------------------------------


def test_open_campaign_before_deadline_flags_nobody(agency, city, campaign):
    assert campaign.state == CompilationCampaign.State.OPEN
    assert not _row(city.reviewer, campaign, agency.org).overdue
    assert _overdue_agencies(city.reviewer) == []
    items = _campaign_items(agency.staff)
    assert len(items) == 1 and not items[0].overdue


def test_past_deadline_flags_agencies_not_at_publication(agency, other_agency, city):
    campaign = make_campaign(city, deadline=YESTERDAY)
    make_system(other_agency)
    f.make_published(other_agency, city.reviewer)
    assert _row(city.reviewer, campaign, agency.org).overdue
    assert not _row(city.reviewer, campaign, other_agency.org).overdue
    # In the agency's work queue ...
    (item,) = _campaign_items(agency.staff)
    assert item.overdue and campaign.name in item.title
    # ... not in the finished agency's ...
    assert _campaign_items(other_agency.staff) == []
    # ... and counted in the bureau's.
    (late,) = _overdue_agencies(city.reviewer)
    assert late.overdue and "?overdue=on" in late.url


def test_closing_freezes_the_board_and_drops_the_queue(agency, city):
    campaign = make_campaign(city, deadline=YESTERDAY)
    campaign = services.campaign_transition(
        campaign=campaign, action="close", acting_user=city.reviewer
    )
    assert campaign.state == CompilationCampaign.State.CLOSED and campaign.closed_at
    assert [e.to_state for e in events_for(campaign)] == ["closed"]
    # Work done after closing does not change the closed board.
    make_system(agency)
    f.make_published(agency, city.reviewer)
    row = _row(city.reviewer, campaign, agency.org)
    assert (row.stage, row.overdue) == (Stage.CENSUS, True)
    assert _campaign_items(agency.staff) == []
    assert _overdue_agencies(city.reviewer) == []
    # The agency sees its own frozen row only.
    rows = selectors.campaign_board(agency.staff, campaign)
    assert [r.organization_id for r in rows] == [agency.org.pk]


def test_reopening_needs_a_comment_and_makes_the_board_live(agency, city, campaign):
    services.campaign_transition(campaign=campaign, action="close", acting_user=city.reviewer)
    with pytest.raises(DomainError):
        services.campaign_transition(campaign=campaign, action="reopen", acting_user=city.reviewer)
    campaign = services.campaign_transition(
        campaign=campaign, action="reopen", acting_user=city.reviewer, comment="延期"
    )
    assert campaign.state == CompilationCampaign.State.OPEN and campaign.final_board == []
    make_system(agency)
    f.make_published(agency, city.reviewer)
    assert _row(city.reviewer, campaign, agency.org).stage == Stage.PUBLICATION


def test_closed_campaign_cannot_be_closed_or_confirmed(agency, city, campaign):
    make_system(agency)
    services.campaign_transition(campaign=campaign, action="close", acting_user=city.reviewer)
    with pytest.raises(TransitionNotAllowed):
        services.campaign_transition(campaign=campaign, action="close", acting_user=city.reviewer)
    with pytest.raises(DomainError):
        services.census_confirm(campaign=campaign, acting_user=agency.staff)


def test_only_the_city_bureau_opens_and_closes(agency, district, campaign):
    with pytest.raises(AccessDenied):
        make_campaign(f.Bureau(org=district.org, reviewer=district.reviewer), name="另一个")
    with pytest.raises(TransitionNotAllowed):
        services.campaign_transition(campaign=campaign, action="close", acting_user=agency.admin)


def test_duplicate_campaign_name_is_refused(city, campaign):
    with pytest.raises(DomainError) as exc:
        make_campaign(city)
    assert exc.value.field == "name"


def test_confirming_needs_a_system_and_happens_once(agency, campaign):
    with pytest.raises(DomainError):
        services.census_confirm(campaign=campaign, acting_user=agency.staff)
    make_system(agency)
    services.census_confirm(campaign=campaign, acting_user=agency.staff)
    with pytest.raises(DomainError):
        services.census_confirm(campaign=campaign, acting_user=agency.admin)


def test_opening_notifies_agency_data_officers(agency, city):
    from wuhan_pdr.kernel.models import Notification

    make_campaign(city)
    assert Notification.objects.filter(recipient=agency.admin).exists()
    assert not Notification.objects.filter(recipient=agency.staff).exists()


# --- pages ---------------------------------------------------------------------------------


def test_reviewer_opens_a_campaign_through_the_form(city, login):
    c = login(city.reviewer)
    r = c.post(
        reverse("filing:campaign_create"),
        {"name": "2026 年度目录编制", "year": "2026", "deadline": "2026-12-31", "description": ""},
    )
    campaign = CompilationCampaign.objects.get()
    assert r.status_code == 302 and r.url == reverse("filing:campaign", kwargs={"pk": campaign.pk})


def test_campaign_form_names_the_wrong_field(city, login):
    r = login(city.reviewer).post(
        reverse("filing:campaign_create"),
        {"name": "x", "year": "2026", "deadline": "2026-13-45"},
    )
    assert r.status_code == 200 and "deadline" in r.context["form"].errors
    r = login(city.reviewer).post(
        reverse("filing:campaign_create"),
        {"name": "x", "year": "2027", "deadline": "2026-01-01"},
    )
    assert "deadline" in r.context["form"].errors


def test_agency_cannot_open_a_campaign(agency, login):
    assert login(agency.admin).get(reverse("filing:campaign_create")).status_code == 404


def test_board_page_filters_and_flags(
    agency, other_agency, city, login, django_assert_max_num_queries
):
    campaign = make_campaign(city, deadline=YESTERDAY)
    make_system(other_agency)
    f.make_published(other_agency, city.reviewer)
    c = login(city.reviewer)
    url = reverse("filing:campaign", kwargs={"pk": campaign.pk})
    with django_assert_max_num_queries(16):
        r = c.get(url)
    body = r.content.decode()
    assert 'class="overdue"' in body and agency.org.name in body
    r = c.get(url, {"overdue": "on"})
    names = {row.name for row in r.context["page_obj"].object_list}
    assert agency.org.name in names and other_agency.org.name not in names
    r = c.get(url, {"stage": "publication"})
    assert [row.name for row in r.context["page_obj"].object_list] == [other_agency.org.name]


def test_board_chips_keep_the_other_filters(agency, city, login):
    campaign = make_campaign(city, deadline=YESTERDAY)
    c = login(city.reviewer)
    url = reverse("filing:campaign", kwargs={"pk": campaign.pk})
    r = c.get(url, {"q": agency.org.name, "overdue": "on", "page": "1"})
    chips = {chip["key"]: chip for chip in r.context["stage_chips"]}
    census = QueryDict(chips["census"]["url"].lstrip("?"))
    assert census.dict() == {"q": agency.org.name, "overdue": "on", "stage": "census"}
    assert r.context["overdue_chip"]["active"]
    assert QueryDict(r.context["overdue_chip"]["url"].lstrip("?")).dict() == {"q": agency.org.name}
    # The chip of the stage shown clears that filter only.
    r = c.get(url, {"q": agency.org.name, "stage": "census"})
    chip = next(ch for ch in r.context["stage_chips"] if ch["key"] == "census")
    assert chip["active"] and QueryDict(chip["url"].lstrip("?")).dict() == {"q": agency.org.name}
    assert 'aria-current="true"' in r.content.decode()
    r = c.get(url, {"stage": "census"})
    chip = next(ch for ch in r.context["stage_chips"] if ch["key"] == "census")
    assert chip["url"] == url


def test_agency_sees_its_own_stage_not_the_board(agency, other_agency, campaign, login):
    r = login(agency.staff).get(reverse("filing:campaign", kwargs={"pk": campaign.pk}))
    assert r.status_code == 200
    assert r.context["mine"].organization_id == agency.org.pk
    assert other_agency.org.name not in r.content.decode()


def test_agency_confirms_through_the_page(agency, campaign, login):
    make_system(agency, builder="")
    c = login(agency.staff)
    r = c.post(reverse("filing:campaign_confirm", kwargs={"pk": campaign.pk}))
    assert r.status_code == 302
    assert campaign.confirmations.filter(organization=agency.org).exists()


def test_close_through_the_page_and_not_by_an_agency(agency, city, campaign, login):
    url = reverse("filing:campaign_action", kwargs={"pk": campaign.pk})
    login(agency.admin).post(url, {"action": "close"})
    campaign.refresh_from_db()
    assert campaign.state == "open"
    login(city.reviewer).post(url, {"action": "close"})
    campaign.refresh_from_db()
    assert campaign.state == "closed"


def test_missing_campaign_is_404(city, login):
    assert (
        login(city.reviewer).get(reverse("filing:campaign", kwargs={"pk": 9999})).status_code == 404
    )


def test_campaign_list_page(city, campaign, login, django_assert_max_num_queries):
    c = login(city.reviewer)
    with django_assert_max_num_queries(15):
        r = c.get(reverse("filing:campaigns"))
    assert campaign.name in r.content.decode()


def test_overdue_campaign_shows_in_the_agencys_home_queue(agency, city, login):
    campaign = make_campaign(city, deadline=YESTERDAY)
    body = login(agency.staff).get("/").content.decode()
    assert campaign.name in body
    assert reverse("filing:campaign", kwargs={"pk": campaign.pk}) in body


def test_filing_home_for_agency_and_bureau(agency, city, campaign, login):
    make_system(agency)
    r = login(agency.staff).get(reverse("filing:home"))
    assert r.status_code == 200 and r.context["own"].n_systems == 1
    r = login(city.reviewer).get(reverse("filing:home"))
    assert r.status_code == 200 and r.context["campaigns"][0]["campaign"] == campaign
