"""IT projects funded by the budget (Art. 11): the data list as a condition of approval, and
of acceptance with every missing thing listed, including registered acceptance checks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.filing import services
from catalog.filing.models import ITProject, ProjectDataEntry
from tests.catalog import factories as f
from tests.messages import message
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.workflow import events_for

from .conftest import make_project

pytestmark = pytest.mark.django_db
P = ITProject.State


def _approved(project, agency, city, **entry):
    services.project_entry_add(project=project, acting_user=agency.staff, **entry)
    services.project_transition(project=project, action="submit", acting_user=agency.staff)
    return services.project_transition(project=project, action="approve", acting_user=city.reviewer)


def test_submission_is_refused_while_the_list_is_empty(project, agency):
    with pytest.raises(DomainError) as exc:
        services.project_transition(project=project, action="submit", acting_user=agency.staff)
    assert exc.value.code == "empty_list"
    project.refresh_from_db()
    assert project.state == P.DRAFT


def test_approval_is_refused_while_the_list_is_empty(project, agency, city):
    services.project_entry_add(project=project, planned_name="新资源", acting_user=agency.staff)
    services.project_transition(project=project, action="submit", acting_user=agency.staff)
    # The list emptied behind the workflow's back (e.g. by an administrator).
    ProjectDataEntry.objects.filter(project=project).delete()
    with pytest.raises(DomainError) as exc:
        services.project_transition(project=project, action="approve", acting_user=city.reviewer)
    assert exc.value.code == "empty_list"


def test_approval_once_an_entry_is_listed(project, agency, city):
    project = _approved(project, agency, city, planned_name="养老服务补贴申领信息")
    assert project.state == P.APPROVED and project.approved_at
    assert [e.transition for e in events_for(project)] == ["submit", "approve"]
    assert project.history.latest().history_user == city.reviewer


def test_acceptance_lists_exactly_what_is_missing(project, agency, city):
    draft = f.make_draft(agency, name="未发布资源")
    published = f.make_published(agency, city.reviewer, name="已发布资源")
    retired = f.make_published(agency, city.reviewer, name="已退役资源")
    f.services.resource_transition(
        version=retired, action="retire", acting_user=city.reviewer, comment="停用"
    )
    project = _approved(project, agency, city, planned_name="规划中的资源")
    for resource in (draft.resource, published.resource, retired.resource):
        services.project_entry_add(project=project, resource=resource, acting_user=agency.staff)
    with pytest.raises(services.AcceptanceRefused) as exc:
        services.project_transition(
            project=project, action="submit_acceptance", acting_user=agency.staff
        )
    missing = {m.entry: m.reason for m in exc.value.missing}
    assert missing == {
        "规划中的资源": message("not yet catalogued: link it to a catalog resource"),
        f"{draft.resource.code} 未发布资源": message("not published in the catalog yet"),
        f"{retired.resource.code} 已退役资源": message("retired from the catalog"),
    }


def test_accepted_when_every_entry_is_published(project, agency, city):
    published = f.make_published(agency, city.reviewer)
    project = _approved(project, agency, city, resource=published.resource)
    services.project_transition(
        project=project, action="submit_acceptance", acting_user=agency.staff
    )
    project = services.project_transition(
        project=project, action="accept", acting_user=city.reviewer
    )
    assert project.state == P.ACCEPTED and project.accepted_at


def test_planned_entry_linked_after_approval_then_accepted(project, agency, city):
    project = _approved(project, agency, city, planned_name="养老服务补贴申领信息")
    entry = project.entries.get()
    published = f.make_published(agency, city.reviewer, name="养老服务补贴申领信息")
    services.project_entry_link(entry=entry, resource=published.resource, acting_user=agency.staff)
    services.project_transition(
        project=project, action="submit_acceptance", acting_user=agency.staff
    )
    project = services.project_transition(
        project=project, action="accept", acting_user=city.reviewer
    )
    assert project.state == P.ACCEPTED


def test_registered_acceptance_check_adds_its_messages(project, agency, city):
    published = f.make_published(agency, city.reviewer)
    project = _approved(project, agency, city, resource=published.resource)

    def no_channel(resource):
        return ["no working channel"] if resource.pk == published.resource.pk else []

    services.register_acceptance_check(no_channel)
    try:
        with pytest.raises(services.AcceptanceRefused) as exc:
            services.project_transition(
                project=project, action="submit_acceptance", acting_user=agency.staff
            )
        assert [m.reason for m in exc.value.missing] == ["no working channel"]
        assert exc.value.missing[0].entry.startswith(published.resource.code)
    finally:
        services.unregister_acceptance_check(no_channel)
    project = services.project_transition(
        project=project, action="submit_acceptance", acting_user=agency.staff
    )
    assert project.state == P.ACCEPTANCE_SUBMITTED


def test_acceptance_rechecks_at_the_bureau(project, agency, city):
    published = f.make_published(agency, city.reviewer)
    project = _approved(project, agency, city, resource=published.resource)
    services.project_transition(
        project=project, action="submit_acceptance", acting_user=agency.staff
    )
    f.services.resource_transition(
        version=published, action="retire", acting_user=city.reviewer, comment="停用"
    )
    with pytest.raises(services.AcceptanceRefused):
        services.project_transition(project=project, action="accept", acting_user=city.reviewer)
    project = services.project_transition(
        project=project, action="return_acceptance", acting_user=city.reviewer, comment="补充"
    )
    assert project.state == P.APPROVED


def test_return_and_reject_need_a_comment(project, agency, city):
    services.project_entry_add(project=project, planned_name="x", acting_user=agency.staff)
    services.project_transition(project=project, action="submit", acting_user=agency.staff)
    with pytest.raises(DomainError):
        services.project_transition(project=project, action="return", acting_user=city.reviewer)
    project = services.project_transition(
        project=project, action="return", acting_user=city.reviewer, comment="补充说明"
    )
    assert project.state == P.RETURNED
    services.project_transition(project=project, action="submit", acting_user=agency.staff)
    project = services.project_transition(
        project=project, action="reject", acting_user=city.reviewer, comment="不予立项"
    )
    assert project.state == P.REJECTED


def test_agency_cannot_approve_and_other_agency_cannot_list(project, agency, other_agency, city):
    services.project_entry_add(project=project, planned_name="x", acting_user=agency.staff)
    services.project_transition(project=project, action="submit", acting_user=agency.staff)
    with pytest.raises(TransitionNotAllowed):
        services.project_transition(project=project, action="approve", acting_user=agency.admin)
    with pytest.raises(AccessDenied):
        services.project_entry_add(
            project=project, planned_name="y", acting_user=other_agency.staff
        )


def test_district_agency_project_is_decided_by_its_district(district_agency, district, city):
    project = make_project(district_agency)
    services.project_entry_add(project=project, planned_name="x", acting_user=district_agency.staff)
    services.project_transition(project=project, action="submit", acting_user=district_agency.staff)
    with pytest.raises(TransitionNotAllowed):
        services.project_transition(project=project, action="approve", acting_user=city.reviewer)
    project = services.project_transition(
        project=project, action="approve", acting_user=district.reviewer
    )
    assert project.state == P.APPROVED


def test_list_rules(project, agency, other_agency, city):
    theirs = f.make_draft(other_agency)
    with pytest.raises(DomainError) as exc:
        services.project_entry_add(
            project=project, resource=theirs.resource, acting_user=agency.staff
        )
    assert exc.value.field == "resource"
    with pytest.raises(DomainError):
        services.project_entry_add(project=project, acting_user=agency.staff)
    mine = f.make_draft(agency)
    services.project_entry_add(project=project, resource=mine.resource, acting_user=agency.staff)
    with pytest.raises(DomainError):
        services.project_entry_add(
            project=project, resource=mine.resource, acting_user=agency.staff
        )
    project = _approved(project, agency, city, planned_name="新增")
    entry = project.entries.first()
    with pytest.raises(DomainError):
        services.project_entry_remove(entry=entry, acting_user=agency.staff)


def test_budget_must_be_positive(agency):
    with pytest.raises(DomainError) as exc:
        services.project_create(
            organization=agency.org,
            fields={"name": "x", "budget_amount": 0, "year": 2026, "description": ""},
            acting_user=agency.staff,
        )
    assert exc.value.field == "budget_amount"


# --- pages ---------------------------------------------------------------------------------


def test_project_pages_journey(agency, city, login):
    c = login(agency.staff)
    r = c.post(
        reverse("filing:project_create"),
        {"name": "智慧养老", "budget_amount": "1200000", "year": "2026", "description": ""},
    )
    project = ITProject.objects.get()
    url = reverse("filing:project", kwargs={"pk": project.pk})
    assert r.status_code == 302 and r.url == url
    action = reverse("filing:project_action", kwargs={"pk": project.pk})
    c.post(action, {"action": "submit"})
    project.refresh_from_db()
    assert project.state == P.DRAFT
    r = c.post(
        reverse("filing:project_entry_add", kwargs={"pk": project.pk}),
        {"planned_name": "养老服务补贴申领信息", "note": ""},
    )
    assert r.status_code == 302
    c.post(action, {"action": "submit"})
    login(city.reviewer).post(action, {"action": "approve"})
    project.refresh_from_db()
    assert project.state == P.APPROVED
    r = c.post(action, {"action": "submit_acceptance"})
    assert r.status_code == 422
    body = r.content.decode()
    assert "养老服务补贴申领信息" in body and 'id="missing"' in body


def test_project_form_names_the_wrong_field(agency, login):
    r = login(agency.staff).post(
        reverse("filing:project_create"),
        {"name": "x", "budget_amount": "abc", "year": "1900", "description": ""},
    )
    assert r.status_code == 200
    assert r.context["form"].errors.keys() >= {"budget_amount", "year"}


def test_entry_form_without_resource_or_name_is_an_error(project, agency, login):
    r = login(agency.staff).post(
        reverse("filing:project_entry_add", kwargs={"pk": project.pk}),
        {"resource": "", "planned_name": ""},
    )
    assert r.status_code == 422 and "resource" in r.context["entry_form"].errors


def test_other_agency_gets_404_on_project_pages(project, other_agency, login):
    c = login(other_agency.staff)
    assert c.get(reverse("filing:project", kwargs={"pk": project.pk})).status_code == 404
    assert c.get(reverse("filing:project_edit", kwargs={"pk": project.pk})).status_code == 404
    r = c.post(
        reverse("filing:project_entry_add", kwargs={"pk": project.pk}), {"planned_name": "x"}
    )
    assert r.status_code == 404
    assert not project.entries.exists()


def test_bureau_reads_the_project_but_cannot_edit(project, city, login):
    c = login(city.reviewer)
    assert c.get(reverse("filing:project", kwargs={"pk": project.pk})).status_code == 200
    assert c.get(reverse("filing:project_edit", kwargs={"pk": project.pk})).status_code == 404


def test_project_list_bounded_queries(agency, other_agency, login, django_assert_max_num_queries):
    for i in range(4):
        make_project(agency, name=f"项目{i}")
    make_project(other_agency, name="别人的项目")
    c = login(agency.staff)
    with django_assert_max_num_queries(15):
        r = c.get(reverse("filing:projects"))
    body = r.content.decode()
    assert "项目3" in body and "别人的项目" not in body


def test_resources_already_listed_are_not_offered_again(project, agency, city, login):
    listed = f.make_published(agency, city.reviewer).resource
    free = f.make_draft(agency).resource
    services.project_entry_add(project=project, resource=listed, acting_user=agency.staff)
    services.project_entry_add(
        project=project, planned_name="养老补贴信息", acting_user=agency.staff
    )
    c = login(agency.staff)
    r = c.get(reverse("filing:project", kwargs={"pk": project.pk}))
    assert [x.pk for x in r.context["link_resources"]] == [free.pk]
    offered = list(r.context["entry_form"].fields["resource"].queryset)
    assert offered == [free]
    body = r.content.decode()
    planned = project.entries.get(resource__isnull=True)
    link_select = body.split(f'id="link-{planned.pk}"')[1].split("</select>")[0]
    assert f'value="{listed.pk}"' not in link_select and f'value="{free.pk}"' in link_select
    # Posting a listed resource anyway is refused on the field, not with a 500.
    r = c.post(
        reverse("filing:project_entry_add", kwargs={"pk": project.pk}), {"resource": listed.pk}
    )
    assert r.status_code == 422 and "resource" in r.context["entry_form"].errors
    assert project.entries.filter(resource=listed).count() == 1


def test_comment_help_speaks_to_whoever_acts(project, agency, city, login):
    agency_help = message("Optional: a note for the reviewing bureau, kept in the workflow.")
    reviewer_help = message("Required when you return or reject the project; the agency sees it.")
    services.project_entry_add(
        project=project, planned_name="养老补贴信息", acting_user=agency.staff
    )
    url = reverse("filing:project", kwargs={"pk": project.pk})
    body = login(agency.staff).get(url).content.decode()
    assert agency_help in body and reviewer_help not in body
    services.project_transition(project=project, action="submit", acting_user=agency.staff)
    body = login(city.reviewer).get(url).content.decode()
    assert reviewer_help in body and agency_help not in body


def test_refused_action_keeps_the_typed_comment(project, agency, city, login):
    services.project_entry_add(
        project=project, planned_name="养老补贴信息", acting_user=agency.staff
    )
    action = reverse("filing:project_action", kwargs={"pk": project.pk})
    c = login(agency.staff)
    # The list has an uncatalogued entry: acceptance is refused, the comment stays.
    services.project_transition(project=project, action="submit", acting_user=agency.staff)
    services.project_transition(project=project, action="approve", acting_user=city.reviewer)
    r = c.post(action, {"action": "submit_acceptance", "comment": "请尽快验收"})
    assert r.status_code == 422 and "请尽快验收</textarea>" in r.content.decode()
    # A move the workflow does not allow: refused on the page, the comment kept.
    r = c.post(action, {"action": "accept", "comment": "验收意见草稿"})
    assert r.status_code == 422 and "验收意见草稿</textarea>" in r.content.decode()
    project.refresh_from_db()
    assert project.state == P.APPROVED
