"""Code lists are addressed by id (issue 11, item 13): identifiers such as "GB/T 2261.1-2003"
carry spaces, slashes and Chinese characters that a path would have to escape, and an
identifier such as "import" collided with a page of its own. Every link on the code-list
pages resolves, and the earlier addresses by identifier redirect."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from . import factories as f
from .factories import _catalog_base_data, client  # noqa: F401 (autouse fixture)

pytestmark = pytest.mark.django_db

IDENTIFIERS = ["GB/T 2261.1-2003", "武汉市 区划/代码 2024", "import", "a/export.xlsx"]
# Where a code list is addressed: digits only, nothing to escape.
CODE_LIST_HREF = re.compile(r"/standards/code-lists/(\d+/(export\.xlsx)?|import/)?")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links(html: str) -> list[str]:
    """The site's own links on a page (not anchors, not other sites, not static files)."""
    parser = _Links()
    parser.feed(html)
    return [h for h in parser.hrefs if h.startswith("/") and not h.startswith(("//", "/static/"))]


@pytest.fixture
def agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def city(db) -> f.Bureau:
    return f.make_city_bureau()


@pytest.fixture
def code_lists(agency, city):
    """Four code lists with awkward identifiers, each the value domain of an element."""
    made = []
    for i, identifier in enumerate(IDENTIFIERS):
        code_list = f.make_code_list(identifier=identifier, name=f"代码表{i}")
        f.make_element(
            agency,
            city.reviewer,
            identifier=f"DE0590{i}",
            name=f"代码项{i}",
            format="n1",
            domain_kind="code_list",
            code_list=code_list.identifier,
        )
        made.append(code_list)
    return made


@pytest.mark.parametrize("viewer", ["anonymous", "city reviewer"])
def test_every_link_on_the_code_list_pages_resolves(viewer, code_lists, city):
    c = client(city.reviewer if viewer == "city reviewer" else None)
    pages = ["/standards/code-lists/"]
    pages += [f"/standards/code-lists/{cl.pk}/" for cl in code_lists]
    # The element pages link their value domain: those links are checked too.
    elements = [f"/standards/elements/DE0590{i}/" for i in range(len(code_lists))]
    seen: dict[str, int] = {}
    reached = set()
    for page in pages + elements:
        response = c.get(page)
        assert response.status_code == 200, page
        for href in links(response.content.decode()):
            path = urlsplit(href).path
            if "/code-lists/" in path:
                assert CODE_LIST_HREF.fullmatch(path), (page, href)
            elif page in elements:
                continue
            if href in seen:
                continue
            # Pages behind a login or a role's own start page answer with a redirect.
            target = c.get(href, follow=True)
            seen[href] = target.status_code
            if target.context and "code_list" in target.context and "page_obj" in target.context:
                reached.add(target.context["code_list"].pk)
    broken = {href: status for href, status in seen.items() if status != 200}
    assert broken == {}
    # The links lead to every list's own page and exports.
    assert reached == {cl.pk for cl in code_lists}
    for cl in code_lists:
        assert f"/standards/code-lists/{cl.pk}/export.xlsx" in seen
        assert cl.identifier in c.get(f"/standards/code-lists/{cl.pk}/").content.decode()


def test_the_earlier_addresses_by_identifier_redirect(code_lists):
    gbt = code_lists[0]
    response = client().get("/standards/code-lists/GB/T 2261.1-2003/", {"at": "2020-01-01"})
    assert response.status_code == 301
    assert response["Location"] == f"/standards/code-lists/{gbt.pk}/?at=2020-01-01"
    response = client().get("/standards/code-lists/GB/T%202261.1-2003/export.xlsx")
    assert (response.status_code, response["Location"]) == (
        301,
        f"/standards/code-lists/{gbt.pk}/export.xlsx",
    )
    chinese = code_lists[1]
    response = client().get("/standards/code-lists/武汉市 区划/代码 2024/", follow=True)
    assert response.redirect_chain == [(f"/standards/code-lists/{chinese.pk}/", 301)]
    assert response.context["code_list"] == chinese
    assert client().get("/standards/code-lists/NO SUCH LIST/").status_code == 404


def test_import_redirects_to_the_new_list_by_id(city):
    import io

    from catalog.standards.models import CodeList

    upload = io.BytesIO("代码,名称\n1,红色\n".encode())
    upload.name = "colors.csv"
    response = client(city.reviewer).post(
        "/standards/code-lists/import/",
        {
            "code_list": "",
            "new_identifier": "GB/T 颜色 1/2",
            "new_name": "颜色代码",
            "new_source": "",
            "file": upload,
            "effective_date": "2024-01-01",
        },
    )
    code_list = CodeList.objects.get(identifier="GB/T 颜色 1/2")
    assert (response.status_code, response["Location"]) == (
        302,
        f"/standards/code-lists/{code_list.pk}/",
    )
