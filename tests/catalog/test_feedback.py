"""Catalog feedback (Art. 14): a requester reports an omission, an outdated entry or an error;
the catalog is adjusted after the bureau and the provider agree. The provider proposes an
adjustment (or that none is needed), the responsible bureau (district or city) agrees or sends
the proposal back with a comment, the provider makes an agreed adjustment (linking the new
version); the bureau may reject the report with reasons. Who may do what, who sees what, who
is told, the deadlines and the work queues that list what waits. Every report goes through
the real form and services."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.test import Client

from catalog import services
from catalog.models import CatalogFeedback, ResourceVersion
from catalog.permissions import access_feedback
from catalog.workflows import feedback_workflow
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.models import Notification, WorkflowEvent
from wuhan_pdr.kernel.workdays import deadline_after
from wuhan_pdr.kernel.workqueue import queues_for

from . import factories as f

pytestmark = pytest.mark.django_db
F = CatalogFeedback.State


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def make_requester():
    """A data requester of an organization that files nothing."""
    org = OrganizationFactory(kind=Organization.Kind.USER_ORG)
    return UserFactory(organization=org, roles=[Role.REQUESTER])


def inbox(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def events(feedback) -> list[tuple]:
    ct = ContentType.objects.get_for_model(CatalogFeedback)
    return [
        (e.transition, e.from_state, e.to_state, e.actor_id, e.comment)
        for e in WorkflowEvent.objects.filter(content_type=ct, object_id=str(feedback.pk)).order_by(
            "pk"
        )
    ]


def report(
    user, resource, description="资源更新周期写的是每月,实际半年没有更新。", kind="outdated"
):
    return services.feedback_create(
        acting_user=user, kind=kind, description=description, resource=resource
    )


def move(feedback, action, user, comment="", version=None):
    return services.feedback_transition(
        feedback=feedback, action=action, acting_user=user, comment=comment, version=version
    )


def form_url(resource=None) -> str:
    return "/catalog/feedback/new/" + (f"?resource={resource.pk}" if resource is not None else "")


def detail_url(feedback) -> str:
    return f"/catalog/feedback/{feedback.pk}/"


@pytest.fixture
def requester(db):
    return make_requester()


@pytest.fixture
def other_requester(db):
    return make_requester()


@pytest.fixture
def published(agency, city) -> ResourceVersion:
    """A city agency's published entry (reviewed by the city bureau), open under conditions
    so that a requester of a company sees it."""
    return f.make_published(
        agency,
        city.reviewer,
        name="户籍人口基本信息",
        open_type="conditional",
        open_conditions="经审批后开放。",
        open_legal_basis="",
    )


@pytest.fixture
def district_published(district_agency, district) -> ResourceVersion:
    """A 江岸区 agency's published entry (reviewed by the 江岸区 bureau)."""
    return f.make_published(district_agency, district.reviewer, name="江岸区养老机构名录")


@pytest.fixture
def feedback(requester, published) -> CatalogFeedback:
    return report(requester, published.resource)


@pytest.fixture
def district_feedback(requester, district_published) -> CatalogFeedback:
    return report(requester, district_published.resource, kind="error")


# --- reporting ------------------------------------------------------------------------------


def test_form_about_an_existing_entry_offers_no_omission_and_starts_at_error(requester, published):
    form = client(requester).get(form_url(published.resource)).context["form"]
    kinds = [value for value, _label in form.fields["kind"].choices]
    assert "omission" not in kinds
    assert form["kind"].value() == "error"
    assert "provider" not in form.fields


def test_requester_reports_on_a_published_resource_through_the_form(
    requester, agency, other_agency, city, district, published
):
    Notification.objects.all().delete()  # the publication's own notices
    response = client(requester).post(
        form_url(published.resource),
        {"kind": "error", "description": "  “共享方式”一栏与实际接口不符。  "},
    )
    fb = CatalogFeedback.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(fb)
    assert (fb.provider, fb.resource, fb.kind, fb.requester, fb.state) == (
        agency.org,
        published.resource,
        "error",
        requester,
        F.OPEN,
    )
    assert fb.description == "“共享方式”一栏与实际接口不符。"
    assert fb.step_deadline == deadline_after(settings.CATALOG_STEP_DEADLINES["feedback_answer"])
    # The provider's filers and the responsible (city) reviewers are told; nobody else.
    for user in (agency.staff, agency.admin, city.reviewer):
        [notice] = inbox(user)
        assert notice.url == detail_url(fb)
        assert "共享方式" in notice.body
    for user in (requester, other_agency.staff, other_agency.admin, district.reviewer):
        assert inbox(user) == []
    assert events(fb) == []  # a report is created, not moved
    page = client(requester).get(detail_url(fb))
    assert page.status_code == 200
    assert "共享方式" in page.content.decode()


def test_district_agency_feedback_reaches_its_district_bureau_only(
    requester, district_agency, district, other_district, city, district_published
):
    Notification.objects.all().delete()
    fb = report(requester, district_published.resource)
    assert fb.provider == district_agency.org
    for user in (district_agency.staff, district_agency.admin, district.reviewer):
        assert [n.url for n in inbox(user)] == [detail_url(fb)]
    for user in (city.reviewer, other_district.reviewer):
        assert inbox(user) == []


