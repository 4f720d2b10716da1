"""Beat's "sandbox.daily" through a real Celery worker: a session whose provider's reply is
overdue is flagged and both sides are told; a session whose window has ended is closed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aggregation import services as agg
from aggregation.models import Batch
from authorization.sandbox.models import SandboxSession
from tests.aggregation.factories import make_channel
from tests.authorization.sandbox.factories import STANDARD, approve, masked_items, rows_csv, submit
from tests.catalog.conftest import ensure_catalog_base_data
from tests.catalog.factories import make_agency
from tests.services import wait_for
from wuhan_pdr.kernel.models import Notification

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_worker_flags_overdue_replies_and_closes_ended_windows(
    celery_worker, celery_app_on_spare_redis
):
    from wuhan_pdr.celery import app

    ensure_catalog_base_data()
    # The live worker loads the data (an upload queues its batch; loading it here as well
    # would race the worker on the same batch).
    setup = make_channel(items=masked_items(), grade="L3", name="沙箱测试通道")
    with transaction.atomic():
        batch = agg.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile("data.csv", rows_csv(STANDARD).encode()),
            acting_user=setup.agency.staff,
        )
    wait_for(
        lambda: Batch.objects.get(pk=batch.pk).status in ("succeeded", "failed"),
        timeout=90,
        interval=0.5,
        what="data loaded",
    )
    assert Batch.objects.get(pk=batch.pk).status == "succeeded", celery_worker.log_tail()
    late = submit(setup, make_agency().staff)
    SandboxSession.objects.filter(pk=late.pk).update(
        step_deadline=timezone.now() - dt.timedelta(days=1)
    )
    ended = approve(submit(setup, make_agency().staff), setup.agency.admin, resource=setup.resource)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    SandboxSession.objects.filter(pk=ended.pk).update(
        valid_from=yesterday - dt.timedelta(days=5), valid_until=yesterday
    )
    app.send_task("sandbox.daily")
    try:
        wait_for(
            lambda: (
                SandboxSession.objects.filter(pk=late.pk, overdue_flagged_at__isnull=False).exists()
                and SandboxSession.objects.filter(pk=ended.pk, state="expired").exists()
            ),
            timeout=60,
            interval=0.3,
            what="the sandbox's daily job",
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    late_url = reverse("sandbox:detail", kwargs={"pk": late.pk})
    # The requester hears of it once; the officer once more than of the request itself.
    assert Notification.objects.filter(recipient=late.requester, url=late_url).count() == 1
    assert Notification.objects.filter(recipient=setup.agency.admin, url=late_url).count() == 2
    assert Notification.objects.filter(
        recipient=ended.requester, url=reverse("sandbox:detail", kwargs={"pk": ended.pk})
    ).exists()
