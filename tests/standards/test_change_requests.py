"""Data element change requests (Art. 9): agencies propose to add, change or retire an
element; the city data bureau approves, returns or rejects. Approval publishes versions,
items keep theirs, providers are notified; every refusal changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count

from catalog import services as catalog_services
from catalog.models import DataElement, DataItem, ElementChangeRequest
from catalog.standards import services
from catalog.standards.queues import _to_fix, _to_review
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.models import Notification, WorkflowEvent
from wuhan_pdr.kernel.workdays import deadline_after, today

from . import factories as f
from .factories import _catalog_base_data, client  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db
R = ElementChangeRequest.State
E = DataElement.Status


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def other_agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def city(db) -> f.Bureau:
    return f.make_city_bureau()


@pytest.fixture
def element(city) -> DataElement:
    """Version 1 of 姓名, proposed by an agency of its own (the others' lists stay empty)."""
    return f.make_element(f.make_agency(), city.reviewer, name="姓名", format="c..50")


def events(obj) -> list[tuple[str, str, str, int | None]]:
    ct = ContentType.objects.get_for_model(obj)
    return list(
        WorkflowEvent.objects.filter(content_type=ct, object_id=str(obj.pk))
        .order_by("pk")
        .values_list("transition", "from_state", "to_state", "actor_id")
    )


def inbox(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def snapshot() -> dict:
    """Everything a refused action must leave as it was."""
    return {
        "elements": sorted(
            DataElement.objects.values_list("identifier", "version", "status", "format")
        ),
        "requests": sorted(
            ElementChangeRequest.objects.values_list("pk", "state", "reason", "impact", "proposal")
        ),
        "items": sorted(DataItem.objects.values_list("pk", "element_id")),
        "events": WorkflowEvent.objects.count(),
        "notifications": Notification.objects.count(),
        "history": DataElement.history.count() + ElementChangeRequest.history.count(),
    }


def refused(call, error=DomainError):
    """Run `call`, which must raise `error`, and check that it changed nothing."""
    before = snapshot()
    with pytest.raises(error) as info:
        call()
    assert snapshot() == before
    return info.value


# --- add ----------------------------------------------------------------------------------------


def test_add_goes_from_draft_to_version_1_with_a_generated_identifier(agency, city):
    request = f.propose(agency, "add", name="婚姻状况", format="c..10")
    assert request.state == R.DRAFT
    assert request.organization == agency.org and request.requested_by == agency.staff
    assert request.proposal["name"] == "婚姻状况" and request.proposal["identifier"] == ""

    request = f.move(request, "submit", agency.staff)
    assert request.state == R.SUBMITTED
    assert request.impact["items"] == [] and request.impact_job_id is None  # nothing to count
    assert request.step_deadline == deadline_after(10)
    assert [n.title for n in inbox(city.reviewer)] == [
        "Data element request to review: Add an element 婚姻状况"
    ]

    request = f.move(request, "approve", city.reviewer, comment="同意。")
    element = request.result
    assert request.state == R.APPROVED and request.step_deadline is None
    assert element.identifier == "DE00001" and element.version == 1
    assert (element.status, element.approved_at, element.submitted_by) == (
        E.STANDARD,
        today(),
        agency.org,
    )
    assert (element.name, element.format, element.data_type) == ("婚姻状况", "c..10", "C")
    assert events(request) == [
        ("submit", R.DRAFT, R.SUBMITTED, agency.staff.pk),
        ("approve", R.SUBMITTED, R.APPROVED, city.reviewer.pk),
    ]
    assert element.history.get().history_user == city.reviewer
    assert [h.history_user for h in request.history.order_by("history_date")] == [
        agency.staff,
        agency.staff,
        city.reviewer,
    ]
    assert (
        inbox(agency.staff)[-1].title
        == "Your data element request was approved: Add an element 婚姻状况"
    )


def test_add_takes_the_next_free_generated_identifier_or_a_free_proposed_one(agency, city):
    assert f.make_element(agency, city.reviewer, identifier="DE00041").identifier == "DE00041"
    assert f.make_element(agency, city.reviewer, identifier="WH.GA.001").identifier == "WH.GA.001"
    assert f.make_element(agency, city.reviewer).identifier == "DE00042"
    assert f.make_element(agency, city.reviewer).identifier == "DE00043"


def test_add_with_an_identifier_in_use_is_refused(agency, city, element):
    error = refused(lambda: f.propose(agency, "add", identifier=element.identifier))
    assert error.errors == {"identifier": f"The identifier {element.identifier} is already in use."}


def test_add_whose_identifier_was_taken_before_approval_is_refused(agency, other_agency, city):
    request = f.move(f.propose(agency, "add", identifier="DE90000"), "submit", agency.staff)
    f.make_element(other_agency, city.reviewer, identifier="DE90000")
    refused(lambda: f.move(request, "approve", city.reviewer))
    assert ElementChangeRequest.objects.get(pk=request.pk).state == R.SUBMITTED


# --- change -------------------------------------------------------------------------------------


def test_change_publishes_version_2_and_supersedes_version_1_while_items_keep_theirs(
    agency, other_agency, city, element
):
    v1_entry = f.make_published_using(element, other_agency, city.reviewer)
    request = f.propose(agency, "change", element=element, format="c..100", synonyms="名字")
    assert request.proposal["format"] == "c..100" and request.proposal["name"] == "姓名"

    request = f.submit_and_approve(request, agency, city.reviewer)
    v2 = request.result
    v1 = DataElement.objects.get(pk=element.pk)
    assert (v1.version, v1.status) == (1, E.SUPERSEDED)
    assert (v2.identifier, v2.version, v2.status) == (element.identifier, 2, E.STANDARD)
    assert (v2.format, v2.synonyms, v2.name) == ("c..100", "名字", "姓名")
    assert (v2.approved_at, v2.submitted_by) == (today(), agency.org)
    assert events(v1) == [("supersede", E.STANDARD, E.SUPERSEDED, city.reviewer.pk)]
    assert v1.history.latest().history_user == city.reviewer
    # The published item still follows version 1.
    assert v1_entry.items.get(name="姓名").element_id == v1.pk
    # So do drafts, revisions and copies of it.
    draft = catalog_services.resource_revise(
        resource=v1_entry.resource, acting_user=other_agency.staff
    )
    assert draft.items.get(name="姓名").element_id == v1.pk


def test_change_of_a_changed_element_is_refused_until_returned_and_updated(
    agency, other_agency, city, element
):
    first = f.move(
        f.propose(agency, "change", element=element, format="c..60"), "submit", agency.staff
    )
    second = f.move(
        f.propose(other_agency, "change", element=element, unit="个"), "submit", other_agency.staff
    )
    f.move(first, "approve", city.reviewer)
    error = refused(lambda: f.move(second, "approve", city.reviewer))
    assert "has changed since this request was made" in str(error)

    # Returned and saved again, it is moved onto version 2 and can be approved.
    f.move(second, "return", city.reviewer, comment="请基于第2版修改。")
    services.change_request_update(
        change_request=second,
        acting_user=other_agency.staff,
        reason="更新。",
        proposal={"unit": "个"},
    )
    second = f.move(second, "submit", other_agency.staff)
    assert second.element.version == 2
    v3 = f.move(second, "approve", city.reviewer).result
    assert (v3.version, v3.format, v3.unit) == (3, "c..60", "个")


def test_change_must_name_the_current_version_and_change_something(agency, city, element):
    f.change_element(element, agency, city.reviewer, format="c..60")
    refused(lambda: f.propose(agency, "change", element=element, format="c..70"))
    current = services.current_version(element.identifier)
    error = refused(lambda: f.propose(agency, "change", element=current))
    assert error.errors == {"name": "The proposal changes nothing in the current version."}
    refused(lambda: f.propose(agency, "change", element=None, format="c..70"))


# --- retire -------------------------------------------------------------------------------------


def test_retire_is_refused_while_items_use_the_element_without_a_replacement(
    agency, other_agency, city, element
):
    entry = f.make_published_using(element, other_agency, city.reviewer)
    request = f.move(f.propose(agency, "retire", element=element), "submit", agency.staff)
    assert [i["item_id"] for i in request.impact["items"]] == [entry.items.get(name="姓名").pk]
    error = refused(lambda: f.move(request, "approve", city.reviewer))
    assert "still used by 1 catalog item" in str(error)
    assert DataElement.objects.get(pk=element.pk).status == E.STANDARD


def test_retire_with_a_replacement_keeps_the_items_bound_and_names_the_replacement(
    agency, other_agency, city, element
):
    entry = f.make_published_using(element, other_agency, city.reviewer)
    replacement = f.make_element(agency, city.reviewer, name="姓名(新)")
    request = f.propose(agency, "retire", element=element, replacement=replacement)
    request = f.submit_and_approve(request, agency, city.reviewer)
    retired = DataElement.objects.get(pk=element.pk)
    assert retired.status == E.RETIRED and request.result == retired
    assert events(retired) == [("retire", E.STANDARD, E.RETIRED, city.reviewer.pk)]
    assert entry.items.get(name="姓名").element_id == retired.pk
    from catalog.standards.selectors import replacement_of

    assert replacement_of(retired) == replacement
    titles = [n.title for n in inbox(other_agency.staff)]
    assert f"Data element {element.identifier} 姓名 was retired" in titles


def test_retire_of_an_unused_element_needs_no_replacement(agency, city, element):
    f.submit_and_approve(f.propose(agency, "retire", element=element), agency, city.reviewer)
    assert DataElement.objects.get(pk=element.pk).status == E.RETIRED
    # A retired element can be neither changed nor retired again.
    refused(
        lambda: f.propose(
            agency, "change", element=DataElement.objects.get(pk=element.pk), unit="个"
        )
    )


def test_replacement_must_be_another_current_element(agency, city, element):
    other = f.make_element(agency, city.reviewer)
    refused(lambda: f.propose(agency, "retire", element=element, replacement=element))
    refused(lambda: f.propose(agency, "change", element=element, replacement=other, unit="个"))
    f.submit_and_approve(f.propose(agency, "retire", element=other), agency, city.reviewer)
    refused(
        lambda: f.propose(
            agency, "retire", element=element, replacement=DataElement.objects.get(pk=other.pk)
        )
    )


# --- impact and notifications -------------------------------------------------------------------


def test_impact_lists_exactly_the_items_bound_to_any_version(agency, other_agency, city, element):
    third = f.make_agency()
    unrelated = f.make_element(agency, city.reviewer)
    a = f.make_published_using(element, agency, city.reviewer, name="甲资源")
    v2 = f.change_element(element, agency, city.reviewer, format="c..80")
    b = f.make_published_using(v2, other_agency, city.reviewer, name="乙资源")
    draft = f.make_draft_using(v2, third, name="丙资源草稿")
    f.make_published_using(unrelated, third, city.reviewer, name="无关资源")
    # A revision of `a` published: the old version's items are history, not in use.
    revision = catalog_services.resource_revise(resource=a.resource, acting_user=agency.staff)
    revision = f.cf.publish(revision, agency, city.reviewer)

    request = f.move(f.propose(third, "change", element=v2, format="c..90"), "submit", third.staff)
    rows = request.impact["items"]
    expected = {
        revision.items.get(name="姓名").pk,
        b.items.get(name="姓名").pk,
        draft.items.get(name="姓名").pk,
    }
    assert {r["item_id"] for r in rows} == expected
    assert len(rows) == 3
    by_name = {r["resource_name"]: r for r in rows}
    assert by_name["甲资源"]["element_version"] == 1
    assert (
        by_name["甲资源"]["version_state"] == "published"
        and by_name["甲资源"]["version_number"] == 2
    )
    assert by_name["乙资源"]["provider"] == other_agency.org.name
    assert by_name["丙资源草稿"]["version_state"] == "draft"
    assert (request.impact["resource_count"], request.impact["provider_count"]) == (3, 3)
    assert request.impact_job_id is not None  # the stored data is counted by a job


def test_approval_notifies_every_provider_whose_items_use_the_element(
    agency, other_agency, city, element
):
    bystander = f.make_agency()
    f.make_published_using(element, agency, city.reviewer)
    f.make_published_using(element, other_agency, city.reviewer)
    Notification.objects.all().delete()

    request = f.move(
        f.propose(other_agency, "change", element=element, format="c..64"),
        "submit",
        other_agency.staff,
    )
    f.move(request, "approve", city.reviewer)
    title = f"Data element {element.identifier} 姓名 has a new version 2"
    for user in (agency.staff, agency.admin, other_agency.admin):
        assert [n.title for n in inbox(user)] == [title], user
    assert [n.url for n in inbox(agency.staff)] == [f"/standards/elements/{element.identifier}/"]
    # The requester hears about the approval (and about the new version, as a provider).
    assert {n.title for n in inbox(other_agency.staff)} == {
        title,
        f"Your data element request was approved: Change an element {element.identifier} 姓名",
    }
    assert inbox(bystander.staff) == inbox(bystander.admin) == []
    assert [n.title for n in inbox(city.reviewer)] == [
        f"Data element request to review: Change an element {element.identifier} 姓名"
    ]


def test_return_and_reject_notify_the_requester_with_the_comment(agency, city, element):
    request = f.move(
        f.propose(agency, "change", element=element, unit="个"), "submit", agency.staff
    )
    f.move(request, "return", city.reviewer, comment="请补充理由。")
    last = inbox(agency.staff)[-1]
    assert last.title.startswith("Your data element request was returned for changes")
    assert last.body == "请补充理由。" and last.url == f"/standards/requests/{request.pk}/"
    request = ElementChangeRequest.objects.get(pk=request.pk)
    assert request.state == R.RETURNED and request.step_deadline == deadline_after(10)

    f.move(request, "submit", agency.staff)
    f.move(request, "reject", city.reviewer, comment="不符合国家标准。")
    assert inbox(agency.staff)[-1].title.startswith("Your data element request was rejected")
    assert ElementChangeRequest.objects.get(pk=request.pk).state == R.REJECTED
    assert [e[0] for e in events(request)] == ["submit", "return", "submit", "reject"]


def test_review_deadline_follows_the_setting(agency, settings):
    settings.STANDARDS_REVIEW_DAYS = 3
    request = f.move(f.propose(agency, "add"), "submit", agency.staff)
    assert request.step_deadline == deadline_after(3)


# --- refusals -----------------------------------------------------------------------------------


def test_only_agency_staff_propose(city, agency):
    bureau_staff = UserFactory(organization=city.org, roles=[Role.AGENCY_STAFF])
    requester = UserFactory(roles=[Role.REQUESTER])
    auditor = UserFactory(organization=city.org, roles=[Role.AUDITOR])
    no_org = UserFactory(organization=None, roles=[Role.AGENCY_STAFF])
    for user in (city.reviewer, bureau_staff, requester, auditor, no_org):
        refused(lambda user=user: f.propose(agency, "add", by=user), AccessDenied)
    assert f.propose(agency, "add", by=agency.admin).state == R.DRAFT


def test_wrong_role_or_state_changes_nothing(agency, other_agency, city, element):
    district = f.cf.make_district_bureau()
    fake_city = UserFactory(
        organization=OrganizationFactory(kind=Organization.Kind.CITY_AGENCY),
        roles=[Role.CITY_REVIEWER],
    )
    draft = f.propose(agency, "change", element=element, unit="个")
    # Drafts: only the agency submits; nobody decides.
    for user in (other_agency.staff, city.reviewer):
        refused(lambda user=user: f.move(draft, "submit", user), TransitionNotAllowed)
    for action in ("approve", "return", "reject"):
        refused(
            lambda action=action: f.move(draft, action, city.reviewer, comment="x"),
            TransitionNotAllowed,
        )
    f.move(draft, "submit", agency.staff)
    # Submitted: only the city bureau's reviewer decides.
    for user in (agency.staff, agency.admin, other_agency.admin, district.reviewer, fake_city):
        refused(lambda user=user: f.move(draft, "approve", user), TransitionNotAllowed)
    refused(lambda: f.move(draft, "submit", agency.staff), TransitionNotAllowed)
    refused(lambda: f.move(draft, "launch", city.reviewer), TransitionNotAllowed)
    f.move(draft, "approve", city.reviewer)
    # Decided: nothing more.
    for action in ("approve", "return", "reject"):
        refused(
            lambda action=action: f.move(draft, action, city.reviewer, comment="x"),
            TransitionNotAllowed,
        )
    refused(lambda: f.move(draft, "submit", agency.staff), TransitionNotAllowed)


def test_return_and_reject_need_a_comment(agency, city):
    request = f.move(f.propose(agency, "add"), "submit", agency.staff)
    for action in ("return", "reject"):
        for comment in ("", "   \n"):
            error = refused(
                lambda action=action, comment=comment: f.move(
                    request, action, city.reviewer, comment
                )
            )
            assert error.field == "comment"


def test_other_agencies_cannot_edit_a_draft(agency, other_agency, element):
    draft = f.propose(agency, "change", element=element, unit="个")
    refused(
        lambda: services.change_request_update(
            change_request=draft,
            acting_user=other_agency.staff,
            reason="改。",
            proposal={"unit": "米"},
        ),
        AccessDenied,
    )


def test_submitted_or_decided_requests_cannot_be_edited(agency, city, element):
    request = f.move(
        f.propose(agency, "change", element=element, unit="个"), "submit", agency.staff
    )

    def edit():
        services.change_request_update(
            change_request=request, acting_user=agency.staff, reason="改。", proposal={"unit": "米"}
        )

    refused(edit)
    f.move(request, "reject", city.reviewer, comment="否。")
    refused(edit)


def test_drafts_and_returned_requests_are_editable(agency, city, element):
    request = f.propose(agency, "change", element=element, unit="个")
    request = services.change_request_update(
        change_request=request, acting_user=agency.admin, reason="新理由。", proposal={"unit": "米"}
    )
    assert (request.reason, request.proposal["unit"], request.proposal["name"]) == (
        "新理由。",
        "米",
        "姓名",
    )
    assert request.history.latest().history_user == agency.admin


@pytest.mark.parametrize(
    ("content", "errors"),
    [
        ({"name": "", "definition": " "}, {"name", "definition"}),
        ({"format": "x..50"}, {"format"}),
        ({"format": "c..0"}, {"format"}),
        ({"format": ""}, {"format"}),
        ({"data_type": "Z"}, {"data_type"}),
        ({"domain_kind": "code_list", "code_list": "NO-SUCH-LIST"}, {"code_list"}),
        ({"domain_kind": "code_list", "code_list": ""}, {"code_list"}),
        ({"domain_kind": "pattern", "pattern": "([0-9]"}, {"pattern"}),
        ({"domain_kind": "pattern", "pattern": ""}, {"pattern"}),
        ({"domain_kind": "nonsense"}, {"domain_kind"}),
        ({"checksum": "luhn"}, {"checksum"}),
        ({"name": "名" * 101}, {"name"}),
        ({"identifier": "含 空格"}, {"identifier"}),
        ({"name": "空\x00字符"}, {"name"}),
    ],
)
def test_invalid_proposals_are_refused_and_change_nothing(agency, element, content, errors):
    error = refused(lambda: f.propose(agency, "add", **content))
    assert set(error.errors) == errors
    if "identifier" not in content:
        change = {k: v for k, v in content.items()}
        error = refused(lambda: f.propose(agency, "change", element=element, **change))
        assert set(error.errors) == errors


def test_a_valid_code_list_and_pattern_are_accepted(agency, city):
    code_list = f.make_code_list()
    sex = f.make_element(
        agency, city.reviewer, domain_kind="code_list", code_list=code_list.identifier, format="n1"
    )
    assert sex.code_list == code_list and sex.pattern == ""
    phone = f.make_element(
        agency, city.reviewer, domain_kind="pattern", pattern=r"1[3-9][0-9]{9}", format="n11"
    )
    assert phone.pattern == r"1[3-9][0-9]{9}" and phone.code_list is None


def test_reason_is_required(agency):
    for reason in ("", "  ", "a" * 4001, "含\x00"):
        refused(lambda reason=reason: f.propose(agency, "add", reason=reason))


# --- queues -------------------------------------------------------------------------------------


def test_work_queues_show_drafts_to_filers_and_submissions_to_reviewers(
    agency, other_agency, city, element
):
    draft = f.propose(agency, "change", element=element, unit="个")
    assert [w.url for w in _to_fix(agency.staff)] == [f"/standards/requests/{draft.pk}/"]
    assert _to_fix(other_agency.staff) == [] and _to_review(city.reviewer) == []
    f.move(draft, "submit", agency.staff)
    assert _to_fix(agency.staff) == []
    [work] = _to_review(city.reviewer)
    assert work.url == f"/standards/requests/{draft.pk}/" and work.deadline is not None
    assert _to_review(agency.staff) == []
    f.move(draft, "return", city.reviewer, comment="请修改。")
    assert [w.url for w in _to_fix(agency.admin)] == [f"/standards/requests/{draft.pk}/"]


# --- pages: forms, access, naughty strings ------------------------------------------------------


def test_other_agencies_drafts_are_404_everywhere(agency, other_agency, city, element):
    draft = f.propose(agency, "change", element=element, unit="个")
    urls = [f"/standards/requests/{draft.pk}/", f"/standards/requests/{draft.pk}/edit/"]
    for user in (other_agency.staff, other_agency.admin, city.reviewer):
        c = client(user)
        for url in urls:
            assert c.get(url).status_code == 404, (user, url)
        assert (
            c.post(f"/standards/requests/{draft.pk}/action/", {"action": "submit"}).status_code
            == 404
        )
        assert c.post(urls[1], {"reason": "改。", "name": "x"}).status_code == 404
    assert client(agency.staff).get(urls[0]).status_code == 200
    assert client(agency.staff).get(urls[1]).status_code == 200
    auditor = UserFactory(organization=city.org, roles=[Role.AUDITOR])
    assert client(auditor).get(urls[0]).status_code == 200
    assert client(auditor).get(urls[1]).status_code == 404
    assert ElementChangeRequest.objects.get(pk=draft.pk).state == R.DRAFT


def test_request_list_is_filtered_by_role(agency, other_agency, city, element):
    own = f.propose(agency, "change", element=element, unit="个")
    others = f.move(
        f.propose(other_agency, "add", name="其他局的提议"), "submit", other_agency.staff
    )
    other_draft = f.propose(other_agency, "add", name="其他局的草稿")

    def listed(user, **params) -> set[int]:
        response = client(user).get("/standards/requests/", params)
        assert response.status_code == 200
        return {r.pk for r in response.context["page_obj"].object_list}

    assert listed(agency.staff) == {own.pk}
    assert listed(other_agency.admin) == {others.pk, other_draft.pk}
    founding = ElementChangeRequest.objects.get(result=element)
    assert listed(city.reviewer) == {others.pk}  # what waits for a decision
    assert listed(city.reviewer, state="") == {others.pk, founding.pk}  # never drafts
    auditor = UserFactory(organization=city.org, roles=[Role.AUDITOR])
    assert listed(auditor) == {own.pk, others.pk, other_draft.pk, founding.pk}
    requester = UserFactory(roles=[Role.REQUESTER])
    assert client(requester).get("/standards/requests/").status_code == 404
    assert client().get("/standards/requests/").status_code == 302


def test_change_form_shows_the_current_version_beside_the_proposal(agency, element):
    page = client(agency.staff).get(
        f"/standards/requests/new/?kind=change&element={element.identifier}"
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="card compare-current"' in html and 'class="card compare-proposal"' in html
    assert page.context["form"]["format"].value() == "c..50"
    assert page.context["element"] == element


def test_proposing_a_change_through_the_form_and_submitting(agency, city, element):
    c = client(agency.staff)
    form = c.get(f"/standards/requests/new/?kind=change&element={element.identifier}").context[
        "form"
    ]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {"kind": "change", "element": element.identifier, "format": "c..80", "reason": "长度不够。"}
    )
    response = c.post("/standards/requests/new/", {**data, "submit_after_save": "1"})
    request = ElementChangeRequest.objects.get(kind="change")
    assert (
        response.status_code == 302 and response["Location"] == f"/standards/requests/{request.pk}/"
    )
    assert (request.state, request.proposal["format"], request.element) == (
        R.SUBMITTED,
        "c..80",
        element,
    )
    # The reviewer sees the proposal, the impact and the actions.
    page = client(city.reviewer).get(f"/standards/requests/{request.pk}/")
    assert [t.name for t in page.context["actions"]] == ["approve", "return", "reject"]
    assert 'value="approve"' in page.content.decode()
    response = client(city.reviewer).post(
        f"/standards/requests/{request.pk}/action/", {"action": "approve"}
    )
    assert response["Location"] == f"/standards/elements/{element.identifier}/"
    assert services.current_version(element.identifier).format == "c..80"


def test_form_shows_service_refusals_next_to_the_fields(agency, element):
    c = client(agency.staff)
    before = snapshot()
    data = {
        "kind": "add",
        "name": "测试",
        "definition": "定义",
        "data_type": "C",
        "format": "q9",
        "domain_kind": "pattern",
        "pattern": "([",
        "reason": "需要。",
    }
    response = c.post("/standards/requests/new/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"format", "pattern"}
    assert snapshot() == before


def test_a_returned_request_is_fixed_in_the_form_and_resubmitted(agency, city, element):
    request = f.move(
        f.propose(agency, "change", element=element, unit="个"), "submit", agency.staff
    )
    f.move(request, "return", city.reviewer, comment="单位应为“人”。")
    c = client(agency.staff)
    page = c.get(f"/standards/requests/{request.pk}/")
    assert "单位应为“人”。" in page.content.decode()
    form = c.get(f"/standards/requests/{request.pk}/edit/").context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"unit": "人", "submit_after_save": "1"})
    response = c.post(f"/standards/requests/{request.pk}/edit/", data)
    assert response.status_code == 302
    request = ElementChangeRequest.objects.get(pk=request.pk)
    assert (request.state, request.proposal["unit"]) == (R.SUBMITTED, "人")


def test_retire_form_asks_for_a_replacement_while_in_use(agency, other_agency, city, element):
    f.make_published_using(element, other_agency, city.reviewer)
    page = client(agency.staff).get(
        f"/standards/requests/new/?kind=retire&element={element.identifier}"
    )
    assert page.context["in_use"] == 1
    assert set(page.context["form"].fields) == {"replacement", "reason"}


def test_naughty_reasons_never_give_a_server_error(agency):
    c = client(agency.staff)
    c.raise_request_exception = False
    strings = [*naughty_strings(), "空字符\x00在中间"]
    refused_strings = []
    for s in strings:
        response = c.post(
            "/standards/requests/new/?kind=add",
            {
                "kind": "add",
                "name": "测试",
                "definition": "定义",
                "data_type": "C",
                "format": "c..10",
                "domain_kind": "none",
                "reason": s,
            },
        )
        assert response.status_code in (200, 302), (repr(s), getattr(response, "exc_info", None))
        if response.status_code == 200:
            assert response.context["form"].errors.get("reason"), repr(s)
            refused_strings.append(s)
    assert all("\x00" in s or not s.strip() for s in refused_strings), [
        repr(s) for s in refused_strings
    ]
    stored = ElementChangeRequest.objects.aggregate(n=Count("pk"))["n"]
    assert stored == len(strings) - len(refused_strings)
    for request in ElementChangeRequest.objects.filter(reason__icontains="<script")[:5]:
        page = c.get(f"/standards/requests/{request.pk}/").content.decode()
        assert request.reason not in page
