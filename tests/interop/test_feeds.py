"""Feeds, sitemap, robots.txt and the data users' guide (issue #18, items 3 and 4)."""

from __future__ import annotations

from defusedxml import ElementTree as ET
from django.test import Client

from authorization.interop import feeds

ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def test_atom_feed_of_new_and_changed_resources(world):
    response = Client().get("/feeds/open-data.atom")
    assert response.status_code == 200 and "atom" in response["Content-Type"]
    root = ET.fromstring(response.content)
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert sorted(titles) == sorted(["开放养老机构信息", "有条件开放的医疗机构"])
    text = response.content.decode()
    for hidden in world.hidden:
        assert hidden.resource.published_version.name not in text


def test_sitemap_lists_public_pages_only(world):
    response = Client().get("/sitemap.xml")
    root = ET.fromstring(b"".join(response.streaming_content))
    locs = [e.findtext(f"{SM}loc") for e in root.iter(f"{SM}url")]
    assert "http://testserver/catalog/" in locs and "http://testserver/open/data-users/" in locs
    assert f"http://testserver/catalog/resources/{world.open_.resource.pk}/" in locs
    for hidden in world.hidden:
        assert f"http://testserver/catalog/resources/{hidden.resource.pk}/" not in locs
    # Every listed page answers an anonymous visitor.
    for loc in locs:
        assert Client().get(loc.removeprefix("http://testserver")).status_code == 200, loc


def test_sitemap_index_past_the_limit(world, monkeypatch):
    monkeypatch.setattr(feeds, "SITEMAP_URLS", 3)
    index = ET.fromstring(Client().get("/sitemap.xml").content)
    locs = [e.findtext(f"{SM}loc") for e in index.iter(f"{SM}sitemap")]
    assert len(locs) == 3  # 5 fixed pages and 2 resources, 3 a file
    seen = []
    for loc in locs:
        page = Client().get(loc.removeprefix("http://testserver"))
        seen += [
            e.findtext(f"{SM}loc")
            for e in ET.fromstring(b"".join(page.streaming_content)).iter(f"{SM}url")
        ]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert Client().get("/sitemap.xml?page=9").status_code == 404


def test_robots(db):
    text = Client().get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text and "Disallow: /admin/" in text


def test_guide_in_both_languages(db, settings):
    zh = Client().get("/open/data-users/").content.decode()
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = english.get("/open/data-users/").content.decode()
    for page in (zh, en):
        assert "RemoteCKAN" in page and "rdflib" in page and "curl" in page
    assert "开放目录以国际通用格式提供" in zh
    assert "The open catalog in the formats" in en
