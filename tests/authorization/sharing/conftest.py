"""Fixtures of the sharing tests: a provider agency (with a published, conditionally shared
resource), a requesting agency, and the city bureau."""

from __future__ import annotations

import pytest

from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data


@pytest.fixture(autouse=True)
def _catalog_base_data(db):
    ensure_catalog_base_data()


@pytest.fixture
def bureau():
    return cf.make_city_bureau()


@pytest.fixture
def provider():
    return cf.make_agency()


@pytest.fixture
def requester():
    return cf.make_agency()


@pytest.fixture
def version(provider, bureau):
    """A published L2 resource shared under conditions, with three items."""
    return cf.make_published(provider, bureau.reviewer)


@pytest.fixture
def resource(version):
    version.resource.refresh_from_db()
    return version.resource


@pytest.fixture
def requests_fields():
    return make_fields


def make_fields(**overrides) -> dict:
    """Valid fields of a share request."""
    import datetime as dt

    from wuhan_pdr.kernel.workdays import today

    fields = {
        "scenario": "户籍迁移业务办理中核验申请人身份。",
        "basis_kind": "law",
        "law_name": "《中华人民共和国户口登记条例》",
        "law_article": "第十条",
        "duty": "",
        "purpose": "核验申请人身份,减少群众提交材料。",
        "period_start": today(),
        "period_end": today() + dt.timedelta(days=365),
        "expected_daily_rows": 1000,
    }
    fields.update(overrides)
    return fields


def web(user=None):
    from django.conf import settings
    from django.test import Client

    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        c.force_login(user)
    return c
