"""Fixtures of the standards tests: the city bureau's reviewer (who maintains code lists),
code lists and elements made directly, and the real administrative-division files."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.data import data_file
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role

DATA = Path(__file__).resolve().parent / "data"

_serial = itertools.count(1)


def admin_division_file(name: str) -> Path:
    """A real GB/T 2260 file of tests/data/admin-divisions/; fails clearly when it is absent."""
    return data_file("admin-divisions", name)


@pytest.fixture(autouse=True)
def _fresh_validators():
    """Compiled validators are cached per process; start each test without them."""
    from catalog.standards import validation

    validation.clear_cache()
    yield
    validation.clear_cache()


@pytest.fixture
def city_bureau(db) -> Organization:
    return OrganizationFactory(name="武汉市数据局(标准测试)", kind=Organization.Kind.CITY_BUREAU)


@pytest.fixture
def reviewer(city_bureau):
    """A city data bureau reviewer: the one who imports code lists and elements."""
    return UserFactory(organization=city_bureau, roles=[Role.CITY_REVIEWER])


@pytest.fixture
def agency_staff(db):
    return UserFactory(roles=[Role.AGENCY_STAFF])


def make_code_list(identifier: str | None = None, name: str = "测试代码表", values=()):
    """A code list with `values` given as (code, name) or (code, name, valid_from, valid_to)."""
    from catalog.models import CodeList, CodeValue

    code_list = CodeList.objects.create(
        identifier=identifier or f"TEST-{next(_serial):04d}", name=name
    )
    for value in values:
        code, meaning, *dates = value
        start, end = (list(dates) + [None, None])[:2]
        CodeValue.objects.create(
            code_list=code_list, code=code, name=meaning, valid_from=start, valid_to=end
        )
    return code_list


def make_element(**fields):
    """A saved data element (version 1, standard) with sensible defaults."""
    from catalog.models import DataElement

    n = next(_serial)
    values = {
        "identifier": f"T{n:05d}",
        "name": f"测试数据元{n}",
        "definition": "测试用。",
        "data_type": "C",
        "format": "c..50",
        "approved_at": dt.date(2024, 1, 1),
    }
    values.update(fields)
    if values.get("code_list") is not None and "domain_kind" not in fields:
        values["domain_kind"] = "code_list"
    if values.get("pattern") and "domain_kind" not in fields:
        values["domain_kind"] = "pattern"
    return DataElement.objects.create(**values)