def test_anonymous_is_sent_to_the_login_page(published):
    for url in (form_url(published.resource), "/catalog/feedback/"):
        response = client().get(url)
        assert response.status_code == 302
        assert "/login" in response["Location"]
    response = client().post(
        form_url(published.resource), {"kind": "error", "description": "匿名反馈"}
    )
    assert response.status_code == 302
    assert "/login" in response["Location"]
    assert not CatalogFeedback.objects.exists()
    with pytest.raises(AccessDenied):
        services.feedback_create(
            acting_user=AnonymousUser(),
            kind="error",
            description="匿名反馈",
            resource=published.resource,
        )


def test_feedback_on_a_draft_or_retired_resource_is_refused(
    requester, agency, city, published, draft
):
    # The form is not even offered for an entry nobody can see, nor for a missing one.
    for pk in (draft.resource.pk, 999_999_999):
        assert client(requester).get(f"/catalog/feedback/new/?resource={pk}").status_code == 404
        response = client(requester).post(
            f"/catalog/feedback/new/?resource={pk}", {"kind": "error", "description": "草稿有错"}
        )
        assert response.status_code == 404
    with pytest.raises(DomainError) as exc:
        report(requester, draft.resource)
    assert exc.value.field == "resource"
    services.resource_transition(
        version=published, action="retire", acting_user=city.reviewer, comment="数据源已停用"
    )
    published.resource.refresh_from_db()
    with pytest.raises(DomainError):
        report(requester, published.resource)
    assert not CatalogFeedback.objects.exists()


def test_omission_report_needs_a_provider_agency(requester, agency, city):
    c = client(requester)
    body = {"kind": "omission", "description": "市场监管局的食品经营许可信息没有编目。"}
    response = c.post(form_url(), body)
    assert response.status_code == 200
    assert "provider" in response.context["form"].errors
    # A bureau is not an agency: the form does not offer it.
    response = c.post(form_url(), {**body, "provider": city.org.pk})
    assert response.status_code == 200
    assert "provider" in response.context["form"].errors
    assert not CatalogFeedback.objects.exists()

    response = c.post(form_url(), {**body, "provider": agency.org.pk})
    fb = CatalogFeedback.objects.get()
    assert response.status_code == 302
    assert (fb.provider, fb.resource, fb.kind) == (agency.org, None, "omission")
    assert [n.url for n in inbox(agency.admin)] == [detail_url(fb)]

    for provider in (None, city.org):
        with pytest.raises(DomainError) as exc:
            services.feedback_create(
                acting_user=requester, kind="omission", description="缺少资源", provider=provider
            )
        assert exc.value.field == "provider"


@pytest.mark.parametrize("description", ["", "   ", "\n\t "])
def test_an_empty_description_is_refused_with_a_field_message(requester, published, description):
    response = client(requester).post(
        form_url(published.resource), {"kind": "error", "description": description}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["description"]
    assert errors["description"][0] in response.content.decode()
    with pytest.raises(DomainError) as exc:
        report(requester, published.resource, description=description)
    assert exc.value.field == "description"
    assert not CatalogFeedback.objects.exists()


def test_a_description_over_4000_characters_is_refused(requester, published):
    response = client(requester).post(
        form_url(published.resource), {"kind": "error", "description": "错" * 4001}
    )
    assert response.status_code == 200
    assert "description" in response.context["form"].errors
    assert not CatalogFeedback.objects.exists()


# --- the provider proposes ----------------------------------------------------------------------


def post(user, feedback, action, comment="", version=None):
    data = {"action": action, "comment": comment}
    if version is not None:
        data["version"] = version.pk
    return client(user).post(detail_url(feedback), data)


def agreed(feedback, agency, reviewer, proposal="将在新版本中更正。"):
    """The provider proposes an adjustment and the bureau agrees to it."""
    move(feedback, "propose_adjustment", agency.staff, comment=proposal)
    return move(feedback, "agree_adjustment", reviewer)


def test_provider_proposes_an_adjustment_through_the_page_and_the_bureau_is_told(
    requester, agency, city, district, feedback
):
    Notification.objects.all().delete()
    response = post(agency.staff, feedback, "propose_adjustment", "  已核实,下月更新。  ")
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.state == F.ADJUSTMENT_PROPOSED
    assert feedback.answer == "已核实,下月更新。"
    assert feedback.proposes_adjustment is True
    assert feedback.step_deadline == deadline_after(
        settings.CATALOG_STEP_DEADLINES["feedback_agree"]
    )
    [notice] = inbox(city.reviewer)
    assert (notice.url, notice.body) == (detail_url(feedback), "已核实,下月更新。")
    for user in (agency.staff, agency.admin, district.reviewer, requester):
        assert inbox(user) == []  # the requester hears of the outcome
    assert events(feedback) == [
        ("propose_adjustment", F.OPEN, F.ADJUSTMENT_PROPOSED, agency.staff.pk, "已核实,下月更新。")
    ]
    # The requester follows the proposal on the page.
    page = client(requester).get(detail_url(feedback)).content.decode()
    assert "已核实,下月更新。" in page


def test_provider_proposes_no_adjustment_through_the_page(requester, agency, city, feedback):
    Notification.objects.all().delete()
    response = post(agency.admin, feedback, "propose_no_change", "该资源按月更新,数据无误。")
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert (feedback.state, feedback.answer) == (F.NO_CHANGE_PROPOSED, "该资源按月更新,数据无误。")
    assert feedback.proposes_adjustment is False
    assert [n.url for n in inbox(city.reviewer)] == [detail_url(feedback)]
    assert inbox(requester) == []


@pytest.mark.parametrize("action", ["propose_adjustment", "propose_no_change"])
def test_a_proposal_needs_a_comment(requester, agency, city, feedback, action):
    Notification.objects.all().delete()
    with pytest.raises(DomainError) as exc:
        move(feedback, action, agency.staff, comment="  ")
    assert exc.value.field == "comment"
    response = post(agency.admin, feedback, action, "")
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]]
    feedback.refresh_from_db()
    assert feedback.state == F.OPEN
    assert events(feedback) == []
    assert inbox(city.reviewer) == []


