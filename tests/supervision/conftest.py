"""Fixtures of the supervision tests: the catalog's base data (grades, classifications)."""

from __future__ import annotations

import pytest

from tests.catalog.conftest import ensure_catalog_base_data


@pytest.fixture(autouse=True)
def _catalog_base_data(db):
    ensure_catalog_base_data()
