"""The aggregation board (Art. 15): per agency and per district, resources catalogued against
resources with an active channel and with fresh data, and active channels by source kind."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from aggregation import selectors
from aggregation.models import DatastoreTable
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import make_channel
from tests.aggregation.test_views import _base, client, csv_rows, load  # noqa: F401
from tests.catalog import factories as cf
from wuhan_pdr.accounts.roles import Role


@pytest.fixture
def world(db):
    """Agency A (city, 420100): three published resources; one loaded today through an active
    local channel, one with a district-source channel loaded 40 days ago (monthly: stale), one
    with no channel. Agency B (江岸区): one resource, an active vertical-return channel, never
    loaded."""
    bureau = cf.make_city_bureau()
    a = cf.make_agency(name="甲局")
    b = cf.make_agency(name="乙局", division_code=cf.JIANGAN)
    fresh = make_channel(agency=a, name="新鲜")
    load(fresh, csv_rows(3))
    stale = make_channel(agency=a, name="陈旧", source_kind="district")
    load(stale, csv_rows(2))
    DatastoreTable.objects.filter(resource=stale.resource).update(
        last_loaded_at=timezone.now() - dt.timedelta(days=40)
    )
    cf.make_published(a, bureau.reviewer, name="无通道资源")
    make_channel(agency=b, source_kind="vertical_return")
    return {"a": a, "b": b, "reviewer": bureau.reviewer}


def test_board_counts_per_agency(world):
    rows, total = selectors.aggregation_board(world["reviewer"])
    by_name = {r.name: r for r in rows}
    a, b = by_name["甲局"], by_name["乙局"]
    assert (a.catalogued, a.with_channel, a.fresh) == (3, 2, 1)
    assert a.by_source == {"local": 1, "district": 1}
    assert (b.catalogued, b.with_channel, b.fresh) == (1, 1, 0)
    assert b.by_source == {"vertical_return": 1}
    assert a.fresh_rate == 33 and b.channel_rate == 100
    assert (total.catalogued, total.with_channel, total.fresh) >= (4, 3, 1)


def test_board_counts_per_district_and_sorts(world):
    rows, _total = selectors.aggregation_board(world["reviewer"], group="district")
    by_key = {r.key: r for r in rows}
    assert by_key[cf.JIANGAN].catalogued == 1
    assert by_key["420100"].catalogued >= 3
    rows, _ = selectors.aggregation_board(world["reviewer"], sort="fresh")
    assert rows[0].fresh >= rows[-1].fresh


def test_suspended_channel_does_not_count(world):
    from aggregation import services
    from aggregation.models import Channel

    channel = Channel.objects.get(name="新鲜")
    services.channel_suspend(channel=channel, acting_user=world["a"].staff)
    rows, _ = selectors.aggregation_board(world["a"].staff)
    assert [(r.catalogued, r.with_channel, r.fresh) for r in rows] == [(3, 1, 1)]


def test_bureau_page_shows_every_agency_with_totals(world, django_assert_max_num_queries):
    c = client(world["reviewer"])
    with django_assert_max_num_queries(16):
        response = c.get(reverse("aggregation:board"))
    assert response.status_code == 200
    assert "甲局" in response.text and "乙局" in response.text
    assert "<tfoot>" in response.text
    searched = c.get(reverse("aggregation:board"), {"q": "乙"})
    assert [r.name for r in searched.context["page_obj"].object_list] == ["乙局"]
    district = c.get(reverse("aggregation:board"), {"group": "district"})
    assert "江岸区" in district.text


def test_agency_sees_only_its_own_row(world):
    response = client(world["b"].staff).get(reverse("aggregation:board"))
    assert response.status_code == 200
    assert [r.name for r in response.context["page_obj"].object_list] == ["乙局"]
    assert "甲局" not in response.text


def test_board_is_404_for_a_requester(world):
    requester = UserFactory(roles=[Role.REQUESTER])
    assert client(requester).get(reverse("aggregation:board")).status_code == 404


def test_district_reviewer_sees_the_agencies_of_its_district(world):
    reviewer = cf.make_district_bureau(cf.JIANGAN).reviewer
    response = client(reviewer).get(reverse("aggregation:board"))
    assert [r.name for r in response.context["page_obj"].object_list] == ["乙局"]
    assert not response.context["show_channels"]  # no tab to the channel pages it cannot use
