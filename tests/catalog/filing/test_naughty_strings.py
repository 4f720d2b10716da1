"""The Big List of Naughty Strings in the filing pages' text inputs and searches: no input
causes a server error; what is stored comes back unchanged (trimmed) or is refused with a
message; pages that show stored strings escape them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from catalog.filing.models import CollectionListEntry, InformationSystem, ITProject

pytestmark = pytest.mark.django_db


def test_searches_survive_naughty_strings(client, agency, city, naughty):
    client.force_login(city.reviewer)
    urls = [
        reverse("filing:systems"),
        reverse("filing:census"),
        reverse("filing:campaigns"),
        reverse("filing:projects"),
        reverse("filing:collection"),
    ]
    # Each string in one search box, taking the boxes in turn: every box sees ~100 strings.
    for i, s in enumerate(naughty):
        url = urls[i % len(urls)]
        response = client.get(url, {"q": s})
        assert response.status_code == 200, (url, repr(s))


def test_system_form_stores_naughty_text_unchanged_or_refuses_it(client, agency, naughty):
    client.force_login(agency.staff)
    stored = {}
    for i, s in enumerate(naughty):
        name = f"系统{i}"
        response = client.post(
            reverse("filing:system_create"),
            {
                "name": name,
                "purpose": s or "-",
                "builder": s,
                "budget_funded": "on",
                "database_kind": "postgresql",
                "status": "in_use",
                "contact_name": "张伟",
                "contact_phone": "027-85550000",
            },
        )
        assert response.status_code in (200, 302), repr(s)
        if response.status_code == 302:
            stored[name] = s
        else:
            assert response.context["form"].errors, repr(s)
    assert len(stored) > len(naughty) * 0.8
    systems = dict(InformationSystem.objects.filter(name__in=stored).values_list("name", "builder"))
    mismatched = [n for n, s in stored.items() if systems[n] != s.strip()]
    assert mismatched == []
    page = client.get(reverse("filing:systems"), {"page": 1})
    assert page.status_code == 200


def test_project_and_collection_forms_survive_naughty_strings(client, agency, naughty):
    client.force_login(agency.staff)
    created = 0
    for i, s in enumerate(naughty):
        response = client.post(
            reverse("filing:project_create"),
            {"name": f"项目{i}", "budget_amount": "1000", "year": "2026", "description": s},
        )
        assert response.status_code in (200, 302), repr(s)
        created += response.status_code == 302
        response = client.post(
            reverse("filing:collection_create"),
            {
                "data_name": s or "-",
                "legal_basis": s,
                "norms": s,
                "method": "form",
                "frequency": "daily",
                "subject_scope": s,
            },
        )
        assert response.status_code in (200, 302), repr(s)
    assert created == ITProject.objects.filter(organization=agency.org).count() > 0
    assert CollectionListEntry.objects.filter(organization=agency.org).exists()
    # Stored markup is shown escaped.
    html = client.get(reverse("filing:collection"), {"page": 1}).content.decode()
    assert "<script>alert(0)</script>" not in html


def test_bulk_filing_list_search_survives_naughty_strings(client, agency, naughty):
    client.force_login(agency.staff)
    for s in naughty:
        response = client.get("/catalog/bulk/", {"q": s})
        assert response.status_code == 200, repr(s)
