"""The Content-Security-Policy (issue #11, item 2): every HTML page carries it, it allows no
inline script or style and nothing from another site, and the pages are written for it: no
template holds a style attribute, a <style> or an inline <script>, an on* handler or a
javascript: URL; the API documentation loads its start-up script from a URL; the 500 page
takes its style from a static file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import OrganizationFactory, UserFactory
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

TEMPLATES = Path(settings.BASE_DIR) / "templates"
STATIC_JS = Path(settings.BASE_DIR) / "static" / "js"

WANTED = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}


def policy_of(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.wsgi_request.path}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


def assert_strict(response) -> None:
    policy = policy_of(response)
    assert policy == WANTED, policy
    for sources in policy.values():
        assert not sources & {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"}


@pytest.mark.django_db
def test_every_html_page_carries_the_strict_policy():
    admin = UserFactory(
        organization=OrganizationFactory(kind=Organization.Kind.CITY_BUREAU),
        roles=[Role.SYSTEM_ADMIN],
        is_staff=True,
        is_superuser=True,
    )
    anonymous = Client()
    signed_in = Client()
    signed_in.force_login(admin)
    pages = [
        (anonymous, "/"),
        (anonymous, reverse("accounts:login")),
        (anonymous, reverse("catalog:list")),
        (anonymous, "/standards/"),
        (anonymous, "/no-such-page/"),  # the 404 page
        (anonymous, reverse("api-docs")),
        (signed_in, "/"),
        (signed_in, "/notifications/"),
        (signed_in, "/manage/users/"),
        (signed_in, "/aggregation/downtime/"),
        (signed_in, "/admin/"),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        assert response["Content-Type"].startswith("text/html"), url
        assert_strict(response)


@pytest.mark.django_db
def test_api_documentation_has_no_inline_script_or_style():
    client = Client()
    page = client.get(reverse("api-docs"))
    html = page.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all("src=" in attrs for attrs in scripts), scripts
    assert "<style" not in html and " style=" not in html
    assert "/static/css/api_docs.css" in html
    # The start-up script comes from the page's own URL with ?script, as JavaScript.
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_the_500_page_takes_its_style_from_a_static_file():
    html = render_to_string("500.html")
    assert "<style" not in html and " style=" not in html
    assert 'href="/static/css/error.css"' in html
    assert (Path(settings.BASE_DIR) / "static" / "css" / "error.css").exists()


# What the policy would block: markup that styles or scripts inline.
INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on* event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_styles_or_scripts_inline():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert not found, "\n".join(found)


def test_no_script_writes_a_style_attribute_or_inline_markup_with_one():
    """Scripts may set element.style (CSSOM, allowed by the policy) but not a style attribute,
    and may not build markup holding inline style or handlers."""
    found = []
    for path in sorted(STATIC_JS.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in [
            (
                re.compile(r"setAttribute\(\s*['\"](style|on[a-z]+)['\"]"),
                "sets a style/on* attribute",
            ),
            (re.compile(r"style=|\son[a-z]+="), "markup with inline style or handler"),
            (re.compile(r"\beval\(|new Function\("), "evaluates a string"),
        ]:
            if pattern.search(text):
                found.append(f"{path.name}: {what}")
    assert not found, found


def test_the_api_answers_a_browser_with_json_not_a_page_with_inline_styles(db, client):
    # DRF's browsable API would answer text/html with style attributes the policy forbids.
    response = client.get("/api/v1/catalog/resources/", HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