def test_the_provider_cannot_adjust_before_the_bureau_agrees(
    requester, agency, city, published, feedback
):
    """Art. 14: the catalog is adjusted after the bureau and the provider agree."""
    revision = services.resource_revise(resource=published.resource, acting_user=agency.staff)
    with pytest.raises(TransitionNotAllowed):
        move(feedback, "adjust", agency.staff, comment="直接改了", version=revision)
    response = post(agency.staff, feedback, "adjust", "直接改了", version=revision)
    assert response.status_code == 200
    move(feedback, "propose_adjustment", agency.staff, comment="拟在新版本中更正。")
    with pytest.raises(TransitionNotAllowed):
        move(feedback, "adjust", agency.admin, version=revision)
    response = post(agency.admin, feedback, "adjust", version=revision)
    assert response.status_code == 200
    feedback.refresh_from_db()
    assert (feedback.state, feedback.adjusted_version) == (F.ADJUSTMENT_PROPOSED, None)
    assert [e[0] for e in events(feedback)] == ["propose_adjustment"]


# --- the bureau agrees or sends the proposal back ------------------------------------------------


def test_bureau_agrees_to_the_adjustment_through_the_page(requester, agency, city, feedback):
    move(feedback, "propose_adjustment", agency.staff, comment="拟补充更新时间说明。")
    Notification.objects.all().delete()
    response = post(city.reviewer, feedback, "agree_adjustment", " 同意,请按期修订。 ")
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.state == F.AGREED
    assert feedback.bureau_comment == "同意,请按期修订。"
    assert feedback.answer == "拟补充更新时间说明。"
    assert feedback.step_deadline == deadline_after(
        settings.CATALOG_STEP_DEADLINES["feedback_adjust"]
    )
    for user in (agency.staff, agency.admin, requester):
        assert [n.url for n in inbox(user)] == [detail_url(feedback)]
    assert inbox(city.reviewer) == []
    assert events(feedback)[-1] == (
        "agree_adjustment",
        F.ADJUSTMENT_PROPOSED,
        F.AGREED,
        city.reviewer.pk,
        "同意,请按期修订。",
    )


def test_an_agreement_needs_no_comment(agency, city, feedback):
    fb = agreed(feedback, agency, city.reviewer)
    assert fb.state == F.AGREED and fb.bureau_comment == ""


def test_district_bureau_agrees_that_no_adjustment_is_needed_and_the_requester_sees_it(
    requester, district_agency, district, city, district_feedback
):
    move(district_feedback, "propose_no_change", district_agency.staff, comment="经核实条目无误。")
    Notification.objects.all().delete()
    response = post(district.reviewer, district_feedback, "agree_no_change", "同意不作调整。")
    assert response.status_code == 302
    district_feedback.refresh_from_db()
    assert district_feedback.state == F.NO_CHANGE
    assert district_feedback.is_closed and district_feedback.step_deadline is None
    for user in (requester, district_agency.staff, district_agency.admin):
        assert [n.url for n in inbox(user)] == [detail_url(district_feedback)]
    assert inbox(city.reviewer) == []
    page = client(requester).get(detail_url(district_feedback))
    html = page.content.decode()
    assert page.context["actions"] == []
    assert "经核实条目无误。" in html and "同意不作调整。" in html
    assert 'class="alert alert-success feedback-outcome"' in html


