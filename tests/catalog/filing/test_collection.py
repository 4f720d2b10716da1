"""Collection lists (采集清单, Art. 4): each agency edits its own, the bureau sees all; search,
filters, Excel export, history."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from catalog.filing import services
from catalog.filing.models import CollectionListEntry
from tests.catalog import factories as f
from wuhan_pdr.kernel.errors import AccessDenied, DomainError

pytestmark = pytest.mark.django_db


def fields(**overrides) -> dict:
    data = {
        "data_name": "婚姻登记信息",
        "legal_basis": "《婚姻登记条例》第七条",
        "norms": "MZ/T 093-2017",
        "method": "form",
        "frequency": "on_occurrence",
        "subject_scope": "办理婚姻登记的当事人",
    }
    data.update(overrides)
    return data


def make_entry(agency, resource=None, **overrides):
    return services.collection_entry_create(
        organization=agency.org,
        fields=fields(**overrides),
        resource=resource,
        acting_user=agency.staff,
    )


def test_agency_adds_an_entry_linked_to_its_resource(agency):
    draft = f.make_draft(agency)
    entry = make_entry(agency, resource=draft.resource)
    assert entry.resource == draft.resource
    assert entry.history.latest().history_user == agency.staff


def test_linking_another_agencys_resource_is_refused(agency, other_agency):
    theirs = f.make_draft(other_agency)
    with pytest.raises(DomainError) as exc:
        make_entry(agency, resource=theirs.resource)
    assert exc.value.field == "resource"


def test_duplicate_data_name_is_refused(agency):
    make_entry(agency)
    with pytest.raises(DomainError) as exc:
        make_entry(agency)
    assert exc.value.field == "data_name"


def test_other_agency_cannot_edit_or_delete(agency, other_agency):
    entry = make_entry(agency)
    with pytest.raises(AccessDenied):
        services.collection_entry_update(
            entry=entry, fields=fields(norms="x"), acting_user=other_agency.staff
        )
    with pytest.raises(AccessDenied):
        services.collection_entry_delete(entry=entry, acting_user=other_agency.staff)


def test_delete_keeps_history_naming_the_actor(agency):
    entry = make_entry(agency)
    pk = entry.pk
    services.collection_entry_delete(entry=entry, acting_user=agency.admin)
    assert not CollectionListEntry.objects.filter(pk=pk).exists()
    last = CollectionListEntry.history.filter(id=pk).latest()
    assert last.history_type == "-" and last.history_user == agency.admin


# --- pages ---------------------------------------------------------------------------------


def test_add_page_and_list(agency, login):
    c = login(agency.staff)
    r = c.post(reverse("filing:collection_create"), {**fields(), "resource": ""})
    assert r.status_code == 302
    r = c.get(reverse("filing:collection"))
    assert "婚姻登记信息" in r.content.decode()


def test_add_page_names_the_wrong_field(agency, login):
    r = login(agency.staff).post(
        reverse("filing:collection_create"), {**fields(method="carrier-pigeon"), "data_name": ""}
    )
    assert r.status_code == 200
    assert r.context["form"].errors.keys() >= {"method", "data_name"}


def test_edit_and_delete_pages_are_404_for_other_agencies_and_bureau(
    agency, other_agency, city, login
):
    entry = make_entry(agency)
    for user in (other_agency.staff, city.reviewer):
        c = login(user)
        assert c.get(reverse("filing:collection_edit", kwargs={"pk": entry.pk})).status_code == 404
        assert (
            c.post(reverse("filing:collection_delete", kwargs={"pk": entry.pk})).status_code == 404
        )
    assert CollectionListEntry.objects.filter(pk=entry.pk).exists()


def test_edit_page_saves_and_delete_page_removes(agency, login):
    entry = make_entry(agency)
    c = login(agency.staff)
    r = c.post(
        reverse("filing:collection_edit", kwargs={"pk": entry.pk}),
        {**fields(norms="新规范"), "resource": ""},
    )
    assert r.status_code == 302
    entry.refresh_from_db()
    assert entry.norms == "新规范"
    c.post(reverse("filing:collection_delete", kwargs={"pk": entry.pk}))
    assert not CollectionListEntry.objects.exists()


def test_agency_sees_its_own_list_bureau_sees_all_and_filters(
    agency, other_agency, city, login, django_assert_max_num_queries
):
    make_entry(agency)
    make_entry(other_agency, data_name="学籍信息", method="system")
    r = login(agency.staff).get(reverse("filing:collection"))
    body = r.content.decode()
    assert "婚姻登记信息" in body and "学籍信息" not in body
    c = login(city.reviewer)
    with django_assert_max_num_queries(15):
        r = c.get(reverse("filing:collection"))
    assert len(r.context["page_obj"].object_list) == 2
    r = c.get(reverse("filing:collection"), {"method": "system"})
    assert [e.data_name for e in r.context["page_obj"].object_list] == ["学籍信息"]
    r = c.get(reverse("filing:collection"), {"organization": agency.org.pk})
    assert [e.data_name for e in r.context["page_obj"].object_list] == ["婚姻登记信息"]
    r = c.get(reverse("filing:collection"), {"q": "学籍"})
    assert [e.data_name for e in r.context["page_obj"].object_list] == ["学籍信息"]
    r = c.get(reverse("filing:collection"), {"organization": "not-a-number", "method": "x"})
    assert r.status_code == 200


def test_export_is_restricted_and_formula_safe(agency, other_agency, login):
    make_entry(agency, norms='=HYPERLINK("http://evil")')
    make_entry(other_agency, data_name="学籍信息")
    r = login(agency.staff).get(reverse("filing:collection_export"))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == "婚姻登记信息"
    cell = wb.active.cell(row=2, column=4)
    assert cell.data_type == "s" and cell.value.startswith("=")


def test_requester_cannot_export(db, login):
    from tests.accounts.factories import UserFactory
    from wuhan_pdr.accounts.roles import Role

    r = login(UserFactory(roles=[Role.REQUESTER])).get(reverse("filing:collection_export"))
    assert r.status_code == 404
