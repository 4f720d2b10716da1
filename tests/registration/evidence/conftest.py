"""Evidence tests: files in a media root of the test's own, English messages."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.catalog.conftest import ensure_catalog_base_data


@pytest.fixture(autouse=True)
def _media(db, settings, tmp_path):
    ensure_catalog_base_data()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with translation.override("en"):
        yield
