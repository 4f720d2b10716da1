"""Fixtures of the catalog tests: a city agency, another city agency, the city bureau, and a
district agency in 江岸区 with its district bureau, each with the people who act for it."""

from __future__ import annotations

import importlib
import uuid

import pytest

from . import factories as f


def ensure_catalog_base_data() -> None:
    """The grades and classification trees that data migrations load. A transactional test
    elsewhere in the run ends with a flush that empties them (tests/conftest.py puts back
    only divisions and role groups), so put them back when they are missing."""
    from django.apps import apps

    from catalog.models import Classification
    from security.models import Grade

    grades = importlib.import_module("security.migrations.0002_default_grades")
    if Grade.objects.count() < len(grades.GRADES):
        grades.add_grades(apps, None)
    trees = importlib.import_module("catalog.migrations.0002_classifications")
    if Classification.objects.count() < len(trees.TREES):
        trees.add(apps, None)


@pytest.fixture(autouse=True)
def _catalog_base_data(db):
    ensure_catalog_base_data()


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A cache key prefix of this test's own. Facet counts are cached until a publication
    commits, and test transactions never commit: without it a test would read the counts
    another test (or another run on the same Redis) cached for the same search."""
    from django.core.cache import cache

    from catalog.selectors import GENERATION_KEY

    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"pdr-test-catalog-{uuid.uuid4().hex}"
    settings.CACHES = caches
    yield
    cache.delete(GENERATION_KEY)  # facet keys expire by themselves; this one never would


@pytest.fixture
def agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def other_agency(db) -> f.Agency:
    return f.make_agency()


@pytest.fixture
def city(db) -> f.Bureau:
    return f.make_city_bureau()


@pytest.fixture
def district_agency(db) -> f.Agency:
    return f.make_district_agency(f.JIANGAN)


@pytest.fixture
def district(db) -> f.Bureau:
    """The 江岸区 data bureau, reviewer of `district_agency`."""
    return f.make_district_bureau(f.JIANGAN)


@pytest.fixture
def other_district(db) -> f.Bureau:
    """The 江汉区 data bureau: reviews nothing of 江岸区."""
    return f.make_district_bureau(f.JIANGHAN)


@pytest.fixture
def draft(agency):
    return f.make_draft(agency)
