"""Builders for the standards tests: elements published through the real change-request
services (an agency proposes, the city bureau approves), code lists, and catalog entries
whose items bind to an element (filed and published through the catalog services)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.conf import settings
from django.test import Client, TestCase
from django.utils import translation

from catalog.models import CodeList, CodeValue, DataElement, ElementChangeRequest, ResourceVersion
from catalog.standards import services
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.models import User

Agency = cf.Agency
Bureau = cf.Bureau
make_agency = cf.make_agency
make_city_bureau = cf.make_city_bureau

_names = itertools.count(1)


@pytest.fixture(autouse=True)
def _catalog_base_data(db):
    """Grades and classification trees (data migrations; a flush elsewhere may empty them),
    and English for the messages services write outside a request (tests read them)."""
    ensure_catalog_base_data()
    with translation.override("en"):
        yield


def client(user=None) -> Client:
    """A test client in English (the language cookie), signed in as `user` if given."""
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c


def element_content(**overrides) -> dict:
    """A complete proposal: a character string of at most 50 characters, format only."""
    n = next(_names)
    content = {
        "name": f"测试数据元{n:03d}",
        "english_name": f"test element {n}",
        "pinyin": f"ce shi shu ju yuan {n}",
        "definition": "用于测试的数据元。",
        "object_class": "人",
        "property": "名称",
        "representation": "名称",
        "data_type": "C",
        "format": "c..50",
        "domain_kind": "none",
        "classification": "人员",
        "synonyms": "",
    }
    content.update(overrides)
    return content


def committed(service, **kwargs):
    """Call a service and run what it defers to the commit, as a request would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return service(**kwargs)


def propose(
    agency: Agency,
    kind: str,
    *,
    element: DataElement | None = None,
    replacement: DataElement | None = None,
    reason: str = "工作需要。",
    by: User | None = None,
    **content,
) -> ElementChangeRequest:
    """A draft request of `agency`'s staff."""
    proposal = (
        None if kind == "retire" else (element_content(**content) if kind == "add" else content)
    )
    return services.change_request_create(
        acting_user=by or agency.staff,
        kind=kind,
        element=element,
        replacement=replacement,
        proposal=proposal,
        reason=reason,
    )


def move(
    request: ElementChangeRequest, action: str, user: User, comment: str = ""
) -> ElementChangeRequest:
    return committed(
        services.change_request_transition,
        change_request=request,
        action=action,
        acting_user=user,
        comment=comment,
    )


def submit_and_approve(
    request: ElementChangeRequest, agency: Agency, reviewer: User
) -> ElementChangeRequest:
    move(request, "submit", agency.staff)
    return move(request, "approve", reviewer)


def make_element(agency: Agency, reviewer: User, **content) -> DataElement:
    """Version 1 of a new element, proposed by `agency` and approved by `reviewer`."""
    request = submit_and_approve(propose(agency, "add", **content), agency, reviewer)
    return request.result


def change_element(element: DataElement, agency: Agency, reviewer: User, **content) -> DataElement:
    """The next version of `element`, with `content` changed."""
    request = submit_and_approve(
        propose(agency, "change", element=element, **content), agency, reviewer
    )
    return request.result


def make_code_list(identifier: str = "GB/T 2261.1", values=None, **fields) -> CodeList:
    code_list = CodeList.objects.create(
        identifier=identifier, name=fields.pop("name", "人的性别代码"), **fields
    )
    for code, name, valid_from, valid_to in values or [
        ("0", "未知的性别", None, None),
        ("1", "男性", None, None),
        ("2", "女性", None, None),
        ("9", "未说明的性别", None, None),
    ]:
        CodeValue.objects.create(
            code_list=code_list, code=code, name=name, valid_from=valid_from, valid_to=valid_to
        )
    return code_list


def items_with(
    element: DataElement, *, name: str = "姓名", column: str = "full_name"
) -> list[dict]:
    """The catalog's valid items, the second bound to `element`."""
    items = cf.valid_items()
    items[1].update({"name": name, "english_name": column, "element": element})
    return items


# Open under conditions: in the open catalog that anonymous visitors see.
OPEN = {"open_type": "conditional", "open_conditions": "经审批后开放。", "open_legal_basis": ""}


def make_published_using(
    element: DataElement, agency: Agency, reviewer: User, **fields
) -> ResourceVersion:
    """A published catalog entry of `agency` with one item bound to `element`, open under
    conditions unless `fields` say otherwise."""
    return cf.make_published(agency, reviewer, items=items_with(element), **{**OPEN, **fields})


def make_draft_using(element: DataElement, agency: Agency, **fields) -> ResourceVersion:
    return cf.make_draft(agency, items=items_with(element), **fields)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
