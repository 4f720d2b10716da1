"""Who sees which version (catalog/permissions.py) and the filing pages' answers to people of
other agencies: 404, the same as for a missing record."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import Client

from catalog import services
from catalog.models import ResourceVersion
from catalog.permissions import access_version
from tests.accounts.factories import OrganizationFactory, UserFactory
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

from . import factories as f

pytestmark = pytest.mark.django_db
S = ResourceVersion.State


def _company() -> Organization:
    return OrganizationFactory(kind=Organization.Kind.USER_ORG)


def sees(user, version) -> bool:
    try:
        return access_version(user, version.pk).pk == version.pk
    except Http404:
        return False


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


# --- access_version ------------------------------------------------------------------------


def test_other_agency_staff_gets_404_for_a_draft(agency, other_agency, draft):
    with pytest.raises(Http404):
        access_version(other_agency.staff, draft.pk)
    with pytest.raises(Http404):
        access_version(other_agency.admin, draft.pk)


def test_anonymous_gets_404_for_a_draft(draft):
    with pytest.raises(Http404):
        access_version(AnonymousUser(), draft.pk)


def test_missing_version_gets_the_same_404(agency):
    with pytest.raises(Http404):
        access_version(agency.staff, 999_999_999)


def test_own_agency_sees_its_draft(agency, draft):
    assert sees(agency.staff, draft)
    assert sees(agency.admin, draft)


def test_city_reviewer_does_not_see_drafts_but_sees_submissions(agency, city, draft):
    assert not sees(city.reviewer, draft)
    services.resource_transition(version=draft, action="submit", acting_user=agency.staff)
    assert sees(city.reviewer, draft)


def test_district_reviewer_sees_only_its_own_district_submissions(
    district_agency, district, other_district, city
):
    version = f.make_draft(district_agency)
    assert not sees(district.reviewer, version)
    services.resource_transition(
        version=version, action="submit", acting_user=district_agency.staff
    )
    assert sees(district.reviewer, version)
    assert not sees(other_district.reviewer, version)
    assert not sees(city.reviewer, version)


def test_district_reviewer_does_not_see_city_agency_submissions(agency, district, draft):
    services.resource_transition(version=draft, action="submit", acting_user=agency.staff)
    assert not sees(district.reviewer, draft)


def test_published_open_versions_are_visible_to_everyone(agency, other_agency, city, district):
    version = f.make_published(
        agency,
        city.reviewer,
        open_type="conditional",
        open_conditions="经审批后开放。",
        open_legal_basis="",
    )
    for user in (
        AnonymousUser(),
        UserFactory(organization=_company(), roles=[Role.REQUESTER]),
        other_agency.staff,
        other_agency.admin,
        district.reviewer,
        city.reviewer,
    ):
        assert sees(user, version), user


def test_published_versions_not_open_are_visible_to_public_bodies_only(
    agency, other_agency, city, district, draft
):
    version = f.publish(draft, agency, city.reviewer)
    assert version.open_type == "none"
    for user in (
        other_agency.staff,
        other_agency.admin,
        district.reviewer,
        city.reviewer,
        UserFactory(roles=[Role.REQUESTER]),  # of a city agency
        UserFactory(organization=_company(), roles=[Role.SECURITY_ADMIN]),
    ):
        assert sees(user, version), user
    for user in (
        AnonymousUser(),
        UserFactory(organization=_company(), roles=[Role.REQUESTER]),
        UserFactory(organization=_company(), roles=[Role.OPERATOR]),
        UserFactory(organization=_company(), roles=[]),
    ):
        assert not sees(user, version), user


def test_inactive_government_user_sees_the_open_catalog_only(agency, city, draft):
    version = f.publish(draft, agency, city.reviewer)
    staff = f.make_agency().staff
    staff.is_active = False
    assert not sees(staff, version)


def test_superseded_version_stays_visible_but_its_successor_draft_does_not(
    agency, other_agency, city, draft
):
    v1 = f.publish(draft, agency, city.reviewer)
    v2 = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    assert sees(other_agency.staff, v1)
    assert not sees(other_agency.staff, v2)
    assert sees(agency.staff, v2)


def test_auditor_sees_every_version(agency, district_agency, draft):
    auditor = UserFactory(organization=f.make_city_bureau().org, roles=[Role.AUDITOR])
    assert sees(auditor, draft)
    assert sees(auditor, f.make_draft(district_agency))


# --- pages ---------------------------------------------------------------------------------


def _item_post(items: list[dict]) -> dict:
    data = {
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "500",
    }
    for i, item in enumerate(items):
        for key, value in item.items():
            if isinstance(value, bool):
                if value:
                    data[f"items-{i}-{key}"] = "on"
            elif value is not None:
                data[f"items-{i}-{key}"] = str(value)
    return data


def filing_post(**overrides) -> dict:
    fields = f.valid_fields(**overrides)
    data = {k: (v.pk if k == "grade" else v) for k, v in fields.items()}
    data["classification"] = f.classification("101").pk
    data.update(_item_post(f.valid_items()))
    return data


@pytest.mark.parametrize("path", ["/catalog/versions/{pk}/", "/catalog/versions/{pk}/edit/"])
def test_other_agency_staff_gets_404_from_the_version_pages(path, other_agency, draft):
    assert client(other_agency.staff).get(path.format(pk=draft.pk)).status_code == 404


def test_other_agency_staff_gets_404_from_the_edit_page_of_a_published_version(
    agency, other_agency, city, draft
):
    version = f.publish(draft, agency, city.reviewer)
    assert (
        client(other_agency.staff).get(f"/catalog/versions/{version.pk}/edit/").status_code == 404
    )


def test_other_agency_staff_gets_404_when_posting_an_action(other_agency, draft):
    response = client(other_agency.staff).post(
        f"/catalog/versions/{draft.pk}/action/", {"action": "submit"}
    )
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_other_agency_staff_gets_404_when_posting_an_edit(other_agency, draft):
    response = client(other_agency.staff).post(
        f"/catalog/versions/{draft.pk}/edit/", filing_post(name="篡改")
    )
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.name == f.valid_fields()["name"]


def test_anonymous_gets_404_for_a_draft_version_page(draft):
    assert client().get(f"/catalog/versions/{draft.pk}/").status_code == 404


def test_anonymous_is_sent_to_login_from_the_filing_pages(draft):
    for path in (f"/catalog/versions/{draft.pk}/edit/", "/catalog/new/"):
        response = client().get(path)
        assert response.status_code == 302, path
        assert "login" in response["Location"], path
    response = client().post(f"/catalog/versions/{draft.pk}/action/", {"action": "submit"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_filer_submits_through_the_action_page(agency, draft):
    response = client(agency.staff).post(
        f"/catalog/versions/{draft.pk}/action/", {"action": "submit", "comment": "请审核"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/catalog/versions/{draft.pk}/"
    draft.refresh_from_db()
    assert draft.state == S.SUBMITTED


def test_action_refused_by_the_workflow_changes_nothing(agency, draft):
    response = client(agency.staff).post(
        f"/catalog/versions/{draft.pk}/action/", {"action": "publish"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == S.DRAFT


def test_submitting_a_broken_entry_sends_the_filer_to_the_edit_page(agency):
    version = f.make_draft(agency, summary="")
    response = client(agency.staff).post(
        f"/catalog/versions/{version.pk}/action/", {"action": "submit"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/catalog/versions/{version.pk}/edit/?check=1"
    version.refresh_from_db()
    assert version.state == S.DRAFT


def test_filer_files_a_new_entry_by_submitting_the_form(agency):
    response = client(agency.staff).post("/catalog/new/", filing_post(name="新建人口信息"))
    assert response.status_code == 302
    version = ResourceVersion.objects.get(name="新建人口信息")
    assert response["Location"] == f"/catalog/versions/{version.pk}/"
    assert (version.state, version.resource.provider_id, version.created_by_id) == (
        S.DRAFT,
        agency.org.pk,
        agency.staff.pk,
    )
    assert [i.name for i in version.items.all()] == [i["name"] for i in f.valid_items()]


def test_filer_files_and_submits_in_one_step(agency):
    response = client(agency.staff).post(
        "/catalog/new/", {**filing_post(name="直接提交的资源"), "submit_after_save": "1"}
    )
    assert response.status_code == 302
    assert ResourceVersion.objects.get(name="直接提交的资源").state == S.SUBMITTED


def test_reviewer_cannot_file_entries(city):
    response = client(city.reviewer).post("/catalog/new/", filing_post(name="审核人建的资源"))
    assert response.status_code == 404
    assert not ResourceVersion.objects.filter(name="审核人建的资源").exists()


def test_filer_edits_a_draft_by_submitting_the_form(agency, draft):
    response = client(agency.staff).post(
        f"/catalog/versions/{draft.pk}/edit/", filing_post(name="改过的名称")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.name == "改过的名称"


def test_revise_page_answers_404_to_other_agencies(agency, other_agency, city, draft):
    version = f.publish(draft, agency, city.reviewer)
    url = f"/catalog/resources/{version.resource.pk}/revise/"
    assert client(other_agency.staff).post(url).status_code == 404
    assert version.resource.versions.count() == 1
    response = client(agency.staff).post(url)
    assert response.status_code == 302
    v2 = version.resource.versions.get(number=2)
    assert response["Location"] == f"/catalog/versions/{v2.pk}/edit/"


def test_unpublished_resource_pages_answer_404(other_agency, draft):
    resource_id = draft.resource_id
    assert client().get(f"/catalog/resources/{resource_id}/").status_code == 404
    assert (
        client(other_agency.staff).get(f"/catalog/resources/{resource_id}/versions/").status_code
        == 404
    )


def test_work_lists_answer_404_to_the_wrong_roles(agency, city):
    assert client(agency.staff).get("/catalog/review/").status_code == 404
    assert client(city.reviewer).get("/catalog/mine/").status_code == 404
