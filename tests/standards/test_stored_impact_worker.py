"""The stored-data count of a change request through a real Celery worker (tests/services.py,
both queues): submitting the request sends the job, the worker counts the datastore column
and the request page then shows the count as of its time."""

from __future__ import annotations

import pytest

from catalog.models import ElementImpactCount
from tests.services import wait_for
from tests.standards.test_stored_impact import World, page
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_worker_counts_the_stored_values_of_a_submitted_change(
    celery_worker, celery_app_on_spare_redis
):
    world = World()
    request = world.request()
    job = BackgroundJob.objects.get(pk=request.impact_job_id)
    assert job.last_sent_at is not None

    def counted():
        return BackgroundJob.objects.get(pk=job.pk).state in ("done", "failed")

    try:
        wait_for(counted, timeout=60, interval=0.3, what="the stored data counted by the worker")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{celery_worker.log_tail()}") from None
    job.refresh_from_db()
    assert job.state == "done", job.last_error
    (count,) = ElementImpactCount.objects.filter(change_request=request)
    assert (count.checked, count.failing) == (12, 4)
    request.refresh_from_db()
    assert request.impact_counted_at is not None
    assert "4 stored values would fail, as of" in page(world.reviewer, request)
