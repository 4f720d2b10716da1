"""A load that reaches its soft time limit ends cleanly (issue 11, job floods): a real
worker (prefork pool: the one that enforces time limits) on the `long` queue, with a 4 s
limit, is stopped while its full load waits to swap the tables; the transaction is rolled
back, the table keeps its previous rows, the batch is marked failed with the reason, and the
same worker goes on to load the next batch."""

from __future__ import annotations

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from psycopg import sql

from aggregation import services
from aggregation.datastore import qualified
from aggregation.models import Batch, DatastoreTable
from tests.aggregation.factories import make_channel
from tests.aggregation.test_views import csv_rows
from tests.messages import message_parts
from tests.services import CeleryWorker, celery_app_on, database_url, wait_for
from wuhan_pdr.celery import app
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

SOFT = 4
GRACE = 60
LIMIT = (
    "The load ran longer than its time limit of %(minutes)s minutes and was stopped; the table "
    "keeps its previous data. Load a smaller batch, or ask the administrator to raise "
    "AGGREGATION_LOAD_SOFT_TIME_LIMIT."
)


def upload(setup, rows: int, start: int = 1) -> Batch:
    with transaction.atomic():
        return services.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile("data.csv", csv_rows(rows, start).encode()),
            acting_user=setup.agency.staff,
        )


def codes(table_name: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT code FROM {} ORDER BY code").format(qualified(table_name)))
        return [r[0] for r in cur.fetchall()]


def shadow_tables(table_name: str) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'datastore' AND tablename LIKE %s",
            [table_name + "_n%"],
        )
        return cur.fetchone()[0]


def ended(batch: Batch):
    def check():
        batch.refresh_from_db()
        return batch.status in (Batch.Status.SUCCEEDED, Batch.Status.FAILED)

    return check


@pytest.fixture
def short_load_limit(monkeypatch):
    """The load's limits in this process too: the sender writes them into the message."""
    task = app.tasks["aggregation.run_batch"]
    monkeypatch.setattr(task, "soft_time_limit", SOFT)
    monkeypatch.setattr(task, "time_limit", SOFT + GRACE)
    monkeypatch.setattr(task, "_exec_options", None)
    return {
        "AGGREGATION_LOAD_SOFT_TIME_LIMIT": str(SOFT),
        "CELERY_HARD_TIME_LIMIT_GRACE": str(GRACE),
    }


def test_a_load_stopped_at_its_soft_time_limit_keeps_the_old_rows_and_says_why(
    services_log_dir, own_broker, short_load_limit
):
    setup = make_channel()
    first = upload(setup, 10)
    assert services.batch_run(batch_id=first.pk).status == Batch.Status.SUCCEEDED
    BackgroundJob.objects.filter(pk=first.job_id).update(state=BackgroundJob.State.DONE)
    table = DatastoreTable.objects.get(resource=setup.resource).table_name
    before = codes(table)
    assert len(before) == 10

    env = {**own_broker.env, **short_load_limit}
    worker = CeleryWorker(
        services_log_dir, env, queues=("long",), pool="prefork", name="worker-long-limits"
    )
    url = database_url(connection.settings_dict)
    try:
        worker.start()
        with celery_app_on(own_broker.redis.url), psycopg.connect(url) as reader:
            # A reader of the live table: the full load copies its 50 rows into a new table,
            # then waits for the reader to swap the tables, and meets its time limit there.
            reader.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(table)))
            slow = upload(setup, 50, start=100)
            try:
                wait_for(ended(slow), timeout=60, interval=0.5, what="the load to be stopped")
            except TimeoutError as exc:
                raise AssertionError(f"{exc}\n{worker.log_tail()}") from None
            # The worker's statement was cancelled: nothing of it waits on the reader any more.
            waiting = reader.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            assert waiting == 0
            reader.rollback()

            assert slow.status == Batch.Status.FAILED
            assert message_parts(slow.error, LIMIT) == {"minutes": str(round(SOFT / 60, 1))}
            assert slow.finished_at is not None
            assert codes(table) == before
            assert shadow_tables(table) == 0
            assert "Soft time limit (4s) exceeded" in worker.log()

            # The same worker takes the next batch and loads it.
            then = upload(setup, 5, start=500)
            wait_for(ended(then), timeout=60, interval=0.5, what="the next load")
            assert then.status == Batch.Status.SUCCEEDED, then.error
            assert len(codes(table)) == 5
    finally:
        worker.stop()
