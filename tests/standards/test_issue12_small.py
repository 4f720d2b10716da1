"""Issue 12 item 11, the data-element bits: the breadcrumb of a new request names its kind as
the heading does, and an element's change history gives the reason of an approved version in
the reader's language (an English constant, translated by the history table)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from catalog.models import DataElement
from catalog.standards.services import ELEMENT_PUBLISHED
from tests.standards.factories import change_element, make_agency, make_city_bureau, make_element

pytestmark = pytest.mark.django_db


def chinese(user) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    c.force_login(user)
    return c


def crumb(html: str) -> str:
    return re.search(r'<li aria-current="page">(.*?)</li>', html, re.S).group(1).strip()


def test_the_breadcrumb_of_a_new_request_names_its_kind_like_the_heading():
    agency, bureau = make_agency(), make_city_bureau()
    element = make_element(agency, bureau.reviewer)
    html = (
        chinese(agency.staff)
        .get(f"/standards/requests/new/?kind=change&element={element.identifier}")
        .content.decode()
    )
    assert crumb(html) == "变更数据元"
    assert "<h1>变更数据元" in html
    html = chinese(agency.staff).get("/standards/requests/new/?kind=add").content.decode()
    assert crumb(html) == "新增数据元"
    assert "<h1>新增数据元" in html


def test_an_approved_version_is_recorded_with_a_reason_shown_translated():
    agency, bureau = make_agency(), make_city_bureau()
    first = make_element(agency, bureau.reviewer)
    second = change_element(first, agency, bureau.reviewer, definition="新的定义。")
    for version in (first, second):
        record = DataElement.history.filter(id=version.pk, history_type="+").get()
        assert record.history_change_reason == ELEMENT_PUBLISHED
    html = chinese(agency.staff).get(f"/standards/elements/{first.identifier}/").content.decode()
    history = html[html.index('class="card history"') :]
    assert "经批准的变更申请发布" in history
    assert "change request #" not in html
