"""The filing workflow (Art. 12-13): draft -> submitted -> agency approved -> reviewed ->
published, its refusals, events, notifications and deadlines, revisions and retirement."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from catalog import services
from catalog.models import CatalogEntry, Resource, ResourceVersion
from catalog.selectors import CatalogQuery, catalog_search, resource_public
from tests.accounts.factories import UserFactory
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.models import Notification, WorkflowEvent
from wuhan_pdr.kernel.workdays import deadline_after

from . import factories as f

pytestmark = pytest.mark.django_db
S = ResourceVersion.State


def events(version) -> list[WorkflowEvent]:
    ct = ContentType.objects.get_for_model(ResourceVersion)
    return list(
        WorkflowEvent.objects.filter(content_type=ct, object_id=str(version.pk)).order_by("pk")
    )


def move(version, action, user, comment=""):
    return services.resource_transition(
        version=version, action=action, acting_user=user, comment=comment
    )


def inbox(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def officer():
    """A viewer of the whole published catalog (who sees what: test_open_catalog.py)."""
    return UserFactory(roles=[Role.AUDITOR])


def search_names(q: str) -> list[str]:
    result = catalog_search(CatalogQuery(q=q), viewer=officer(), with_facets=False)
    return [e.name for e in result.entries]


# --- the happy path -----------------------------------------------------------------------


def test_city_agency_entry_goes_from_draft_to_published_through_city_reviewer(agency, city, draft):
    assert draft.state == S.DRAFT
    steps = [
        ("submit", agency.staff, S.SUBMITTED),
        ("agency_approve", agency.admin, S.AGENCY_APPROVED),
        ("review", city.reviewer, S.REVIEWED),
        ("publish", city.reviewer, S.PUBLISHED),
    ]
    version = draft
    for action, user, state in steps:
        version = move(version, action, user)
        assert version.state == state
        version.refresh_from_db()
        assert version.state == state
    assert version.submitted_at is not None
    assert version.published_at is not None
    assert [(e.transition, e.from_state, e.to_state, e.actor_id) for e in events(version)] == [
        ("submit", S.DRAFT, S.SUBMITTED, agency.staff.pk),
        ("agency_approve", S.SUBMITTED, S.AGENCY_APPROVED, agency.admin.pk),
        ("review", S.AGENCY_APPROVED, S.REVIEWED, city.reviewer.pk),
        ("publish", S.REVIEWED, S.PUBLISHED, city.reviewer.pk),
    ]


def test_district_agency_entry_is_reviewed_and_published_by_its_district(district_agency, district):
    version = f.make_published(district_agency, district.reviewer)
    assert version.state == S.PUBLISHED
    assert [e.actor_id for e in events(version)][-2:] == [
        district.reviewer.pk,
        district.reviewer.pk,
    ]
    assert CatalogEntry.objects.get(resource=version.resource).division_code == f.JIANGAN


def test_each_move_records_its_comment(agency, city, draft):
    move(draft, "submit", agency.staff, comment="  请审核  ")
    move(draft, "agency_return", agency.admin, comment="摘要不完整")
    move(draft, "submit", agency.staff)
    move(draft, "agency_approve", agency.admin, comment="同意")
    move(draft, "review_return", city.reviewer, comment="共享条件不清楚")
    assert [(e.transition, e.from_state, e.to_state, e.comment) for e in events(draft)] == [
        ("submit", S.DRAFT, S.SUBMITTED, "请审核"),
        ("agency_return", S.SUBMITTED, S.RETURNED, "摘要不完整"),
        ("submit", S.RETURNED, S.SUBMITTED, ""),
        ("agency_approve", S.SUBMITTED, S.AGENCY_APPROVED, "同意"),
        ("review_return", S.AGENCY_APPROVED, S.RETURNED, "共享条件不清楚"),
    ]


def test_returned_entry_can_be_corrected_and_submitted_again(agency, draft):
    move(draft, "submit", agency.staff)
    move(draft, "agency_return", agency.admin, comment="请补充摘要")
    services.resource_draft_update(
        version=draft,
        acting_user=agency.staff,
        fields={"summary": "补充后的摘要"},
        items=f.valid_items(),
    )
    version = move(draft, "submit", agency.staff)
    assert version.state == S.SUBMITTED
    assert version.summary == "补充后的摘要"


def test_filer_may_withdraw_a_submission(agency, draft):
    move(draft, "submit", agency.staff)
    version = move(draft, "withdraw", agency.staff)
    assert version.state == S.DRAFT
    assert version.step_deadline is None


# --- refusals -----------------------------------------------------------------------------


def _at(state, agency, reviewer=None, **fields):
    version = f.make_draft(agency, **fields)
    if state in (S.SUBMITTED, S.AGENCY_APPROVED, S.REVIEWED):
        move(version, "submit", agency.staff)
    if state in (S.AGENCY_APPROVED, S.REVIEWED):
        move(version, "agency_approve", agency.admin)
    if state == S.REVIEWED:
        move(version, "review", reviewer)
    version.refresh_from_db()
    assert version.state == state
    return version


REFUSALS = {
    "staff_approving": lambda w: (
        _at(S.SUBMITTED, w["agency"]),
        "agency_approve",
        w["agency"].staff,
    ),
    "agency_admin_reviewing": lambda w: (
        _at(S.AGENCY_APPROVED, w["agency"]),
        "review",
        w["agency"].admin,
    ),
    "agency_admin_publishing": lambda w: (
        _at(S.REVIEWED, w["agency"], w["city"].reviewer),
        "publish",
        w["agency"].admin,
    ),
    "city_reviewer_reviewing_district_entry": lambda w: (
        _at(S.AGENCY_APPROVED, w["district_agency"]),
        "review",
        w["city"].reviewer,
    ),
    "reviewer_of_another_district": lambda w: (
        _at(S.AGENCY_APPROVED, w["district_agency"]),
        "review",
        w["other_district"].reviewer,
    ),
    "district_reviewer_reviewing_city_entry": lambda w: (
        _at(S.AGENCY_APPROVED, w["agency"]),
        "review",
        w["district"].reviewer,
    ),
    "publishing_a_draft": lambda w: (_at(S.DRAFT, w["agency"]), "publish", w["city"].reviewer),
    "approving_twice": lambda w: (
        _at(S.AGENCY_APPROVED, w["agency"]),
        "agency_approve",
        w["agency"].admin,
    ),
    "reviewing_before_agency_approval": lambda w: (
        _at(S.SUBMITTED, w["agency"]),
        "review",
        w["city"].reviewer,
    ),
    "other_agency_staff_submitting": lambda w: (
        _at(S.DRAFT, w["agency"]),
        "submit",
        w["other_agency"].staff,
    ),
    "other_agency_admin_approving": lambda w: (
        _at(S.SUBMITTED, w["agency"]),
        "agency_approve",
        w["other_agency"].admin,
    ),
    "reviewer_submitting": lambda w: (_at(S.DRAFT, w["agency"]), "submit", w["city"].reviewer),
    "unknown_action": lambda w: (
        _at(S.DRAFT, w["agency"]),
        "approve_everything",
        w["agency"].admin,
    ),
}


@pytest.fixture
def world(request):
    """The fixtures a refusal case names, built only when it asks for them."""

    class World:
        def __getitem__(self, name):
            return request.getfixturevalue(name)

    return World()


@pytest.mark.parametrize("name", REFUSALS)
def test_move_refused_leaves_state_and_history_unchanged(name, world):
    version, action, user = REFUSALS[name](world)
    state, before = version.state, len(events(version))
    with pytest.raises(TransitionNotAllowed):
        move(version, action, user, comment="试图越权")
    version.refresh_from_db()
    assert version.state == state
    assert len(events(version)) == before
    assert not CatalogEntry.objects.filter(resource=version.resource).exists()


def test_other_agency_staff_cannot_edit_a_draft(agency, other_agency, draft):
    with pytest.raises(AccessDenied):
        services.resource_draft_update(
            version=draft, acting_user=other_agency.staff, fields={"name": "篡改"}, items=[]
        )
    draft.refresh_from_db()
    assert draft.name == f.valid_fields()["name"]
    assert draft.items.count() == 3
    assert events(draft) == []


def test_other_agency_staff_cannot_file_for_an_agency(agency, other_agency):
    with pytest.raises(AccessDenied):
        f.make_draft(agency, by=other_agency.staff)
    assert not Resource.objects.filter(provider=agency.org).exists()


def test_submitted_entry_cannot_be_edited(agency, draft):
    move(draft, "submit", agency.staff)
    with pytest.raises(DomainError):
        services.resource_draft_update(
            version=draft, acting_user=agency.staff, fields={"name": "改名"}, items=[]
        )
    draft.refresh_from_db()
    assert draft.name == f.valid_fields()["name"]


@pytest.mark.parametrize("comment", ["", "   "])
@pytest.mark.parametrize(
    "action,state", [("agency_return", S.SUBMITTED), ("review_return", S.AGENCY_APPROVED)]
)
def test_return_requires_a_comment(action, state, comment, agency, city):
    version = _at(state, agency)
    user = agency.admin if action == "agency_return" else city.reviewer
    with pytest.raises(DomainError) as exc:
        move(version, action, user, comment=comment)
    assert exc.value.field == "comment"
    version.refresh_from_db()
    assert version.state == state
    assert [e.transition for e in events(version)][-1] != action


# --- notifications and deadlines ----------------------------------------------------------


def test_submit_notifies_the_agency_admins(agency, other_agency, draft):
    move(draft, "submit", agency.staff)
    [note] = inbox(agency.admin)
    assert draft.name in note.title
    assert note.url == f"/catalog/versions/{draft.pk}/"
    assert inbox(agency.staff) == []
    assert inbox(other_agency.admin) == []


def test_agency_approval_notifies_the_city_reviewers_of_a_city_agency(
    agency, city, district, draft
):
    f.approve(draft, agency)
    [note] = inbox(city.reviewer)
    assert draft.name in note.title
    assert inbox(district.reviewer) == []


def test_agency_approval_notifies_only_the_district_reviewers(
    district_agency, city, district, other_district
):
    version = f.approve(f.make_draft(district_agency), district_agency)
    assert len(inbox(district.reviewer)) == 1
    assert inbox(city.reviewer) == []
    assert inbox(other_district.reviewer) == []
    assert version.state == S.AGENCY_APPROVED


@pytest.mark.parametrize("action", ["agency_return", "review_return"])
def test_return_notifies_the_filer_with_the_comment(action, agency, city):
    version = _at(S.SUBMITTED if action == "agency_return" else S.AGENCY_APPROVED, agency)
    user = agency.admin if action == "agency_return" else city.reviewer
    move(version, action, user, comment="信息项缺少长度")
    notes = inbox(agency.staff)
    assert notes[-1].body == "信息项缺少长度"
    assert version.name in notes[-1].title


def test_publication_notifies_the_filer(agency, city, draft):
    f.publish(draft, agency, city.reviewer)
    titles = [n.title for n in inbox(agency.staff)]
    assert len(titles) == 1
    assert draft.name in titles[0]


def test_step_deadlines_are_counted_in_working_days(agency, city, draft):
    days = settings.CATALOG_STEP_DEADLINES
    version = move(draft, "submit", agency.staff)
    assert version.step_deadline == deadline_after(days["agency_approve"])
    version = move(version, "agency_approve", agency.admin)
    assert version.step_deadline == deadline_after(days["review"])
    version = move(version, "review_return", city.reviewer, comment="请修改")
    assert version.step_deadline == deadline_after(days["fix"])
    version = move(version, "submit", agency.staff)
    version = move(version, "agency_approve", agency.admin)
    version = move(version, "review", city.reviewer)
    assert version.step_deadline == deadline_after(days["publish"])
    version = move(version, "publish", city.reviewer)
    assert version.step_deadline is None
    version.refresh_from_db()
    assert version.step_deadline is None


# --- publication, revision, retirement ----------------------------------------------------


def test_publishing_writes_the_catalog_entry(agency, city, draft):
    version = f.publish(draft, agency, city.reviewer)
    entry = CatalogEntry.objects.get(resource=version.resource)
    assert (entry.version_id, entry.code, entry.name, entry.provider_id, entry.provider_name) == (
        version.pk,
        version.resource.code,
        version.name,
        agency.org.pk,
        agency.org.name,
    )
    assert (entry.share_type, entry.open_type, entry.grade.code) == ("conditional", "none", "L2")
    assert entry.published_at == version.published_at
    version.resource.refresh_from_db()
    assert version.resource.published_version_id == version.pk


def test_unpublished_entry_is_not_in_the_catalog(agency, city):
    _at(S.REVIEWED, agency, city.reviewer, name="待发布的资源")
    assert not CatalogEntry.objects.exists()
    assert search_names("资源") == []


def test_revising_a_published_resource_starts_v2_while_v1_stays_published(agency, city, draft):
    v1 = f.publish(draft, agency, city.reviewer)
    v2 = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    assert (v2.number, v2.state) == (2, S.DRAFT)
    assert v2.name == v1.name
    assert [(i.name, i.length) for i in v2.items.all()] == [
        (i.name, i.length) for i in v1.items.all()
    ]
    v1.refresh_from_db()
    assert v1.state == S.PUBLISHED
    assert search_names("户籍") == [v1.name]
    assert resource_public(v1.resource.pk, viewer=officer()).published_version_id == v1.pk


def test_publishing_v2_supersedes_v1_and_updates_the_entry(agency, city, draft):
    v1 = f.publish(draft, agency, city.reviewer)
    v2 = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    services.resource_draft_update(
        version=v2,
        acting_user=agency.staff,
        fields={
            "name": "常住人口登记信息",
            "summary": "常住人口的登记信息。",
            "change_note": "改名",
        },
        items=f.valid_items(),
    )
    # Until v2 is published the catalog shows v1.
    assert search_names("常住") == []
    v2 = f.publish(v2, agency, city.reviewer)
    v1.refresh_from_db()
    assert (v1.state, v2.state) == (S.SUPERSEDED, S.PUBLISHED)
    entry = CatalogEntry.objects.get(resource=v1.resource)
    assert (entry.version_id, entry.name, entry.code) == (
        v2.pk,
        "常住人口登记信息",
        v1.resource.code,
    )
    assert search_names("常住") == ["常住人口登记信息"]
    assert search_names("户籍") == []
    assert CatalogEntry.objects.count() == 1


def test_second_revision_while_one_is_open_is_refused(agency, city, draft):
    v1 = f.publish(draft, agency, city.reviewer)
    v2 = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    move(v2, "submit", agency.staff)
    with pytest.raises(DomainError):
        services.resource_revise(resource=v1.resource, acting_user=agency.admin)
    assert v1.resource.versions.count() == 2


def test_only_a_published_resource_can_be_revised(agency, draft):
    with pytest.raises(DomainError):
        services.resource_revise(resource=draft.resource, acting_user=agency.staff)
    assert draft.resource.versions.count() == 1


def test_other_agency_cannot_revise_a_published_resource(agency, other_agency, city, draft):
    v1 = f.publish(draft, agency, city.reviewer)
    with pytest.raises(AccessDenied):
        services.resource_revise(resource=v1.resource, acting_user=other_agency.staff)
    assert v1.resource.versions.count() == 1


def test_retiring_requires_a_comment(agency, city, draft):
    version = f.publish(draft, agency, city.reviewer)
    with pytest.raises(DomainError) as exc:
        move(version, "retire", city.reviewer)
    assert exc.value.field == "comment"
    version.refresh_from_db()
    assert version.state == S.PUBLISHED
    assert CatalogEntry.objects.filter(resource=version.resource).exists()


def test_retiring_removes_the_entry_from_the_catalog(agency, city, draft):
    version = f.publish(draft, agency, city.reviewer)
    version = move(version, "retire", city.reviewer, comment="数据已停止采集")
    assert version.state == S.RETIRED
    assert not CatalogEntry.objects.filter(resource=version.resource).exists()
    assert resource_public(version.resource.pk, viewer=officer()) is None
    assert search_names("户籍") == []
    version.resource.refresh_from_db()
    assert version.resource.retired_at is not None
    assert events(version)[-1].comment == "数据已停止采集"


def test_agency_cannot_retire_its_published_entry(agency, city, draft):
    version = f.publish(draft, agency, city.reviewer)
    with pytest.raises(TransitionNotAllowed):
        move(version, "retire", agency.admin, comment="不再提供")
    assert CatalogEntry.objects.filter(resource=version.resource).exists()


# --- resource codes -----------------------------------------------------------------------


def test_resource_code_is_classification_code_and_six_digit_sequence(agency, draft):
    resource = draft.resource
    assert re.fullmatch(r"101/\d{6}", resource.code)
    assert resource.code == f"101/{resource.sequence:06d}"


def test_sequence_increments_per_classification(agency, other_agency):
    a = f.make_draft(agency).resource
    b = f.make_draft(other_agency).resource
    c = f.make_draft(agency, classification_code="102").resource
    d = f.make_draft(agency, classification_code="102").resource
    assert b.sequence == a.sequence + 1
    assert d.sequence == c.sequence + 1
    assert c.code.startswith("102/") and d.code.startswith("102/")
    codes = [r.code for r in (a, b, c, d)]
    assert len(set(codes)) == 4


def test_changing_the_classification_of_a_draft_gives_it_a_new_code(agency, draft):
    services.resource_draft_update(
        version=draft,
        acting_user=agency.staff,
        fields={},
        items=f.valid_items(),
        classification=f.classification("201"),
    )
    draft.resource.refresh_from_db()
    assert re.fullmatch(r"201/\d{6}", draft.resource.code)
