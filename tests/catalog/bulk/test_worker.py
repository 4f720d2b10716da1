"""The bulk filing job through a real Celery worker (tests/services.py): a refused workbook
and then a valid one, one after the other on the same worker."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from catalog.bulk.models import BulkFiling
from catalog.bulk.services import bulk_filing_upload
from catalog.models import ResourceVersion
from tests.catalog.bulk.conftest import upload
from tests.catalog.bulk.workbooks import make
from tests.services import wait_for
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_media(settings):
    """The worker stores and reads files where it was started to: the default media root."""
    root = Path(os.environ.get("DJANGO_MEDIA_ROOT") or django_settings.BASE_DIR / "var" / "media")
    settings.MEDIA_ROOT = str(root)
    yield root
    shutil.rmtree(root / "bulk-filings", ignore_errors=True)


def _wait(filing, worker) -> BulkFiling:
    def finished():
        filing.refresh_from_db()
        return filing.state in (BulkFiling.State.REFUSED, BulkFiling.State.IMPORTED)

    try:
        wait_for(finished, timeout=60, interval=0.3, what="bulk filing checked by the worker")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}: {filing.state}\n{worker.log_tail()}") from None
    return filing


def test_worker_refuses_a_bad_workbook_then_imports_a_good_one(
    celery_worker, celery_app_on_spare_redis, shared_media, agency
):
    bad = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.with_formula()))
    assert BackgroundJob.objects.get(pk=bad.job_id).last_sent_at is not None
    bad = _wait(bad, celery_worker)
    assert bad.state == BulkFiling.State.REFUSED
    assert (bad.errors[0]["sheet"], bad.errors[0]["row"], bad.errors[0]["column"]) == (
        "资源",
        2,
        "B",
    )
    assert not ResourceVersion.objects.exists()

    good = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    good = _wait(good, celery_worker)
    assert good.state == BulkFiling.State.IMPORTED
    assert ResourceVersion.objects.filter(resource__provider=agency.org).count() == 3
    job = BackgroundJob.objects.get(pk=good.job_id)
    wait_for(lambda: BackgroundJob.objects.get(pk=job.pk).state == "done", timeout=10)
    assert BackgroundJob.objects.get(pk=job.pk).progress == 100
