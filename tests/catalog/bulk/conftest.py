"""Fixtures of the bulk filing tests: the catalog's base data (grades, classification trees),
an agency with its staff, and uploaded files stored under tmp_path."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.catalog.conftest import ensure_catalog_base_data
from tests.catalog.factories import make_agency

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _catalog_base_data(db):
    ensure_catalog_base_data()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def agency(db):
    return make_agency()


@pytest.fixture
def other_agency(db):
    return make_agency()


def upload(data: bytes, name: str = "资源.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)
