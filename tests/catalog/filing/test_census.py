"""The census of information systems: agencies register, edit and link their systems to
their own resources; the bureau's completeness board."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.filing import selectors, services
from catalog.filing.models import InformationSystem
from tests.catalog import factories as f
from wuhan_pdr.kernel.errors import AccessDenied, DomainError

from .conftest import make_system, system_fields

pytestmark = pytest.mark.django_db


def test_staff_registers_a_system_linked_to_own_resources(agency):
    draft = f.make_draft(agency)
    system = make_system(agency, resources=[draft.resource])
    assert list(system.resources.all()) == [draft.resource]
    assert system.census_complete
    record = system.history.latest()
    assert record.history_user == agency.staff


def test_linking_another_agencys_resource_is_refused(agency, other_agency):
    theirs = f.make_draft(other_agency)
    with pytest.raises(DomainError) as exc:
        make_system(agency, resources=[theirs.resource])
    assert exc.value.field == "resources"
    assert not InformationSystem.objects.exists()


def test_staff_cannot_register_for_another_agency(agency, other_agency):
    with pytest.raises(AccessDenied):
        services.system_create(
            organization=other_agency.org, fields=system_fields(), acting_user=agency.staff
        )


def test_duplicate_name_is_refused_on_the_name_field(agency):
    make_system(agency)
    with pytest.raises(DomainError) as exc:
        make_system(agency)
    assert exc.value.field == "name"


def test_update_changes_fields_and_links(agency):
    system = make_system(agency, builder="")
    assert not system.census_complete
    draft = f.make_draft(agency)
    system = services.system_update(
        system=system,
        fields={"builder": "某公司"},
        resources=[draft.resource],
        acting_user=agency.admin,
    )
    system.refresh_from_db()
    assert system.builder == "某公司" and system.census_complete
    assert system.resources.count() == 1


def test_census_board_counts(agency, other_agency, city):
    linked = f.make_draft(agency)
    f.make_draft(agency, name="另一资源")  # no system produces it
    make_system(agency, resources=[linked.resource])
    make_system(agency, name="第二系统", builder="")
    rows = {o.pk: o for o in selectors.census_board(city.reviewer)}
    a = rows[agency.org.pk]
    assert (a.n_systems, a.n_complete, a.n_linked, a.n_resources, a.n_unlinked) == (2, 1, 1, 2, 1)
    b = rows[other_agency.org.pk]
    assert (b.n_systems, b.n_complete, b.n_linked) == (0, 0, 0)


def test_district_reviewer_board_has_only_its_districts_agencies(
    district, district_agency, agency, other_district
):
    ids = {o.pk for o in selectors.census_board(district.reviewer)}
    assert ids == {district_agency.org.pk}
    assert not selectors.census_board(other_district.reviewer).exists()


# --- pages ---------------------------------------------------------------------------------


def test_register_page_creates_and_shows_the_system(agency, login):
    draft = f.make_draft(agency)
    c = login(agency.staff)
    data = {k: ("" if v is None else v) for k, v in system_fields().items()}
    data["budget_funded"] = "on"
    data["resources"] = [draft.resource.pk]
    r = c.post(reverse("filing:system_create"), data)
    system = InformationSystem.objects.get()
    assert r.status_code == 302 and r.url == reverse("filing:system", kwargs={"pk": system.pk})
    page = c.get(r.url)
    assert page.status_code == 200
    assert draft.resource.code in page.content.decode()


def test_register_page_names_the_wrong_field(agency, login):
    c = login(agency.staff)
    data = {k: ("" if v is None else v) for k, v in system_fields().items()}
    data["data_volume_gb"] = "-3"
    data["go_live_date"] = "not a date"
    r = c.post(reverse("filing:system_create"), data)
    assert r.status_code == 200
    assert r.context["form"].errors.keys() >= {"data_volume_gb", "go_live_date"}


def test_register_page_shows_only_own_resources(agency, other_agency, login):
    mine = f.make_draft(agency)
    theirs = f.make_draft(other_agency, name="别人的资源")
    r = login(agency.staff).get(reverse("filing:system_create"))
    body = r.content.decode()
    assert mine.resource.code in body and theirs.resource.code not in body


def test_posting_another_agencys_resource_is_a_form_error(agency, other_agency, login):
    theirs = f.make_draft(other_agency)
    data = {k: ("" if v is None else v) for k, v in system_fields().items()}
    data["resources"] = [theirs.resource.pk]
    r = login(agency.staff).post(reverse("filing:system_create"), data)
    assert r.status_code == 200 and "resources" in r.context["form"].errors
    assert not InformationSystem.objects.exists()


def test_other_agency_gets_404_on_system_pages(agency, other_agency, login):
    system = make_system(agency)
    c = login(other_agency.staff)
    assert c.get(reverse("filing:system", kwargs={"pk": system.pk})).status_code == 404
    assert c.get(reverse("filing:system_edit", kwargs={"pk": system.pk})).status_code == 404
    assert c.get(reverse("filing:system", kwargs={"pk": 999999})).status_code == 404


def test_bureau_reads_but_does_not_edit_a_system(agency, city, login):
    system = make_system(agency)
    c = login(city.reviewer)
    assert c.get(reverse("filing:system", kwargs={"pk": system.pk})).status_code == 200
    assert c.get(reverse("filing:system_edit", kwargs={"pk": system.pk})).status_code == 404


def test_edit_page_saves(agency, login):
    system = make_system(agency)
    data = {k: ("" if v is None else v) for k, v in system_fields(purpose="新的用途").items()}
    r = login(agency.admin).post(reverse("filing:system_edit", kwargs={"pk": system.pk}), data)
    assert r.status_code == 302
    system.refresh_from_db()
    assert system.purpose == "新的用途"


def test_system_list_shows_own_only_with_bounded_queries(
    agency, other_agency, login, django_assert_max_num_queries
):
    for i in range(5):
        make_system(agency, name=f"系统{i}")
    make_system(other_agency, name="别人的系统")
    c = login(agency.staff)
    with django_assert_max_num_queries(15):
        r = c.get(reverse("filing:systems"))
    body = r.content.decode()
    assert "系统4" in body and "别人的系统" not in body
    r = c.get(reverse("filing:systems"), {"q": "系统3"})
    assert len(r.context["page_obj"].object_list) == 1


def test_system_list_empty_state(agency, login):
    r = login(agency.staff).get(reverse("filing:systems"))
    assert "filing/systems/new/" in r.content.decode()


def test_requester_gets_404_on_filing_pages(db, login):
    from tests.accounts.factories import UserFactory
    from wuhan_pdr.accounts.roles import Role

    c = login(UserFactory(roles=[Role.REQUESTER]))
    for name in ("filing:home", "filing:systems", "filing:census", "filing:projects"):
        assert c.get(reverse(name)).status_code == 404, name


def test_census_board_page(agency, city, login, django_assert_max_num_queries):
    make_system(agency)
    c = login(city.reviewer)
    with django_assert_max_num_queries(15):
        r = c.get(reverse("filing:census"), {"q": agency.org.name})
    assert r.status_code == 200
    assert [o.pk for o in r.context["page_obj"].object_list] == [agency.org.pk]


def test_census_board_is_not_for_agencies(agency, login):
    assert login(agency.staff).get(reverse("filing:census")).status_code == 404
