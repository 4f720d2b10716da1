"""Issue 12, item 7: the filing form's "资源分类" and "主题分类" are two fields with two purposes
(docs/decisions/0012-classification-and-theme.md). Each says where it is filled what it is and
how it differs from the other, and the classification's codes show the tree they belong to."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from catalog.models import Classification, ResourceVersion
from tests.test_translations import compiled_catalog  # noqa: F401  (Chinese from the .po)

from . import factories as f
from .test_permissions import filing_post

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("compiled_catalog")]


def _page(user) -> str:
    c = Client()
    c.force_login(user)
    response = c.get("/catalog/new/")
    assert response.status_code == 200
    return response.content.decode()


def _field(page: str, name: str) -> str:
    """The markup of one form field's block (label, help text, widget)."""
    blocks = re.split(r'(?=<div class="field field-)', page)
    found = [b for b in blocks if f'name="{name}"' in b]
    assert found, f"no field {name}"
    return found[0]


def test_classification_names_its_purpose_and_groups_codes_by_tree(agency):
    block = _field(_page(agency.staff), "classification")
    assert "资源分类" in block
    assert "资源代码由它生成" in block  # the help text: it makes the resource code
    assert "发布后不能再更改" in block
    groups = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', block, re.S))
    assert set(groups) == {"基础类", "主题类"}
    assert "101 人口" in groups["基础类"] and "201 公共服务" not in groups["基础类"]
    assert "201 公共服务" in groups["主题类"] and "101 人口" not in groups["主题类"]


def test_themes_say_they_are_optional_tags_that_keep_the_code(agency):
    block = _field(_page(agency.staff), "themes")
    assert "主题分类" in block
    assert "可多选" in block and "不影响资源代码" in block
    assert "101 人口" not in block  # only the theme tree is offered
    assert "201 公共服务" in block
    classification = _field(_page(agency.staff), "classification")
    help_texts = [
        re.search(r'<div class="helptext"[^>]*>(.*?)</div>', b, re.S).group(1)
        for b in (block, classification)
    ]
    assert help_texts[0] != help_texts[1]


def test_a_theme_class_and_other_themes_are_saved_apart(agency):
    """A resource placed in the theme tree gets its code from that theme; the themes it also
    serves are kept on the version and leave the code alone."""
    data = filing_post()
    data["classification"] = f.classification("208").pk
    data["themes"] = [f.classification("201").pk, f.classification("206").pk]
    c = Client()
    c.force_login(agency.staff)
    response = c.post("/catalog/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    version = ResourceVersion.objects.get(name=data["name"])
    assert version.resource.code.startswith("208/")
    assert sorted(t.code for t in version.themes.all()) == ["201", "206"]
    assert Classification.objects.get(code="201").tree == Classification.Tree.THEME
