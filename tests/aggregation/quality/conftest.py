import pytest
from django.utils import translation

from tests.catalog.conftest import ensure_catalog_base_data


@pytest.fixture(autouse=True)
def _base_data(db):
    """Grades and classifications (data migrations; a flush elsewhere may empty them), and
    English for the messages services write outside a request."""
    ensure_catalog_base_data()
    with translation.override("en"):
        yield
