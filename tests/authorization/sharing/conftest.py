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
