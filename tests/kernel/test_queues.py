"""Two queues (issue 11, job floods): long work (loads, quality runs, bulk filing) on `long`,
everything else on `default`, each with its own worker, so that a short job never waits
behind a load. Against a redis-server of the test's own and real Celery workers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import psycopg
import pytest
import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from aggregation import services as aggregation_services
from aggregation.models import Batch
from aggregation.services import _resource_lock_key
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import make_channel
from tests.services import (
    CeleryWorker,
    RedisServer,
    broker_key,
    celery_app_on,
    celery_env,
    database_url,
    wait_for,
)
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.accounts.services import user_deactivate
from wuhan_pdr.celery import app
from wuhan_pdr.kernel.jobs import durable_task, job_run, job_send, jobs_sweep, time_limit_message
from wuhan_pdr.kernel.models import BackgroundJob

LONG = (
    "aggregation.run_batch",
    "aggregation.datastore_rebuild",
    "aggregation.quality_run",
    "catalog.bulk_filing_process",
    "catalog.standards_impact_count",
    "security.backup_run",
    "security.restore_drill_run",
    "aggregation.read_functions_remake",
    "opendata.downloads_build",
    "evidence.deposit_make",
    "supervision.evaluation_run",
    "aggregation.stored_hashes_backfill",
)
SHORT = (
    "accounts.end_user_sessions",
    "kernel.sweep_background_jobs",
    "kernel.purge_old_notifications",
    "kernel.ping",
    "aggregation.schedule_due_channels",
    "aggregation.quality_runs_nightly",
    "aggregation.push_housekeeping",
    "security.backup_daily",
    "security.restore_drill_weekly",
)


@pytest.fixture
def broker(services_log_dir) -> Iterator[RedisServer]:
    """A redis-server nobody else's worker listens on."""
    server = RedisServer(services_log_dir, name="redis-queues").start()
    try:
        with celery_app_on(server.url):
            yield server
    finally:
        server.stop()


def queued(server: RedisServer, queue: str) -> list[str]:
    """Names of the tasks waiting in `queue` (kombu's Redis transport keeps a list per queue)."""
    client = redis.Redis.from_url(server.url)
    try:
        return [
            json.loads(raw)["headers"]["task"] for raw in client.lrange(broker_key(queue), 0, -1)
        ]
    finally:
        client.close()


def test_every_task_has_a_queue_and_soft_and_hard_time_limits():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert set(LONG) | set(SHORT) <= set(ours)
    for name in ours:
        task = app.tasks[name]
        route = app.amqp.router.route({}, name)
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, name
        if name in LONG:
            assert route["queue"].name == "long", name
            assert soft == settings.CELERY_LONG_TASK_SOFT_TIME_LIMITS[name] >= 30 * 60
            assert hard < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        elif name == "kernel.ledger_integrate":  # its own queue and worker (the ledger)
            assert route["queue"].name == "ledger", name
        else:
            assert route["queue"].name == "default", name
            assert hard <= 10 * 60, name


@pytest.mark.django_db
def test_jobs_are_sent_and_resent_by_the_sweep_to_their_own_queue(broker):
    load = BackgroundJob.objects.create(task_name="aggregation.run_batch", kwargs={"batch_id": "x"})
    short = BackgroundJob.objects.create(task_name="accounts.end_user_sessions", kwargs={})
    assert job_send(job_id=load.pk) and job_send(job_id=short.pk)
    assert queued(broker, "long") == ["aggregation.run_batch"]
    assert queued(broker, "default") == ["accounts.end_user_sessions"]

    # Never started: the sweep sends both again, each to its queue.
    BackgroundJob.objects.update(
        created_at=timezone.now() - dt.timedelta(hours=1),
        last_sent_at=timezone.now() - dt.timedelta(hours=1),
    )
    with override_settings(BACKGROUND_JOB_RESEND_AFTER=dt.timedelta(seconds=1)):
        assert jobs_sweep() == 2
    assert queued(broker, "long") == ["aggregation.run_batch"] * 2
    assert queued(broker, "default") == ["accounts.end_user_sessions"] * 2


@pytest.mark.django_db(transaction=True)
def test_a_short_job_is_done_while_a_load_holds_the_long_worker(
    broker, services_log_dir, system_admin, agency_a
):
    env = celery_env(redis_url=broker.url, database=database_url(connection.settings_dict))
    setup = make_channel()
    url = database_url(connection.settings_dict)
    # The load will wait for this lock (the datastore's per-resource lock) inside the worker.
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [_resource_lock_key(setup.resource.pk)])
        workers = [
            CeleryWorker(services_log_dir, env, queues=("default",), name="worker-default"),
            CeleryWorker(services_log_dir, env, queues=("long",), name="worker-long"),
        ]
        try:
            for worker in workers:
                worker.start()
            with transaction.atomic():
                batch = aggregation_services.batch_upload(
                    channel=setup.channel,
                    uploaded=SimpleUploadedFile("a.csv", "编号,姓名\nP1,张三\n".encode()),
                    acting_user=setup.agency.staff,
                )

            def loading():
                batch.refresh_from_db()
                return batch.status == Batch.Status.RUNNING

            wait_for(loading, timeout=60, what="the load to start on the long worker")

            target = UserFactory(organization=agency_a, roles=[Role.AGENCY_STAFF])
            browser = Client()
            browser.force_login(target)
            user_deactivate(user=target, acting_user=system_admin)
            job = BackgroundJob.objects.get(task_name="accounts.end_user_sessions")

            def done():
                job.refresh_from_db()
                return job.state == BackgroundJob.State.DONE

            try:
                wait_for(done, timeout=60, what="the short job done beside the load")
            except TimeoutError as exc:
                raise AssertionError(
                    f"{exc}\n--- default ---\n{workers[0].log_tail()}"
                    f"\n--- long ---\n{workers[1].log_tail()}"
                ) from None
            batch.refresh_from_db()
            assert batch.status == Batch.Status.RUNNING  # still waiting: it never blocked the job

            holder.execute("SELECT pg_advisory_unlock(%s)", [_resource_lock_key(setup.resource.pk)])

            def finished():
                batch.refresh_from_db()
                return batch.status in (Batch.Status.SUCCEEDED, Batch.Status.FAILED)

            wait_for(finished, timeout=60, what="the load to end")
            assert batch.status == Batch.Status.SUCCEEDED, batch.error
        finally:
            for worker in workers:
                worker.stop()


@durable_task("tests.times_out")
def times_out(job) -> None:
    raise SoftTimeLimitExceeded()


@pytest.mark.django_db
def test_a_job_at_its_soft_time_limit_fails_at_once_with_the_reason():
    job = BackgroundJob.objects.create(task_name="tests.times_out", kwargs={})
    assert job_run(job_id=str(job.pk)) == "timed out"
    job.refresh_from_db()
    assert job.state == BackgroundJob.State.FAILED  # not retried: it would time out again
    assert job.attempts == 1 and job.finished_at is not None
    assert job.last_error == time_limit_message(settings.CELERY_TASK_SOFT_TIME_LIMIT)


@pytest.mark.services
@pytest.mark.django_db
def test_healthz_names_a_queue_without_a_worker(broker, services_log_dir):
    env = celery_env(redis_url=broker.url, database=database_url(connection.settings_dict))
    worker = CeleryWorker(services_log_dir, env, queues=("default",), name="worker-only-default")
    try:
        worker.start()
        with override_settings(REDIS_URL=broker.url):
            response = Client().get("/healthz/")
    finally:
        worker.stop()
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == "ok" and body["redis"] == "ok"
    assert body["celery"].startswith("error") and "long" in body["celery"]
