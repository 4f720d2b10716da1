"""Through the real Celery worker: a file batch is loaded by the worker, the load queues a
quality run after its commit, and the worker evaluates it and opens the issue."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from aggregation import services
from aggregation.models import QualityIssue, QualityRun
from tests.aggregation.factories import make_channel
from tests.services import wait_for
from wuhan_pdr.kernel.models import BackgroundJob

from .factories import code_list, element


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_batch_loaded_by_the_worker_is_checked_by_the_worker(
    celery_worker, celery_app_on_spare_redis
):
    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    areas = element(name="区划代码", format="n6", code_list=code_list(["420102", "420103"]))
    setup = make_channel(
        items=[
            {
                "name": "代码",
                "english_name": "code",
                "data_type": "C",
                "length": 12,
                "is_key": True,
            },
            {
                "name": "区划",
                "english_name": "area_code",
                "data_type": "C",
                "length": 6,
                "element": areas,
            },
        ]
    )
    with transaction.atomic():
        services.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile("t.csv", "代码,区划\nT1,420102\nT2,999999\n".encode()),
            acting_user=setup.agency.staff,
        )

    def checked():
        run = QualityRun.objects.filter(resource=setup.resource).first()
        return run if run and run.status in ("done", "failed") else None

    try:
        run = wait_for(checked, timeout=90, interval=0.5, what="quality run done")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert run.status == "done", (run.error, celery_worker.log_tail())
    assert run.trigger == QualityRun.Trigger.BATCH and run.rows == 2
    assert BackgroundJob.objects.get(pk=run.job_id).state == BackgroundJob.State.DONE
    issue = QualityIssue.objects.get(resource=setup.resource)
    assert (issue.rows_failed, issue.sample_keys, issue.state) == (1, ["T2"], "open")