def test_bureau_sends_a_proposal_back_and_the_provider_proposes_again(
    requester, agency, city, feedback
):
    move(feedback, "propose_no_change", agency.staff, comment="无需调整。")
    Notification.objects.all().delete()
    # A comment is required to send back.
    response = post(city.reviewer, feedback, "send_back", "  ")
    assert response.status_code == 200
    feedback.refresh_from_db()
    assert feedback.state == F.NO_CHANGE_PROPOSED
    assert inbox(agency.staff) == []

    response = post(city.reviewer, feedback, "send_back", "请说明数据为何半年未更新。")
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert (feedback.state, feedback.bureau_comment) == (F.RETURNED, "请说明数据为何半年未更新。")
    assert feedback.step_deadline == deadline_after(
        settings.CATALOG_STEP_DEADLINES["feedback_answer"]
    )
    for user in (agency.staff, agency.admin):
        [notice] = inbox(user)
        assert (notice.url, notice.body) == (detail_url(feedback), "请说明数据为何半年未更新。")
    assert inbox(requester) == []

    # Back with the provider: it proposes again (an adjustment, this time).
    page = client(agency.staff).get(detail_url(feedback))
    assert {t.name for t in page.context["actions"]} == {"propose_adjustment", "propose_no_change"}
    response = post(agency.staff, feedback, "propose_adjustment", "将恢复每月更新并修订目录。")
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.state == F.ADJUSTMENT_PROPOSED
    assert (feedback.answer, feedback.bureau_comment) == ("将恢复每月更新并修订目录。", "")
    assert [e[:3] for e in events(feedback)] == [
        ("propose_no_change", F.OPEN, F.NO_CHANGE_PROPOSED),
        ("send_back", F.NO_CHANGE_PROPOSED, F.RETURNED),
        ("propose_adjustment", F.RETURNED, F.ADJUSTMENT_PROPOSED),
    ]


def test_the_bureau_agrees_to_what_was_proposed_only(agency, city, feedback, district_feedback):
    move(feedback, "propose_adjustment", agency.staff, comment="拟修订。")
    with pytest.raises(TransitionNotAllowed):
        move(feedback, "agree_no_change", city.reviewer)
    other = report(feedback.requester, feedback.resource, kind="error")
    move(other, "propose_no_change", agency.staff, comment="无需修订。")
    with pytest.raises(TransitionNotAllowed):
        move(other, "agree_adjustment", city.reviewer)
    # Nothing to agree on before a proposal.
    with pytest.raises(TransitionNotAllowed):
        move(report(feedback.requester, feedback.resource), "agree_adjustment", city.reviewer)
    page = client(city.reviewer).get(detail_url(feedback))
    assert {t.name for t in page.context["actions"]} == {"agree_adjustment", "send_back", "reject"}
    page = client(city.reviewer).get(detail_url(other))
    assert {t.name for t in page.context["actions"]} == {"agree_no_change", "send_back", "reject"}


# --- the provider adjusts the entry after the agreement ------------------------------------------


def test_provider_adjusts_by_linking_a_revision_made_after_the_feedback(
    requester, agency, city, published, feedback
):
    agreed(feedback, agency, city.reviewer)
    revision = services.resource_revise(resource=published.resource, acting_user=agency.staff)
    page = client(agency.admin).get(detail_url(feedback))
    assert list(page.context["versions"]) == [revision]
    assert {t.name for t in page.context["actions"]} == {"adjust"}
    Notification.objects.all().delete()

    response = post(agency.admin, feedback, "adjust", "", version=revision)
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert (feedback.state, feedback.adjusted_version) == (F.ADJUSTED, revision)
    assert feedback.answer == "将在新版本中更正。"  # the agreed proposal stays
    assert feedback.step_deadline is None
    assert feedback.is_closed
    assert [n.url for n in inbox(requester)] == [detail_url(feedback)]
    assert len(inbox(city.reviewer)) == 1
    assert events(feedback) == [
        (
            "propose_adjustment",
            F.OPEN,
            F.ADJUSTMENT_PROPOSED,
            agency.staff.pk,
            "将在新版本中更正。",
        ),
        ("agree_adjustment", F.ADJUSTMENT_PROPOSED, F.AGREED, city.reviewer.pk, ""),
        ("adjust", F.AGREED, F.ADJUSTED, agency.admin.pk, ""),
    ]
    html = client(requester).get(detail_url(feedback)).content.decode()
    assert f"v{revision.number}" in html
    assert 'class="alert alert-success feedback-outcome"' in html


def test_adjusting_refuses_old_versions_and_versions_of_other_resources(
    requester, agency, other_agency, city, published, feedback
):
    agreed(feedback, agency, city.reviewer)
    # The version published before the report was sent.
    with pytest.raises(DomainError) as exc:
        move(feedback, "adjust", agency.staff, version=published)
    assert exc.value.field == "version"
    # A version of another resource of the same provider, made after the report.
    sibling = f.make_published(
        agency, city.reviewer, name="法人基本信息", classification_code="102"
    )
    with pytest.raises(DomainError):
        move(feedback, "adjust", agency.staff, version=sibling)
    sibling_revision = services.resource_revise(resource=sibling.resource, acting_user=agency.staff)
    with pytest.raises(DomainError):
        move(feedback, "adjust", agency.staff, version=sibling_revision)
    # A version of another provider's resource.
    foreign = f.make_draft(other_agency)
    with pytest.raises(DomainError):
        move(feedback, "adjust", agency.staff, version=foreign)
    # No version at all.
    with pytest.raises(DomainError) as exc:
        move(feedback, "adjust", agency.staff)
    assert exc.value.field == "version"

    # Through the page: versions that do not qualify are not accepted either.
    Notification.objects.all().delete()
    for version in (published, sibling_revision, foreign):
        response = post(agency.staff, feedback, "adjust", version=version)
        assert response.status_code == 200
    feedback.refresh_from_db()
    assert (feedback.state, feedback.adjusted_version) == (F.AGREED, None)
    assert [e[0] for e in events(feedback)] == ["propose_adjustment", "agree_adjustment"]
    assert inbox(requester) == []


