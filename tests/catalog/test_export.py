"""GET /catalog/export.xlsx: the search results as a workbook, with user text never turned
into formulas. Anonymous visitors export the open catalog, so the entries here are open under
conditions (who sees what: test_open_catalog.py)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from openpyxl import load_workbook

from catalog.selectors import CatalogQuery, catalog_search

from . import factories as f

pytestmark = pytest.mark.django_db

OPEN = {"open_type": "conditional", "open_conditions": "经审批后开放。", "open_legal_basis": ""}
FORMULAS = ['=HYPERLINK("http://x")', "=1+1", "+1+1", "-2+3", "@SUM(A1:A2)"]


def export(**params):
    response = Client().get("/catalog/export.xlsx", params)
    assert response.status_code == 200
    assert (
        response["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.worksheets[0]


def test_export_rows_match_the_search(agency, city):
    for name in ("户籍人口基本信息", "家庭户人口信息", "法人单位登记"):
        f.make_published(agency, city.reviewer, name=name, summary="用于政务服务。", **OPEN)
    f.make_draft(agency, name="草稿人口信息", **OPEN)
    sheet = export(q="人口")
    rows = list(sheet.iter_rows(values_only=True))
    expected = [
        (e.code, e.name)
        for e in catalog_search(CatalogQuery(q="人口"), viewer=AnonymousUser()).entries
    ]
    assert len(expected) == 2
    assert [(r[0], r[1]) for r in rows[1:]] == expected
    assert len(rows[0]) == 10
    assert rows[1][3] == agency.org.name


def test_export_of_no_match_has_only_the_header(agency, city):
    f.make_published(agency, city.reviewer, name="户籍人口基本信息")
    rows = list(export(q="不存在的资源").iter_rows(values_only=True))
    assert len(rows) == 1


def test_names_that_look_like_formulas_come_back_as_text(agency, city):
    for name in FORMULAS:
        f.make_published(agency, city.reviewer, name=name, summary="公式注入检查", **OPEN)
    f.make_published(
        agency, city.reviewer, name="户籍人口基本信息", summary="用于政务服务。", **OPEN
    )
    sheet = export(q="公式注入")
    cells = {row[1].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert set(cells) == set(FORMULAS)
    for name, cell in cells.items():
        assert cell.data_type == "s", name
        assert cell.value == name
