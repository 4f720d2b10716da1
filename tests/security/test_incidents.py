"""Incidents, emergency plans and drills (Art. 26): district bureaus see their district's,
the city bureau, the security administrator and the auditor all, agencies their own; the
incident workflow (handling, closing with lessons, reopening with a comment); affected
resources checked against the catalog through its lookup; lists with filters and empty states;
naughty strings in searches and forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from security.incidents import services
from security.incidents.models import Drill, EmergencyPlan, Incident, IncidentEntry
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import security_admin
from tests.aggregation.test_views import _base, client  # noqa: F401  (autouse fixture)
from tests.catalog import factories as cf
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.models import Notification

HONGSHAN = "420111"


def _fields(**over) -> dict:
    now = timezone.now()
    return {
        "title": "测试事件",
        "level": Incident.Level.GENERAL,
        "category": Incident.Category.OUTAGE,
        "occurred_at": now - dt.timedelta(hours=3),
        "discovered_at": now - dt.timedelta(hours=2),
        "summary": "接口中断。",
        **over,
    }


def _report(org, user, **over) -> Incident:
    return services.incident_report(
        organization=org, fields=_fields(**over), resource_codes=[], acting_user=user
    )


@pytest.fixture
def world(db):
    return incident_world()


def incident_world() -> dict:
    """A city agency, an agency and a bureau in each of two districts, with an incident each."""
    admin = security_admin()
    city_agency = cf.make_agency()
    jiangan = cf.make_district_bureau(cf.JIANGAN)
    jiangan_agency = cf.make_district_agency(cf.JIANGAN)
    hongshan = cf.make_district_bureau(HONGSHAN)
    hongshan_agency = cf.make_district_agency(HONGSHAN)
    return {
        "admin": admin,
        "city": cf.make_city_bureau(),
        "city_agency": city_agency,
        "jiangan": jiangan,
        "jiangan_agency": jiangan_agency,
        "hongshan": hongshan,
        "hongshan_agency": hongshan_agency,
        "city_incident": _report(city_agency.org, admin, title="市级事件"),
        "jiangan_incident": _report(jiangan_agency.org, jiangan.reviewer, title="江岸事件"),
        "hongshan_incident": _report(hongshan_agency.org, admin, title="洪山事件"),
    }


def test_each_role_sees_its_share_of_incidents_and_404_for_the_rest(world):
    url = reverse("security:incident-list")
    titles = {"市级事件", "江岸事件", "洪山事件"}

    def seen(user) -> set[str]:
        page = client(user).get(url)
        assert page.status_code == 200
        return {t for t in titles if t in page.text}

    assert seen(world["admin"]) == titles
    assert seen(world["city"].reviewer) == titles
    auditor = UserFactory(organization=world["city"].org, roles=[Role.AUDITOR])
    assert seen(auditor) == titles
    assert seen(world["jiangan"].reviewer) == {"江岸事件"}
    assert seen(world["jiangan_agency"].staff) == {"江岸事件"}
    assert seen(world["city_agency"].admin) == {"市级事件"}
    requester = UserFactory(roles=[Role.REQUESTER])
    assert client(requester).get(url).status_code == 404
    other = reverse("security:incident-detail", args=[world["hongshan_incident"].pk])
    assert client(world["jiangan"].reviewer).get(other).status_code == 404
    assert (
        client(world["jiangan"].reviewer)
        .post(
            reverse("security:incident-entry", args=[world["hongshan_incident"].pk]),
            {"kind": "note", "at": "2026-01-01T10:00", "text": "x"},
        )
        .status_code
        == 404
    )
    assert client(world["admin"]).get(other).status_code == 200
    missing = reverse("security:incident-detail", args=[10**9])
    assert client(world["admin"]).get(missing).status_code == 404


def test_who_may_write_for_which_organization(world):
    with pytest.raises(AccessDenied):
        _report(world["hongshan_agency"].org, world["jiangan"].reviewer)
    with pytest.raises(AccessDenied):
        _report(world["jiangan_agency"].org, world["city_agency"].admin)
    with pytest.raises(AccessDenied):
        _report(world["city_agency"].org, world["city_agency"].staff)
    auditor = UserFactory(organization=world["city"].org, roles=[Role.AUDITOR])
    with pytest.raises(AccessDenied):
        _report(world["city_agency"].org, auditor)
    assert _report(world["city_agency"].org, world["city_agency"].admin).pk
    assert _report(world["jiangan_agency"].org, world["jiangan"].reviewer).pk
    assert client(auditor).get(reverse("security:incident-new")).status_code == 404
    create = client(world["jiangan"].reviewer).get(reverse("security:incident-new"))
    assert world["jiangan_agency"].org.name in create.text
    assert world["hongshan_agency"].org.name not in create.text


def test_the_workflow_records_a_timeline_and_closes_only_with_lessons(world):
    incident = world["jiangan_incident"]
    reviewer = world["jiangan"].reviewer
    with pytest.raises(TransitionNotAllowed):
        services.incident_move(
            incident=incident, transition="respond", acting_user=world["hongshan"].reviewer
        )
    services.incident_move(incident=incident, transition="respond", acting_user=reviewer)
    services.incident_entry_add(
        incident=incident,
        kind="action",
        at=timezone.now(),
        text="隔离前置机",
        acting_user=reviewer,
    )
    with pytest.raises(DomainError, match="lessons"):
        services.incident_move(incident=incident, transition="close", acting_user=reviewer)
    closed = services.incident_move(
        incident=incident, transition="close", lessons="加强口令策略", acting_user=reviewer
    )
    assert closed.state == "closed" and closed.closed_at and closed.lessons_learned
    with pytest.raises(DomainError, match="reopen"):
        services.incident_entry_add(
            incident=incident, kind="note", at=timezone.now(), text="x", acting_user=reviewer
        )
    with pytest.raises(DomainError, match="comment"):
        services.incident_move(incident=incident, transition="reopen", acting_user=reviewer)
    reopened = services.incident_move(
        incident=incident, transition="reopen", comment="发现新的影响", acting_user=reviewer
    )
    assert reopened.state == "responding" and reopened.closed_at is None
    page = client(reviewer).get(reverse("security:incident-detail", args=[incident.pk]))
    assert "隔离前置机" in page.text and "发现新的影响" in page.text
    assert IncidentEntry.objects.filter(incident=incident).count() == 1


def test_the_pages_move_the_incident_and_add_to_its_timeline(world):
    incident = world["city_incident"]
    c = client(world["admin"])
    move = reverse("security:incident-move", args=[incident.pk])
    assert c.post(move, {"transition": "respond"}).status_code == 302
    entry = reverse("security:incident-entry", args=[incident.pk])
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    refused = c.post(entry, {"kind": "action", "at": future, "text": "未来"})
    assert refused.status_code == 200 and "cannot be in the future" in refused.text
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert c.post(entry, {"kind": "action", "at": now, "text": "封禁来源地址"}).status_code == 302
    no_lessons = c.post(move, {"transition": "close"})
    assert no_lessons.status_code == 200 and "lessons learned" in no_lessons.text
    closed = c.post(move, {"transition": "close", "lessons_learned": "白名单"})
    assert closed.status_code == 302
    assert Incident.objects.get(pk=incident.pk).state == "closed"
    assert c.post(move, {"transition": "nope"}).status_code == 404


def test_affected_resources_are_checked_against_the_catalog(
    world, django_capture_on_commit_callbacks
):
    bureau = world["city"]
    resource = cf.make_published(world["city_agency"], bureau.reviewer).resource
    with pytest.raises(DomainError, match="No catalog resource"):
        services.incident_report(
            organization=world["city_agency"].org,
            fields=_fields(),
            resource_codes=["NOPE-1"],
            acting_user=world["admin"],
        )
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_report(
            organization=world["city_agency"].org,
            fields=_fields(level=Incident.Level.MAJOR, title="重大事件"),
            resource_codes=services.parse_resource_codes(f"{resource.code}, {resource.code}"),
            acting_user=world["admin"],
        )
    assert list(incident.resources.values_list("resource_code", flat=True)) == [resource.code]
    page = client(world["admin"]).get(reverse("security:incident-detail", args=[incident.pk]))
    assert reverse("catalog:resource", args=[resource.pk]) in page.text
    # Level II is told at once to the security admins and the city bureau.
    assert Notification.objects.filter(
        recipient=bureau.reviewer, title__contains="重大事件"
    ).exists()


def test_plans_and_drills_with_district_rights(world):
    reviewer = world["jiangan"].reviewer
    today = timezone.localdate()
    plan = services.plan_save(
        organization=world["jiangan"].org,
        fields={
            "title": "江岸区预案",
            "version": "1.0",
            "scope": "全区",
            "content": "步骤",
            "valid_from": today,
            "valid_until": today + dt.timedelta(days=365),
        },
        acting_user=reviewer,
    )
    with pytest.raises(DomainError, match="already has this version"):
        services.plan_save(
            organization=world["jiangan"].org,
            fields={
                "title": "江岸区预案",
                "version": "1.0",
                "scope": "全区",
                "content": "步骤",
                "valid_from": today,
                "valid_until": today,
            },
            acting_user=reviewer,
        )
    drill = services.drill_record(
        organization=world["jiangan_agency"].org,
        fields={
            "title": "江岸演练",
            "plan": plan,
            "held_on": today,
            "scenario": "勒索病毒",
            "participants": "区数据局、区民政局",
            "participant_count": 8,
            "findings": "备份恢复慢",
            "improvements": "",
        },
        acting_user=reviewer,
    )
    with pytest.raises(DomainError, match="after it was held"):
        services.drill_record(
            organization=world["jiangan_agency"].org,
            fields={
                "title": "未来演练",
                "plan": None,
                "held_on": today + dt.timedelta(days=3),
                "scenario": "x",
                "participants": "x",
                "participant_count": 1,
                "findings": "x",
            },
            acting_user=reviewer,
        )
    other = client(world["hongshan"].reviewer)
    assert other.get(reverse("security:plan-detail", args=[plan.pk])).status_code == 404
    assert other.get(reverse("security:drill-detail", args=[drill.pk])).status_code == 404
    assert "江岸演练" not in other.get(reverse("security:drill-list")).text
    own = client(reviewer)
    assert "江岸演练" in own.get(reverse("security:plan-detail", args=[plan.pk])).text
    assert own.get(reverse("security:plan-edit", args=[plan.pk])).status_code == 200
    assert (
        client(world["jiangan_agency"].staff)
        .get(reverse("security:plan-edit", args=[plan.pk]))
        .status_code
        == 404
    )
    city = client(world["city"].reviewer)
    assert "江岸区预案" in city.get(reverse("security:plan-list")).text
    assert "江岸演练" in city.get(reverse("security:drill-list"), {"year": today.year}).text


def test_plan_and_drill_forms_through_the_pages(world):
    c = client(world["admin"])
    today = timezone.localdate()
    response = c.post(
        reverse("security:plan-new"),
        {
            "title": "市级预案",
            "organization": world["city"].org.pk,
            "version": "1",
            "scope": "全市",
            "content": "内容",
            "valid_from": today.isoformat(),
            "valid_until": (today - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200 and "valid before it expires" in response.text
    response = c.post(
        reverse("security:plan-new"),
        {
            "title": "市级预案",
            "organization": world["city"].org.pk,
            "version": "1",
            "scope": "全市",
            "content": "内容",
            "valid_from": today.isoformat(),
            "valid_until": (today + dt.timedelta(days=9)).isoformat(),
        },
    )
    assert response.status_code == 302
    plan = EmergencyPlan.objects.get(title="市级预案")
    response = c.post(
        reverse("security:drill-new"),
        {
            "title": "市级演练",
            "organization": world["city"].org.pk,
            "plan": plan.pk,
            "held_on": today.isoformat(),
            "scenario": "场景",
            "participants": "人员",
            "participant_count": 5,
            "findings": "发现",
        },
    )
    assert response.status_code == 302
    assert Drill.objects.get(title="市级演练").plan == plan


def test_empty_lists_say_what_to_do(db):
    admin = client(security_admin())
    assert "Report an incident as soon" in admin.get(reverse("security:incident-list")).text
    assert "Add the plan your organization" in admin.get(reverse("security:plan-list")).text
    assert "Record each drill" in admin.get(reverse("security:drill-list")).text
    assert (
        "No incident matches."
        in admin.get(reverse("security:incident-list"), {"q": "nothing"}).text
    )


def test_searches_and_the_incident_form_survive_naughty_strings(world, naughty):
    c = client(world["admin"])
    lists = [
        reverse("security:incident-list"),
        reverse("security:plan-list"),
        reverse("security:drill-list"),
    ]
    stored = 0
    for i, text in enumerate(naughty):
        url = lists[i % len(lists)]
        assert c.get(url, {"q": text, "level": text}).status_code == 200, repr(text)
        if i % 5:
            continue
        response = c.post(
            reverse("security:incident-new"),
            {
                "title": f"事件{i}",
                "organization": world["city_agency"].org.pk,
                "level": "IV",
                "category": "other",
                "occurred_at": "2026-01-01T08:00",
                "discovered_at": "2026-01-01T09:00",
                "summary": text or "空",
                "resources": text if i % 2 else "",
            },
        )
        assert response.status_code in (200, 302), repr(text)
        if response.status_code == 302:
            stored += 1
            page = c.get(response.url)
            assert page.status_code == 200
        else:
            assert response.context["form"].errors, repr(text)
    assert stored > 0
    assert Incident.objects.filter(title__startswith="事件").count() == stored


def test_demo_data_is_seeded_once(db):
    import os

    for _ in range(2):
        call_command(
            "seed_demo",
            only=["security_incidents"],
            stdout=open(os.devnull, "w"),  # noqa: SIM115
        )
    from security.incidents.demo import CITY_INCIDENT, DISTRICT_INCIDENT, DRILL, PLAN

    assert Incident.objects.filter(title__in=[CITY_INCIDENT, DISTRICT_INCIDENT]).count() == 2
    assert EmergencyPlan.objects.filter(title=PLAN).count() == 1
    assert Drill.objects.filter(title=DRILL).count() == 1
    assert Incident.objects.get(title=CITY_INCIDENT).state == "closed"


def test_list_pages_keep_their_query_count(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client(world["admin"])
    urls = [
        reverse("security:incident-list"),
        reverse("security:plan-list"),
        reverse("security:drill-list"),
    ]

    def counts() -> list[int]:
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    today = timezone.localdate()

    def add(i: int) -> None:
        org = cf.make_agency().org
        _report(org, world["admin"], title=f"新增{i}")
        plan = services.plan_save(
            organization=org,
            fields={
                "title": f"预案{i}",
                "version": "1",
                "scope": "s",
                "content": "c",
                "valid_from": today,
                "valid_until": today,
            },
            acting_user=world["admin"],
        )
        services.drill_record(
            organization=org,
            fields={
                "title": f"演练{i}",
                "plan": plan,
                "held_on": today,
                "scenario": "s",
                "participants": "p",
                "participant_count": 2,
                "findings": "f",
            },
            acting_user=world["admin"],
        )

    add(0)
    counts()  # the first request warms per-process caches (menu, content types)
    before = counts()
    for i in range(1, 4):
        add(i)
    assert counts() == before


def test_generic_words_take_the_security_meaning_not_another_pages():
    # "Reported" and "Method" are translated elsewhere as a feedback time and a collection
    # method: the security pages give them a context of their own.
    from django.utils import translation

    from security.masking.forms import RuleFilterForm

    with translation.override("zh-hans"):
        assert str(Incident.State.REPORTED.label) == "已报告"
        assert str(RuleFilterForm().fields["method"].label) == "脱敏方法"