def test_an_omission_is_adjusted_by_the_entry_filed_after_it(requester, agency, city):
    fb = services.feedback_create(
        acting_user=requester,
        kind="omission",
        description="缺少食品经营许可信息。",
        provider=agency.org,
    )
    agreed(fb, agency, city.reviewer, proposal="将编目食品经营许可信息。")
    new_entry = f.make_draft(agency, name="食品经营许可信息", classification_code="201")
    fb = move(fb, "adjust", agency.staff, comment="已编目。", version=new_entry)
    assert (fb.state, fb.adjusted_version, fb.answer) == (
        F.ADJUSTED,
        new_entry,
        "将编目食品经营许可信息。",
    )
    assert events(fb)[-1] == ("adjust", F.AGREED, F.ADJUSTED, agency.staff.pk, "已编目。")


# --- the bureau rejects ------------------------------------------------------------------------


def test_responsible_reviewer_rejects_with_reasons(requester, agency, city, feedback):
    Notification.objects.all().delete()
    response = post(city.reviewer, feedback, "reject", "该资源按月更新,未发现过期。")
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.state == F.REJECTED
    assert feedback.rejection_reason == "该资源按月更新,未发现过期。"
    assert feedback.step_deadline is None
    for user in (requester, agency.staff, agency.admin):
        assert [n.url for n in inbox(user)] == [detail_url(feedback)]
    assert inbox(city.reviewer) == []
    assert events(feedback) == [
        ("reject", F.OPEN, F.REJECTED, city.reviewer.pk, "该资源按月更新,未发现过期。")
    ]
    html = client(requester).get(detail_url(feedback)).content.decode()
    assert 'class="alert alert-error feedback-outcome"' in html


@pytest.mark.parametrize("proposal", ["propose_adjustment", "propose_no_change"])
def test_a_proposal_may_still_be_rejected_but_not_an_agreed_adjustment(
    requester, district_agency, district, district_feedback, proposal
):
    move(district_feedback, proposal, district_agency.admin, comment="数据无误。")
    fb = move(district_feedback, "reject", district.reviewer, comment="经核查,属重复反馈。")
    assert fb.state == F.REJECTED
    assert [e[:3] for e in events(fb)] == [
        (proposal, F.OPEN, fb_state(proposal)),
        ("reject", fb_state(proposal), F.REJECTED),
    ]
    other = report(requester, district_feedback.resource)
    agreed(other, district_agency, district.reviewer)
    with pytest.raises(TransitionNotAllowed):
        move(other, "reject", district.reviewer, comment="已同意的不能再驳回")


def fb_state(proposal: str) -> str:
    return F.ADJUSTMENT_PROPOSED if proposal == "propose_adjustment" else F.NO_CHANGE_PROPOSED


def test_a_rejection_needs_reasons(city, feedback):
    with pytest.raises(DomainError) as exc:
        move(feedback, "reject", city.reviewer, comment=" ")
    assert exc.value.field == "comment"
    feedback.refresh_from_db()
    assert feedback.state == F.OPEN


# --- wrong roles and closed reports -------------------------------------------------------------


def test_wrong_roles_are_refused(
    requester,
    agency,
    other_agency,
    city,
    district,
    other_district,
    district_agency,
    published,
    feedback,
    district_feedback,
):
    revision = services.resource_revise(resource=published.resource, acting_user=agency.staff)
    proposed = report(requester, published.resource, kind="error")
    move(proposed, "propose_adjustment", agency.staff, comment="拟修订。")
    district_proposed = report(requester, district_feedback.resource, kind="other")
    move(district_proposed, "propose_no_change", district_agency.staff, comment="无需修订。")
    agreed_fb = report(requester, published.resource, kind="mismatch")
    agreed(agreed_fb, agency, city.reviewer)
    refusals = [
        # Only the provider proposes: not the requester, another agency, nor a bureau.
        (feedback, "propose_adjustment", requester),
        (feedback, "propose_no_change", requester),
        (feedback, "propose_adjustment", other_agency.staff),
        (feedback, "propose_no_change", other_agency.admin),
        (feedback, "propose_adjustment", city.reviewer),
        (district_feedback, "propose_adjustment", agency.staff),
        (district_feedback, "propose_no_change", district.reviewer),
        # Only the responsible bureau agrees, sends back or rejects.
        (proposed, "agree_adjustment", requester),
        (proposed, "agree_adjustment", agency.staff),
        (proposed, "agree_adjustment", agency.admin),
        (proposed, "send_back", agency.admin),
        (proposed, "agree_adjustment", district.reviewer),
        (proposed, "send_back", other_agency.admin),
        (district_proposed, "agree_no_change", city.reviewer),
        (district_proposed, "agree_no_change", other_district.reviewer),
        (district_proposed, "send_back", other_district.reviewer),
        (district_proposed, "agree_no_change", district_agency.admin),
        (feedback, "reject", requester),
        (feedback, "reject", agency.staff),
        (feedback, "reject", agency.admin),
        (feedback, "reject", district.reviewer),
        (district_feedback, "reject", other_district.reviewer),
        (district_feedback, "reject", city.reviewer),
        # Only the provider adjusts, once agreed.
        (agreed_fb, "adjust", requester),
        (agreed_fb, "adjust", city.reviewer),
        (agreed_fb, "adjust", other_agency.staff),
        # The earlier procedure's answer, and actions that do not exist.
        (feedback, "answer", agency.staff),
        (feedback, "procedure_changed", city.reviewer),
        (feedback, "approve_everything", city.reviewer),
    ]
    before = {fb.pk: (fb.state, len(events(fb))) for fb in CatalogFeedback.objects.all()}
    for fb, action, user in refusals:
        with pytest.raises(TransitionNotAllowed):
            move(fb, action, user, comment="试一试", version=revision)
    after = {fb.pk: (fb.state, len(events(fb))) for fb in CatalogFeedback.objects.all()}
    assert after == before


