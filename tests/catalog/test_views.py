"""Catalog pages as each role sees them: the public catalog, a resource, a version with its
history, the filing form, and the work lists. Forbidden access is in test_permissions.py."""

from __future__ import annotations

import pytest
from django.test import Client

from catalog import services
from catalog.models import ResourceVersion

from . import factories as f
from .test_permissions import filing_post

pytestmark = pytest.mark.django_db
S = ResourceVersion.State
# Open under conditions: in the open catalog that anonymous visitors see.
OPEN = {"open_type": "conditional", "open_conditions": "经审批后开放。", "open_legal_basis": ""}


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_public_catalog_lists_published_entries_only(agency, city):
    f.make_published(agency, city.reviewer, name="户籍人口基本信息", **OPEN)
    f.make_draft(agency, name="草稿里的资源", **OPEN)
    page = text(client().get("/catalog/"))
    assert "户籍人口基本信息" in page
    assert "草稿里的资源" not in page
    page = text(client().get("/catalog/", {"q": "户籍"}))
    assert "户籍人口基本信息" in page
    assert "户籍人口基本信息" not in text(client().get("/catalog/", {"q": "法人"}))


def test_public_resource_page_shows_the_published_version(agency, city):
    version = f.make_published(agency, city.reviewer, name="户籍人口基本信息", **OPEN)
    page = text(client().get(f"/catalog/resources/{version.resource.pk}/"))
    assert "户籍人口基本信息" in page
    assert version.resource.code in page


def test_filer_sees_its_draft_with_the_submit_action(agency, draft):
    response = client(agency.staff).get(f"/catalog/versions/{draft.pk}/")
    assert draft.name in text(response)
    assert "submit" in [t.name for t in response.context["actions"]]


def test_reviewer_sees_its_actions_on_an_approved_entry(agency, city, draft):
    f.approve(draft, agency)
    response = client(city.reviewer).get(f"/catalog/versions/{draft.pk}/")
    assert response.status_code == 200
    assert {t.name for t in response.context["actions"]} == {"review", "review_return"}


def test_workflow_comments_are_shown_to_insiders_only(agency, other_agency, city):
    draft = f.make_draft(agency, **OPEN)
    services.resource_transition(version=draft, action="submit", acting_user=agency.staff)
    services.resource_transition(
        version=draft, action="agency_return", acting_user=agency.admin, comment="内部意见甲乙丙"
    )
    version = f.publish(draft, agency, city.reviewer)
    url = f"/catalog/versions/{version.pk}/"
    assert "内部意见甲乙丙" in text(client(agency.staff).get(url))
    assert "内部意见甲乙丙" in text(client(city.reviewer).get(url))
    for outsider in (None, other_agency.staff):
        response = client(outsider).get(url)
        assert "内部意见甲乙丙" not in text(response)
        assert response.context["events"] is None


def test_filing_form_opens_for_staff(agency, draft):
    assert text(client(agency.staff).get("/catalog/new/"))
    assert draft.name in text(client(agency.staff).get(f"/catalog/versions/{draft.pk}/edit/"))


def test_submitting_a_broken_form_saves_the_draft_and_shows_the_problems(agency):
    data = {**filing_post(name="缺摘要的资源", summary=""), "submit_after_save": "1"}
    staff = client(agency.staff)
    response = staff.post("/catalog/new/", data)
    version = ResourceVersion.objects.get(name="缺摘要的资源")
    assert version.state == S.DRAFT
    assert response.status_code == 302
    assert response["Location"] == f"/catalog/versions/{version.pk}/edit/?check=1"
    response = staff.get(response["Location"])
    assert response.status_code == 200
    assert "summary" in response.context["form"].errors


def test_invalid_form_saves_nothing(agency):
    data = filing_post(name="")
    response = client(agency.staff).post("/catalog/new/", data)
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not ResourceVersion.objects.exists()


def test_my_resources_lists_the_own_agency_only(agency, other_agency, draft):
    f.make_draft(other_agency, name="别家的草稿")
    page = text(client(agency.staff).get("/catalog/mine/"))
    assert draft.name in page
    assert "别家的草稿" not in page


def test_review_list_shows_what_the_reviewer_reviews(agency, city, district_agency, district):
    f.approve(f.make_draft(agency, name="市级待审资源"), agency)
    f.approve(f.make_draft(district_agency, name="区级待审资源"), district_agency)
    city_page = text(client(city.reviewer).get("/catalog/review/"))
    district_page = text(client(district.reviewer).get("/catalog/review/"))
    assert "市级待审资源" in city_page and "区级待审资源" not in city_page
    assert "区级待审资源" in district_page and "市级待审资源" not in district_page


def test_version_list_hides_the_open_revision_from_other_agencies(agency, other_agency, city):
    v1 = f.publish(f.make_draft(agency, **OPEN), agency, city.reviewer)
    v2 = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    url = f"/catalog/resources/{v1.resource.pk}/versions/"
    assert [v.pk for v in client(agency.staff).get(url).context["versions"]] == [v2.pk, v1.pk]
    assert [v.pk for v in client(other_agency.staff).get(url).context["versions"]] == [v1.pk]
    assert [v.pk for v in client().get(url).context["versions"]] == [v1.pk]


def test_submitting_an_edit_with_a_broken_item_marks_its_row(agency, draft):
    data = filing_post()
    data["items-1-length"] = ""  # 姓名 is of type C and needs a length
    data["submit_after_save"] = "1"
    response = client(agency.staff).post(f"/catalog/versions/{draft.pk}/edit/", data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert "length" in formset.forms[1].errors
    assert not formset.forms[0].errors
    draft.refresh_from_db()
    assert draft.state == S.DRAFT
    assert draft.items.get(position=2).length is None


def test_revision_keeps_the_classification_of_a_published_resource(agency, city, draft):
    v1 = f.publish(draft, agency, city.reviewer)
    v2 = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    data = filing_post()
    data["classification"] = f.classification("201").pk
    response = client(agency.staff).post(f"/catalog/versions/{v2.pk}/edit/", data)
    assert response.status_code == 200
    assert "classification" in response.context["form"].errors
    v1.resource.refresh_from_db()
    assert v1.resource.code.startswith("101/")


def test_version_page_shows_what_changed_since_the_previous_version(agency, city, draft):
    v1 = f.publish(draft, agency, city.reviewer)
    v2 = services.resource_revise(resource=v1.resource, acting_user=agency.staff)
    items = f.valid_items()
    items[0]["length"] = 20  # changed
    del items[1]  # 姓名 removed
    items.append({"name": "性别", "english_name": "sex", "data_type": "C", "length": 1})  # added
    services.resource_draft_update(
        version=v2,
        acting_user=agency.staff,
        fields={
            "name": "户籍人口信息(第二版)",
            "open_type": "conditional",
            "open_conditions": "经审批。",
        },
        items=items,
    )
    response = client(agency.staff).get(f"/catalog/versions/{v2.pk}/")
    assert response.status_code == 200
    assert response.context["previous"].pk == v1.pk
    fields, item_changes = response.context["changes"]
    changed = {c.old: c.new for c in fields}
    assert changed["户籍人口基本信息"] == "户籍人口信息(第二版)"
    assert len(fields) == 3  # name, open type, open conditions
    kinds = {c.name: c.kind for c in item_changes}
    assert kinds == {"公民身份号码": "changed", "姓名": "removed", "性别": "added"}
    [length] = [c for c in item_changes if c.kind == "changed"][0].changes
    assert (length.old, length.new) == ("18", "20")
    assert "户籍人口信息(第二版)" in response.content.decode()
