"""Every page each demo role can reach, in Chromium under the portal's Content-Security-Policy:
no inline script, no inline style, nothing from elsewhere (issue #11, item 2).

The crawl starts at the home page with the whole demo seeded,
follows same-site links breadth-first and visits each route once per role (ids, slugs and
query strings folded, so a list of 200 resources costs one visit, not 200), at most
MAX_PAGES_PER_ROLE pages per role. It skips logging out, downloads and language switching;
the API documentation (Swagger UI, the same for everyone) is visited once, until it has built
the page from the schema.
A violation is caught twice over: a `securitypolicyviolation` listener installed before any
page script, and Chromium's console message "... violates the following Content Security
Policy directive ...". The test fails with the list of page and violation."""

from __future__ import annotations

import os
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import Error as PlaywrightError

from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.demo import DEMO_PEOPLE

from .conftest import login

pytestmark = [pytest.mark.e2e]

MAX_PAGES_PER_ROLE = 40
POLICY = "Content Security Policy"
# Not pages: leaving, switching language, files to download, the API (its documentation is
# visited once on its own below), Django admin's log-out.
SKIP = re.compile(
    r"^/(accounts/logout|i18n/|admin/logout|api/|static/|media/)"
    r"|/evidence/$|\.(xlsx|csv|pdf|zip|json|docx)$"
)
# A path segment with a digit in it (ids, UUIDs, element identifiers, code-list identifiers
# such as GB/T 2261.1-2003) is one route whatever its value.
_PART = re.compile(r"\d")

LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(
    e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    (e.sourceFile ? " at " + e.sourceFile + ":" + e.lineNumber : "") +
    (e.sample ? " (" + e.sample + ")" : ""));
}, true);
"""


def route_of(path: str) -> str:
    return "/".join(":id" if _PART.search(p) else p for p in path.split("/"))


def same_site_links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "els => els.map(a => a.href)")
    found = []
    for href in hrefs:
        href, _ = urldefrag(href)
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
            continue
        found.append(href[len(origin) :])
    return found


def crawl(page, origin: str, who: str) -> tuple[list[str], list[str]]:
    """Visit the routes reachable from the home page; return (visited, violations)."""
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if POLICY in msg.text else None)
    queue = deque(["/"])
    seen_routes: set[str] = set()
    visited: list[str] = []
    violations: list[str] = []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        route = route_of(urlsplit(url).path)
        if route in seen_routes:
            continue
        seen_routes.add(route)
        console.clear()
        try:
            response = page.goto(origin + url, wait_until="load")
        except PlaywrightError as exc:  # a download the SKIP pattern did not foresee
            if "Download is starting" in str(exc):
                continue
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.append(url)
        violations += found_on(page, console, f"{who} {url}")
        queue.extend(same_site_links(page, origin))
    return visited, violations


def found_on(page, console: list[str], where: str) -> list[str]:
    found = page.evaluate("window.__cspViolations || []") + console
    return [f"{where}: {v}" for v in dict.fromkeys(found)]


def new_page(browser, origin: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    context.add_init_script(LISTENER)
    page = context.new_page()
    page.base_url = origin
    return context, page


@pytest.fixture
def demo(seeded, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ensure_catalog_base_data()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return seeded


def test_no_page_of_any_role_violates_the_content_security_policy(browser, live_server, demo):
    origin = live_server.url
    violations: list[str] = []
    pages = {}
    for who in ["anonymous", *(username for username, _name, _org in DEMO_PEOPLE.values())]:
        context, page = new_page(browser, origin)
        if who != "anonymous":
            login(page, who, demo)
            assert "/accounts/login/" not in page.url, f"{who} could not log in"
        pages[who], found = crawl(page, origin, who)
        violations += found
        context.close()

    # The API documentation (the same page for everyone, linked from the footer): Swagger UI
    # builds the page from the schema with its own scripts and styles.
    context, page = new_page(browser, origin)
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if POLICY in msg.text else None)
    page.goto(origin + "/api/docs/", wait_until="load")
    page.locator(".swagger-ui .opblock").first.wait_for()
    violations += found_on(page, console, "anonymous /api/docs/")
    context.close()

    # The crawl reached the pages that matter, so "no violation" means something.
    assert len(pages["demo_system_admin"]) >= 15, pages["demo_system_admin"]
    assert any(u.startswith("/aggregation/") for u in pages["demo_agency_staff"])
    assert any(u.startswith("/objections/") for u in pages["demo_requester"])
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)