def test_the_page_offers_each_role_its_own_actions(requester, agency, city, feedback):
    def actions(user):
        return {t.name for t in client(user).get(detail_url(feedback)).context["actions"]}

    assert actions(requester) == set()
    assert actions(agency.staff) == {"propose_adjustment", "propose_no_change"}
    assert actions(city.reviewer) == {"reject"}
    # A requester posting an action the page does not offer changes nothing.
    assert post(requester, feedback, "propose_adjustment", "自问自答").status_code == 200
    assert post(agency.staff, feedback, "reject", "驳回").status_code == 200
    assert post(agency.staff, feedback, "agree_adjustment", "自己同意").status_code == 200
    feedback.refresh_from_db()
    assert feedback.state == F.OPEN

    move(feedback, "propose_adjustment", agency.staff, comment="拟修订。")
    assert actions(requester) == set()
    assert actions(agency.staff) == set()  # it waits for the bureau
    assert actions(city.reviewer) == {"agree_adjustment", "send_back", "reject"}
    assert post(agency.admin, feedback, "agree_adjustment").status_code == 200
    feedback.refresh_from_db()
    assert feedback.state == F.ADJUSTMENT_PROPOSED

    move(feedback, "agree_adjustment", city.reviewer)
    assert actions(agency.staff) == {"adjust"}
    assert actions(city.reviewer) == set()
    assert actions(requester) == set()


def test_closed_feedback_cannot_move_again(requester, agency, city, feedback):
    move(feedback, "reject", city.reviewer, comment="重复反馈。")
    for action, user in (
        ("propose_adjustment", agency.staff),
        ("reject", city.reviewer),
        ("agree_no_change", city.reviewer),
    ):
        with pytest.raises(TransitionNotAllowed):
            move(feedback, action, user, comment="再来一次")
    assert client(agency.staff).get(detail_url(feedback)).context["actions"] == []
    assert len(events(feedback)) == 1
    done = report(requester, feedback.resource)
    move(done, "propose_no_change", agency.staff, comment="无需调整。")
    move(done, "agree_no_change", city.reviewer)
    for action, user in (("propose_adjustment", agency.staff), ("send_back", city.reviewer)):
        with pytest.raises(TransitionNotAllowed):
            move(done, action, user, comment="再来一次")


# --- who sees what ------------------------------------------------------------------------------


def test_detail_page_is_404_for_those_who_may_not_see_it(
    requester,
    other_requester,
    agency,
    other_agency,
    city,
    district,
    other_district,
    district_agency,
    feedback,
    district_feedback,
):
    auditor = UserFactory(organization=f.make_city_bureau().org, roles=[Role.AUDITOR])
    may_see = {
        feedback: [requester, agency.staff, agency.admin, city.reviewer, auditor],
        district_feedback: [requester, district_agency.staff, district.reviewer, auditor],
    }
    may_not = {
        feedback: [other_requester, other_agency.staff, other_agency.admin, district.reviewer],
        district_feedback: [other_requester, agency.staff, other_district.reviewer, city.reviewer],
    }
    clients = {}  # one client per user: each new client sets up the middleware again

    def as_user(user):
        return clients.setdefault(user.pk, client(user))

    for fb, users in may_see.items():
        for user in users:
            assert as_user(user).get(detail_url(fb)).status_code == 200, user
            assert access_feedback(user, fb.pk) == fb
    for fb, users in may_not.items():
        for user in users:
            assert as_user(user).get(detail_url(fb)).status_code == 404, user
            with pytest.raises(Http404):
                access_feedback(user, fb.pk)
            # Nor can they act on it through the page.
            for action in ("reject", "propose_adjustment", "agree_no_change", "send_back"):
                response = as_user(user).post(
                    detail_url(fb), {"action": action, "comment": "看不见"}
                )
                assert response.status_code == 404
    assert as_user(requester).get("/catalog/feedback/999999999/").status_code == 404
    assert client().get(detail_url(feedback)).status_code == 302  # to the login page
    for fb in (feedback, district_feedback):
        fb.refresh_from_db()
        assert fb.state == F.OPEN


