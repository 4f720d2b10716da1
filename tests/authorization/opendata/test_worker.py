"""Open data through real Celery workers (issue #14 item 5): an upload is loaded by the worker,
and the successful load alone makes the worker build the CSV, XLSX and JSON files, masked."""

from __future__ import annotations

import os
from importlib import import_module

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from aggregation import services as aggregation_services
from authorization.opendata.models import OpenDataset
from tests.catalog.conftest import ensure_catalog_base_data
from tests.services import wait_for

from .factories import city_licence, make_open, rows

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_successful_load_makes_the_worker_build_the_files(
    celery_worker, celery_app_on_spare_redis, settings
):
    # The worker reads and writes the media the settings module names, not this test's own.
    configured = import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    settings.MEDIA_ROOT = configured.MEDIA_ROOT
    settings.STORAGES = configured.STORAGES
    ensure_catalog_base_data()
    city_licence()
    setup = make_open(n=0)
    with transaction.atomic():  # the batch job is sent once the upload is stored
        aggregation_services.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile("data.csv", rows(9).encode()),
            acting_user=setup.agency.staff,
        )

    def built():
        return OpenDataset.objects.filter(
            resource=setup.resource, state=OpenDataset.State.READY, rows=9
        ).exists()

    try:
        wait_for(built, timeout=120, interval=0.5, what="the open-data files")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    dataset = OpenDataset.objects.get(resource=setup.resource)
    files = {f.format: f for f in dataset.files.all()}
    assert set(files) == {"csv", "xlsx", "json"}
    with files["csv"].file.open("rb") as handle:
        data = handle.read().decode("utf-8-sig")
    assert data.count("\n") == 1 + 9
    assert "138****0001" in data and "13800000001" not in data  # masked by the worker
