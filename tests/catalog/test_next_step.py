"""Issue 12: who acts next on a catalog entry and by when (item 5), one banner after a
refused save (item 9), one count on the catalog list (item 11)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog import services
from catalog.models import ResourceVersion
from catalog.selectors import next_actor
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workdays import SHANGHAI

from . import factories as f
from .test_permissions import filing_post

pytestmark = pytest.mark.django_db
S = ResourceVersion.State
OPEN = {"open_type": "conditional", "open_conditions": "经审批后开放。", "open_legal_basis": ""}


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def move(version, action, user, comment=""):
    return services.resource_transition(
        version=version, action=action, acting_user=user, comment=comment
    )


def page(user, version) -> str:
    response = client(user).get(f"/catalog/versions/{version.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def status_area(html: str) -> str:
    found = re.search(r'<p class="next-step[^"]*"[^>]*>(.*?)</p>', html, re.S)
    assert found, "no next step in the status area"
    return found.group(1)


def timeline_next(html: str) -> str:
    found = re.search(r'<li class="timeline-next[^"]*">(.*?)</li>', html, re.S)
    assert found, "no next step at the end of the timeline"
    return found.group(1)


def test_after_agency_approval_a_district_entry_names_the_district_bureau_and_the_deadline(
    district_agency, district, city
):
    version = f.approve(f.make_draft(district_agency), district_agency)
    assert version.state == S.AGENCY_APPROVED
    deadline = version.step_deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    html = page(district_agency.admin, version)
    for part in (status_area(html), timeline_next(html)):
        assert district.org.name in part
        assert city.org.name not in part
        assert str(Role.DISTRICT_REVIEWER.label) in part
        assert deadline in part


def test_after_agency_approval_a_city_entry_names_the_city_bureau(agency, city, district):
    version = f.approve(f.make_draft(agency), agency)
    html = page(agency.staff, version)
    part = status_area(html)
    assert city.org.name in part and district.org.name not in part
    assert str(Role.CITY_REVIEWER.label) in part


def test_every_state_of_the_filing_workflow_names_who_acts_next(agency, city):
    version = f.make_draft(agency)
    expected = [
        (None, agency.org.name, Role.AGENCY_STAFF, False),
        ("submit", agency.org.name, Role.AGENCY_ADMIN, True),
        ("agency_approve", city.org.name, Role.CITY_REVIEWER, True),
        ("review", city.org.name, Role.CITY_REVIEWER, True),
    ]
    actors = {"submit": agency.staff, "agency_approve": agency.admin, "review": city.reviewer}
    for action, organization, role, has_deadline in expected:
        if action:
            version = move(version, action, actors[action])
        step = next_actor(version)
        assert step.organization == organization
        assert step.role == role.label
        assert (step.deadline is not None) == has_deadline
        assert step.deadline == version.step_deadline
        html = page(agency.staff, version)
        assert organization in status_area(html)
        if has_deadline:
            day = version.step_deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d")
            assert day in status_area(html) and day in timeline_next(html)

    returned = move(version, "review_return", city.reviewer, comment="请补充摘要。")
    step = next_actor(returned)
    assert (step.organization, step.role) == (agency.org.name, Role.AGENCY_STAFF.label)
    assert step.deadline == returned.step_deadline is not None

    published = move(
        move(move(returned, "submit", agency.staff), "agency_approve", agency.admin),
        "review",
        city.reviewer,
    )
    published = move(published, "publish", city.reviewer)
    assert next_actor(published) is None
    assert 'class="next-step' not in page(agency.staff, published)


def test_an_overdue_step_says_so(agency, city):
    version = f.approve(f.make_draft(agency), agency)
    from django.utils import timezone

    ResourceVersion.objects.filter(pk=version.pk).update(
        step_deadline=timezone.now() - timezone.timedelta(days=3)
    )
    version.refresh_from_db()
    step = next_actor(version)
    assert step.overdue
    assert "is-overdue" in page(city.reviewer, version)


# --- item 9: one banner after a refused save --------------------------------------------------


def test_a_refused_save_shows_one_error_banner(agency):
    data = filing_post(name="")
    response = client(agency.staff).post("/catalog/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("alert-error") == 1, "one red banner, not a message on top of the form's"
    assert 'aria-invalid="true"' in html  # the field portal.js brings into view


# --- item 11: one count on the catalog list ---------------------------------------------------


def test_the_catalog_list_states_the_number_of_results_once(agency, city):
    for name in ("户籍人口基本信息", "户籍迁移信息"):
        f.make_published(agency, city.reviewer, name=name, **OPEN)
    html = Client().get("/catalog/").content.decode()
    assert "results-count" in html
    assert "pagination-summary" not in html, "a single page needs no second count"
