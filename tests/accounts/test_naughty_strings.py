"""The Big List of Naughty Strings in the text inputs of the account pages: no input may
cause a server error, and what is stored comes back unchanged (form fields trim surrounding
whitespace, as Django's CharField does) or is refused with a message. Pages that show the
stored strings again must escape them."""

import json

import pytest

from tests.accounts.factories import credit_code, division
from wuhan_pdr.accounts.models import Organization, User

pytestmark = pytest.mark.django_db


def refused_with_a_message(response) -> bool:
    return response.status_code == 200 and bool(response.context["form"].errors)


def all_pages(client, url, params=None):
    """Every page of a paginated list, following its page numbers."""
    page = 1
    while True:
        response = client.get(url, {**(params or {}), "page": page})
        assert response.status_code == 200
        yield response
        if not response.context["page_obj"].has_next():
            return
        page += 1


def assert_shown_escaped(pages, values):
    """No stored value with markup in it appears verbatim (unescaped) in the pages."""
    html = "".join(p.content.decode() for p in pages)
    risky = [v for v in values if "<" in v or ">" in v]
    assert risky
    assert [v for v in risky if v in html] == []


def test_directory_search_survives_naughty_strings(client, naughty, bureau):
    for s in naughty:
        response = client.get("/organizations/", {"q": s})
        assert response.status_code == 200, repr(s)


def test_user_management_search_survives_naughty_strings(system_admin, staff_a, login, naughty):
    client = login(system_admin)
    for s in naughty:
        response = client.get("/manage/users/", {"q": s})
        assert response.status_code == 200, repr(s)


def test_create_user_form_stores_naughty_full_names_unchanged_or_refuses_them(
    system_admin, agency_a, login, naughty
):
    client = login(system_admin)
    expected, refused = {}, 0
    for i, s in enumerate(naughty):
        username = f"naughty{i}"
        response = client.post(
            "/manage/users/new/",
            {
                "username": username,
                "full_name": s,
                "organization": agency_a.pk,
                "roles": ["agency_staff"],
                "email": "",
                "phone": "",
                "password1": "Hankou-Bridge-2025",
                "password2": "Hankou-Bridge-2025",
            },
        )
        assert response.status_code in (200, 302), repr(s)
        if response.status_code == 302:
            expected[username] = s.strip()
        else:
            assert refused_with_a_message(response), repr(s)
            refused += 1

    stored = dict(
        User.objects.filter(username__startswith="naughty").values_list("username", "full_name")
    )
    assert stored == expected
    assert len(stored) > 300 and refused > 0
    pages = list(all_pages(client, "/manage/users/", {"organization": agency_a.pk}))
    shown = {u.username: u.full_name for p in pages for u in p.context["page_obj"]}
    assert {k: v for k, v in shown.items() if k in stored} == stored
    assert_shown_escaped(pages, stored.values())
    some = User.objects.get(username=next(k for k, v in stored.items() if "<" in v))
    assert client.get(f"/manage/users/{some.pk}/").status_code == 200


def test_organization_form_stores_naughty_names_and_addresses_unchanged_or_refuses_them(
    system_admin, login, naughty, client
):
    admin = login(system_admin)
    expected, refused = {}, 0
    for i, s in enumerate(naughty):
        code = credit_code(800_000 + i)
        response = admin.post(
            "/manage/organizations/new/",
            {
                "name": s,
                "short_name": "",
                "kind": "city_agency",
                "division": division().pk,
                "credit_code": code,
                "address": s,
                "contact_person": "",
                "contact_phone": "",
                "is_active": "on",
            },
        )
        assert response.status_code in (200, 302), repr(s)
        if response.status_code == 302:
            expected[code] = (s.strip(), s.strip())
        else:
            assert refused_with_a_message(response), repr(s)
            refused += 1

    stored = {
        code: (name, address)
        for code, name, address in Organization.objects.filter(
            credit_code__in=expected
        ).values_list("credit_code", "name", "address")
    }
    assert stored == expected
    assert len(stored) > 300 and refused > 0
    # Lists, the public detail page and the API show them without an error.
    pages = list(all_pages(client, "/organizations/", {"kind": "city_agency"}))
    shown = {o.credit_code: o.name for p in pages for o in p.context["page_obj"]}
    assert {shown[c] for c in stored} == {name for name, _ in stored.values()}
    assert_shown_escaped(pages, [name for name, _ in stored.values()])
    pages = list(all_pages(admin, "/manage/organizations/"))
    assert_shown_escaped(pages, [name for name, _ in stored.values()])
    some = Organization.objects.get(credit_code=next(c for c, v in stored.items() if "<" in v[0]))
    assert client.get(f"/organizations/{some.pk}/").status_code == 200
    assert admin.get(f"/manage/organizations/{some.pk}/").status_code == 200
    page = 1
    while page:
        response = client.get("/api/v1/organizations/", {"page": page})
        assert response.status_code == 200
        page = page + 1 if json.loads(response.content)["next"] else 0
