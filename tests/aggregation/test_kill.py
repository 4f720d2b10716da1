"""`kill -9` of the worker in the middle of a 1,000,000-row full load: the live table keeps
its rows, and the batch, sent again by the outbox sweep to a new worker, finishes with exact
counts (Art. 16: a failed or killed batch leaves the previous data as it was)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings
from psycopg import sql

from aggregation import services
from aggregation.datastore import qualified
from aggregation.models import Batch, DatastoreTable
from tests.aggregation.bigfile import ITEMS, write_csv
from tests.aggregation.factories import make_channel
from tests.services import CeleryWorker, celery_app_on, wait_for
from wuhan_pdr.kernel.jobs import jobs_sweep
from wuhan_pdr.kernel.models import BackgroundJob

ROWS = 1_000_000


def table_count(resource) -> int:
    table = DatastoreTable.objects.get(resource=resource)
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(table)))
        return cur.fetchone()[0]


def copy_progress() -> int:
    """Rows the running COPY has taken so far (PostgreSQL's own progress view)."""
    with connection.cursor() as cur:
        # Only COPYs into this test database (other runs may share the server).
        cur.execute(
            "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy "
            "WHERE datname = current_database()"
        )
        return cur.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_load_keeps_the_old_table_and_the_retry_counts_exactly(
    tmp_path, services_log_dir, own_broker
):
    setup = make_channel(items=ITEMS)
    old = write_csv(tmp_path / "old.csv", 1000)
    with transaction.atomic():
        first = services.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile("old.csv", old.read_bytes()),
            acting_user=setup.agency.staff,
        )
    # The first, small load runs here (no worker yet: the job stays pending in the outbox).
    assert services.batch_run(batch_id=first.pk).status == Batch.Status.SUCCEEDED
    BackgroundJob.objects.filter(pk=first.job_id).update(state=BackgroundJob.State.DONE)
    assert table_count(setup.resource) == 1000

    big = write_csv(tmp_path / "big.csv", ROWS, start=5000)
    worker = CeleryWorker(services_log_dir, own_broker.env).start()
    try:
        with celery_app_on(own_broker.redis.url):
            with open(big, "rb") as f, transaction.atomic():
                batch = services.batch_upload(
                    channel=setup.channel,
                    uploaded=SimpleUploadedFile("big.csv", f.read()),
                    acting_user=setup.agency.staff,
                )
            wait_for(lambda: copy_progress() > 200_000, timeout=120, what="the load to be halfway")
            os.kill(worker.proc.pid, signal.SIGKILL)
            worker.proc.wait(timeout=10)
    finally:
        worker.stop()

    # PostgreSQL rolls the dead worker's transaction back: the old rows are all there.
    wait_for(lambda: copy_progress() == 0, timeout=30, what="the killed COPY to end")
    assert table_count(setup.resource) == 1000
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING and batch.attempts == 1
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'datastore' AND tablename LIKE %s",
            [DatastoreTable.objects.get(resource=setup.resource).table_name + "_n%"],
        )
        assert cur.fetchone()[0] == 0  # no half-filled shadow table is left behind

    # A new worker; the sweep sends the job that lost its worker again.
    worker = CeleryWorker(services_log_dir, own_broker.env).start()
    try:
        with (
            celery_app_on(own_broker.redis.url),
            override_settings(
                BACKGROUND_JOB_STALE_AFTER=dt.timedelta(seconds=0),
                BACKGROUND_JOB_RESEND_AFTER=dt.timedelta(seconds=0),
            ),
        ):
            time.sleep(0.5)
            assert jobs_sweep() >= 1

            def finished():
                batch.refresh_from_db()
                return batch.status in (Batch.Status.SUCCEEDED, Batch.Status.FAILED)

            wait_for(finished, timeout=300, interval=1, what="the retried batch to finish")
    finally:
        worker.stop()
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert batch.attempts == 2
    assert (batch.rows_received, batch.rows_inserted, batch.rows_rejected) == (ROWS, ROWS, 0)
    assert table_count(setup.resource) == ROWS