def test_the_list_shows_only_what_the_viewer_may_see(
    requester,
    other_requester,
    agency,
    other_agency,
    city,
    district,
    other_district,
    district_agency,
    published,
    district_published,
):
    other_published = f.make_published(other_agency, city.reviewer, name="企业登记信息")
    mine = report(requester, published.resource)
    mine_district = report(requester, district_published.resource)
    theirs = report(other_requester, other_published.resource)
    omission = services.feedback_create(
        acting_user=other_requester, kind="omission", description="缺少资源", provider=agency.org
    )

    def listed(user, **params):
        response = client(user).get("/catalog/feedback/", params)
        assert response.status_code == 200
        return {fb.pk for fb in response.context["page_obj"].object_list}

    expected = {
        requester: {mine, mine_district},
        other_requester: {theirs, omission},
        agency.staff: {mine, omission},
        agency.admin: {mine, omission},
        other_agency.staff: {theirs},
        city.reviewer: {mine, theirs, omission},
        district.reviewer: {mine_district},
        district_agency.staff: {mine_district},
        other_district.reviewer: set(),
    }
    for user, feedback_set in expected.items():
        assert listed(user) == {fb.pk for fb in feedback_set}, user.username
    assert listed(city.reviewer, state="open", q="缺少") == {omission.pk}
    move(mine, "propose_adjustment", agency.staff, comment="拟修订")
    assert listed(agency.staff, state="adjustment_proposed") == {mine.pk}
    assert listed(requester, state="adjustment_proposed") == {mine.pk}
    form = client(requester).get("/catalog/feedback/").context["form"]
    states = [value for value, _label in form.fields["state"].choices]
    assert "answered" not in states and "agreed" in states and "no_change" in states


# --- workflow events and work queues ------------------------------------------------------------


def test_every_move_writes_a_workflow_event_shown_on_the_timeline(
    requester, agency, city, published, feedback
):
    move(feedback, "propose_no_change", agency.staff, comment="已收到,无需调整")
    move(feedback, "send_back", city.reviewer, comment="请再核实")
    move(feedback, "propose_adjustment", agency.admin, comment="拟更正")
    move(feedback, "agree_adjustment", city.reviewer, comment="同意")
    revision = services.resource_revise(resource=published.resource, acting_user=agency.staff)
    move(feedback, "adjust", agency.admin, comment="已更正", version=revision)
    other = report(requester, published.resource, kind="data_quality")
    move(other, "reject", city.reviewer, comment="不属实")
    assert events(feedback) == [
        ("propose_no_change", F.OPEN, F.NO_CHANGE_PROPOSED, agency.staff.pk, "已收到,无需调整"),
        ("send_back", F.NO_CHANGE_PROPOSED, F.RETURNED, city.reviewer.pk, "请再核实"),
        ("propose_adjustment", F.RETURNED, F.ADJUSTMENT_PROPOSED, agency.admin.pk, "拟更正"),
        ("agree_adjustment", F.ADJUSTMENT_PROPOSED, F.AGREED, city.reviewer.pk, "同意"),
        ("adjust", F.AGREED, F.ADJUSTED, agency.admin.pk, "已更正"),
    ]
    assert events(other) == [("reject", F.OPEN, F.REJECTED, city.reviewer.pk, "不属实")]
    # The detail page shows the moves, with their labels, to those who see the report.
    page = client(requester).get(detail_url(feedback))
    timeline = page.context["events"]
    assert [e.transition for e in timeline] == [
        "propose_no_change",
        "send_back",
        "propose_adjustment",
        "agree_adjustment",
        "adjust",
    ]
    html = page.content.decode()
    for e in timeline:
        assert str(e.label) in html and e.comment in html


def _queue(user, key) -> list[str]:
    from wuhan_pdr.accounts.roles import user_roles

    sources = {source.key: items for source, items in queues_for(user, user_roles(user))}
    return [item.url for item in sources.get(key, [])]


