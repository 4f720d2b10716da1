"""Issue 12 item 6: the public home page leads visitors into the catalog (its search, its
classifications, its newest entries) through a section the catalog registers with the
kernel, and announces no feature that is not there."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from wuhan_pdr.kernel.showcase import home_sections

from . import factories as f

pytestmark = pytest.mark.django_db
OPEN = {"open_type": "conditional", "open_conditions": "经审批后开放。", "open_legal_basis": ""}


def home() -> str:
    response = Client().get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_home_page_has_a_catalog_search_and_the_newest_open_entries(agency, city):
    f.make_published(agency, city.reviewer, name="户籍人口基本信息", **OPEN)
    f.make_published(agency, city.reviewer, name="不开放的内部资源")  # shared only
    html = home()
    search = re.search(
        r'<form[^>]*action="/catalog/"[^>]*role="search"[^>]*>(.*?)</form>', html, re.S
    )
    assert search, "a search form sent to the catalog"
    assert 'name="q"' in search.group(1)
    assert re.search(r'<form[^>]*method="get"[^>]*action="/catalog/"', html)
    assert "户籍人口基本信息" in html
    assert "不开放的内部资源" not in html, "only what the visitor may see"
    classification = f.classification("101")
    assert f'href="/catalog/?classification={classification.pk}"' in html
    assert classification.name in html


def test_home_page_announces_no_feature_that_is_not_there(agency, city):
    html = home()
    assert "Coming soon" not in html and "即将上线" not in html
    assert "Downloads come later" not in html


def test_catalog_section_is_registered_with_the_kernel(rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    keys = [s.key for s in home_sections(request)]
    assert "catalog" in keys
