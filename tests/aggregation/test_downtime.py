"""Downtime reports (Art. 10): an agency reports a planned window or an outage of one of its
systems, everyone signed in sees the status page, the agency cancels with a confirmation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from aggregation import services
from aggregation.models import DowntimeReport
from tests.accounts.factories import UserFactory
from tests.aggregation.test_views import _base, client  # noqa: F401  (autouse fixture)
from tests.catalog import factories as cf
from tests.catalog.filing.conftest import make_system
from wuhan_pdr.accounts.roles import Role

FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def agency(db):
    return cf.make_agency()


@pytest.fixture
def system(agency):
    return make_system(agency, name="地名信息管理系统")


def local(delta: dt.timedelta) -> str:
    return timezone.localtime(timezone.now() + delta).strftime(FMT)


def report(agency, system, *, kind="maintenance", start=dt.timedelta(days=2), hours=3):
    starts = timezone.now() + start
    return services.downtime_report_create(
        information_system=system,
        kind=kind,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=hours),
        description=f"{kind} 窗口",
        acting_user=agency.staff,
    )


def test_agency_reports_a_planned_window(agency, system):
    c = client(agency.staff)
    assert c.get(reverse("aggregation:downtime-create")).status_code == 200
    response = c.post(
        reverse("aggregation:downtime-create"),
        {
            "information_system": system.pk,
            "kind": "upgrade",
            "starts_at": local(dt.timedelta(days=1)),
            "ends_at": local(dt.timedelta(days=1, hours=4)),
            "description": "数据库版本升级",
        },
    )
    report_ = DowntimeReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("aggregation:downtime-detail", args=[report_.pk])
    assert report_.reported_by == agency.staff and report_.kind == "upgrade"
    assert "数据库版本升级" in c.get(reverse("aggregation:downtime")).text


def test_form_errors_name_the_field(agency, system):
    c = client(agency.staff)
    response = c.post(
        reverse("aggregation:downtime-create"),
        {
            "information_system": system.pk,
            "kind": "maintenance",
            "starts_at": local(-dt.timedelta(days=2)),
            "ends_at": local(-dt.timedelta(days=1)),
            "description": "事后补报的维护",
        },
    )
    assert response.status_code == 200
    assert "Planned downtime is reported before it starts." in response.text
    inverted = c.post(
        reverse("aggregation:downtime-create"),
        {
            "information_system": system.pk,
            "kind": "outage",
            "starts_at": local(dt.timedelta(hours=2)),
            "ends_at": local(dt.timedelta(hours=1)),
            "description": "x",
        },
    )
    assert "The end must come after the start." in inverted.text
    garbage = c.post(
        reverse("aggregation:downtime-create"),
        {"information_system": "abc", "kind": "nope", "starts_at": "yesterday", "ends_at": ""},
    )
    assert garbage.status_code == 200
    assert not DowntimeReport.objects.exists()


def test_agency_cannot_report_for_another_agencys_system(agency, system):
    other = cf.make_agency()
    make_system(other, name="其他系统")
    response = client(other.staff).post(
        reverse("aggregation:downtime-create"),
        {
            "information_system": system.pk,
            "kind": "outage",
            "starts_at": local(dt.timedelta(hours=-1)),
            "ends_at": local(dt.timedelta(hours=1)),
            "description": "冒报",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    assert not DowntimeReport.objects.exists()
    requester = UserFactory(roles=[Role.REQUESTER])
    assert client(requester).get(reverse("aggregation:downtime-create")).status_code == 404


def test_status_page_shows_current_and_coming_windows_and_recent_outages(agency, system):
    coming = report(agency, system)
    now_window = report(agency, system, kind="outage", start=-dt.timedelta(hours=1))
    past = report(agency, system, kind="outage", start=-dt.timedelta(days=3))
    requester = UserFactory(roles=[Role.REQUESTER])
    c = client(requester)
    page = c.get(reverse("aggregation:downtime"))
    assert page.status_code == 200
    listed = list(page.context["page_obj"].object_list)
    assert listed == [now_window, coming]
    assert page.context["current"] == [now_window]
    assert "Report downtime" not in page.text
    recent = c.get(reverse("aggregation:downtime"), {"when": "past"})
    assert list(recent.context["page_obj"].object_list) == [past]
    outages = c.get(reverse("aggregation:downtime"), {"when": "all", "kind": "outage"})
    assert set(outages.context["page_obj"].object_list) == {now_window, past}
    none = c.get(reverse("aggregation:downtime"), {"q": "没有这个系统"})
    assert "No downtime matches the filters." in none.text
    detail = c.get(reverse("aggregation:downtime-detail", args=[coming.pk]))
    assert detail.status_code == 200
    assert agency.staff.display_name not in detail.text  # who reported is for insiders


def test_status_page_query_count_is_constant(agency, system, django_assert_max_num_queries):
    for i in range(6):
        report(agency, system, start=dt.timedelta(days=i + 1))
    c = client(agency.staff)
    with django_assert_max_num_queries(18):
        response = c.get(reverse("aggregation:downtime"))
    assert len(response.context["page_obj"].object_list) == 6


def test_agency_cancels_a_window_and_others_get_404(agency, system):
    window = report(agency, system)
    url = reverse("aggregation:downtime-detail", args=[window.pk])
    other = cf.make_agency()
    assert client(other.staff).post(url).status_code == 404
    c = client(agency.staff)
    page = c.get(url)
    assert "Cancel this report" in page.text and "Change history" in page.text
    assert c.post(url).status_code == 302
    window.refresh_from_db()
    assert window.cancelled_at is not None
    again = c.post(url)
    assert again.status_code == 200 and "already cancelled" in again.text
    assert (
        window
        not in client(agency.staff)
        .get(reverse("aggregation:downtime"))
        .context["page_obj"]
        .object_list
    )


def test_agency_ends_an_outage_when_the_system_is_back(agency, system):
    outage = report(agency, system, kind="outage", start=-dt.timedelta(hours=1), hours=5)
    url = reverse("aggregation:downtime-detail", args=[outage.pk])
    assert client(cf.make_agency().staff).post(url, {"action": "end"}).status_code == 404
    c = client(agency.staff)
    assert "end the window now" in c.get(url).text
    assert c.post(url, {"action": "end"}).status_code == 302
    outage.refresh_from_db()
    assert outage.ends_at <= timezone.now() and outage.cancelled_at is None
    assert outage.history.first().history_change_reason
    # It is over: neither ended again nor offered.
    again = c.post(url, {"action": "end"})
    assert again.status_code == 200 and "end the window now" not in again.text
    planned = report(agency, system)  # not yet under way: cannot be ended
    with pytest.raises(services.DomainError):
        services.downtime_report_end(report=planned, acting_user=agency.staff)