def test_work_queues_list_feedback_for_whoever_acts_next(
    requester, agency, other_agency, city, district, district_agency, feedback, district_feedback
):
    url = detail_url(feedback)
    assert _queue(agency.staff, "feedback_to_answer") == [url]
    assert _queue(agency.admin, "feedback_to_answer") == [url]
    assert _queue(other_agency.staff, "feedback_to_answer") == []
    assert _queue(district_agency.staff, "feedback_to_answer") == [detail_url(district_feedback)]
    assert _queue(city.reviewer, "feedback_to_decide") == []  # nothing proposed yet
    assert _queue(requester, "feedback_to_answer") == []

    move(feedback, "propose_adjustment", agency.staff, comment="已核实")
    assert _queue(agency.staff, "feedback_to_answer") == []
    assert _queue(city.reviewer, "feedback_to_decide") == [url]
    assert _queue(district.reviewer, "feedback_to_decide") == []  # not its provider
    [work] = next(
        items
        for source, items in queues_for(city.reviewer, {Role.CITY_REVIEWER})
        if source.key == "feedback_to_decide"
    )
    assert work.title.startswith(f"#{feedback.pk} ")
    assert feedback.resource.code in work.title
    assert work.deadline == CatalogFeedback.objects.get(pk=feedback.pk).step_deadline
    assert not work.overdue

    # Sent back: with the provider again.
    move(feedback, "send_back", city.reviewer, comment="请补充")
    assert _queue(city.reviewer, "feedback_to_decide") == []
    assert _queue(agency.staff, "feedback_to_answer") == [url]

    # Agreed: the provider has an adjustment to make.
    move(feedback, "propose_adjustment", agency.staff, comment="补充后拟修订")
    move(feedback, "agree_adjustment", city.reviewer)
    assert _queue(agency.staff, "feedback_to_answer") == []
    assert _queue(agency.admin, "feedback_to_adjust") == [url]
    assert _queue(other_agency.admin, "feedback_to_adjust") == []
    assert _queue(city.reviewer, "feedback_to_decide") == []

    # A district agency's proposal waits for its district bureau only.
    move(district_feedback, "propose_no_change", district_agency.staff, comment="无需调整")
    assert _queue(district.reviewer, "feedback_to_decide") == [detail_url(district_feedback)]
    assert _queue(city.reviewer, "feedback_to_decide") == []


# --- moving reports of the earlier procedure (migration 0009) ------------------------------------


def test_answered_reports_go_back_to_the_provider_with_a_note_on_their_timeline(
    requester, agency, city, feedback
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("catalog.migrations.0009_feedback_agreement_by_the_bureau")
    deadline = feedback.step_deadline
    CatalogFeedback.objects.filter(pk=feedback.pk).update(
        state=F.ANSWERED, answer="已收到,将核实。"
    )
    untouched = report(requester, feedback.resource, kind="error")
    # The platform's own moves are never a user's, even from the state they start from.
    for action in ("procedure_changed", "answer"):
        with pytest.raises(TransitionNotAllowed):
            move(feedback, action, city.reviewer, comment="手工迁移")
        assert post(agency.staff, feedback, action, "手工迁移").status_code == 200
    assert events(feedback) == []
    migration.answered_back_to_the_provider(apps, None)
    feedback.refresh_from_db()
    assert (feedback.state, feedback.answer, feedback.step_deadline) == (
        F.RETURNED,
        "已收到,将核实。",
        deadline,
    )
    [(transition, from_state, to_state, actor, comment)] = events(feedback)
    assert (transition, from_state, to_state, actor) == (
        "procedure_changed",
        F.ANSWERED,
        F.RETURNED,
        None,
    )
    assert "Art. 14" in comment
    untouched.refresh_from_db()
    assert untouched.state == F.OPEN and events(untouched) == []
    # The provider then proposes as for any report sent back.
    page = client(agency.staff).get(detail_url(feedback))
    assert {t.name for t in page.context["actions"]} == {"propose_adjustment", "propose_no_change"}
    labels = [str(e.label) for e in page.context["events"]]
    assert labels == [str(feedback_workflow.get("procedure_changed").label)]
    assert set(_queue(agency.staff, "feedback_to_answer")) == {
        detail_url(untouched),
        detail_url(feedback),
    }
    # And the move back for a reversed migration.
    migration.returned_back_to_answered(apps, None)
    feedback.refresh_from_db()
    assert feedback.state == F.ANSWERED and events(feedback) == []


# --- naughty strings ----------------------------------------------------------------------------


def test_naughty_descriptions_never_break_the_form(requester, agency):
    """Every string of the Big List of Naughty Strings (and a NUL, which PostgreSQL text
    refuses) as a description: stored as sent (less surrounding white space) or refused by
    the form with a message, never a server error."""
    strings = [*naughty_strings(), "空字符\x00在中间", "\x00"]
    c = client(requester)
    c.raise_request_exception = False  # a 500 is asserted on, with the string that caused it
    refused = []
    for s in strings:
        before = CatalogFeedback.objects.count()
        c.cookies.pop("messages", None)  # the redirects are not followed: drop the notices
        response = c.post(
            form_url(), {"kind": "other", "provider": agency.org.pk, "description": s}
        )
        assert response.status_code in (200, 302), repr(s)
        if response.status_code == 302:
            fb = CatalogFeedback.objects.latest("pk")
            assert response["Location"] == detail_url(fb), repr(s)
            assert fb.description == s.strip(), repr(s)
        else:
            assert CatalogFeedback.objects.count() == before, repr(s)
            assert response.context["form"].errors.get("description"), repr(s)
            refused.append(s)
    assert all("\x00" in s or not s.strip() for s in refused), [repr(s) for s in refused]
    assert {"空字符\x00在中间", "\x00"} <= set(refused)
    # Script-like descriptions come back escaped on the page.
    for fb in CatalogFeedback.objects.filter(description__icontains="<script"):
        page = c.get(detail_url(fb)).content.decode()
        assert fb.description not in page, repr(fb.description)
