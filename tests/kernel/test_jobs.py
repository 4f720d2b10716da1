"""The background-job outbox, run in this process: recording, running once, failing, resending.

The same machinery against a real broker and worker is in test_background_services.py.
"""

import datetime as dt
import time

import psycopg
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from tests.services import RedisServer, broker_key, celery_app_on, free_port
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.jobs import (
    _lock_key,
    durable_task,
    job_enqueue,
    job_run,
    job_send,
    jobs_due_for_resend,
    jobs_sweep,
)
from wuhan_pdr.kernel.models import BackgroundJob, Notification
from wuhan_pdr.kernel.notifications import notify

pytestmark = pytest.mark.django_db

ran_for: list[int] = []


@durable_task("tests.greet")
def greet(job, *, user_id: int) -> None:
    ran_for.append(user_id)
    notify(recipients=[User.objects.get(pk=user_id)], title="hello from a job")


@durable_task("tests.always_fails")
def always_fails(job) -> None:
    raise RuntimeError("the source system is down")


@pytest.fixture(autouse=True)
def _no_calls_yet():
    ran_for.clear()


def enqueue(task_name, **kwargs):
    """Record a job. Inside the test's transaction, which never commits, it is never sent."""
    return job_enqueue(task_name=task_name, kwargs=kwargs)


def test_enqueue_records_a_pending_job_and_sends_it_after_commit(
    staff_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_enqueue(
            task_name="tests.greet", kwargs={"user_id": staff_a.pk}, acting_user=staff_a
        )

    job.refresh_from_db()
    assert job.state == BackgroundJob.State.PENDING
    assert job.kwargs == {"user_id": staff_a.pk}
    assert job.created_by == staff_a
    assert job.last_sent_at is None
    assert len(callbacks) == 1


def test_enqueue_of_an_unknown_task_is_refused():
    with pytest.raises(ValueError):
        job_enqueue(task_name="tests.no_such_task")
    assert not BackgroundJob.objects.exists()


def test_job_enqueued_in_a_rolled_back_transaction_does_not_exist(staff_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue(task_name="tests.greet", kwargs={"user_id": staff_a.pk})
        raise RuntimeError("the change failed")
    assert not BackgroundJob.objects.exists()


def test_job_runs_and_is_marked_done(staff_a):
    job = enqueue("tests.greet", user_id=staff_a.pk)

    assert job_run(job_id=str(job.pk)) == "done"

    job.refresh_from_db()
    assert job.state == BackgroundJob.State.DONE
    assert (job.attempts, job.progress) == (1, 100)
    assert job.started_at is not None and job.finished_at is not None
    assert ran_for == [staff_a.pk]


def test_job_run_twice_does_its_work_once(staff_a):
    job = enqueue("tests.greet", user_id=staff_a.pk)

    assert job_run(job_id=str(job.pk)) == "done"
    assert job_run(job_id=str(job.pk)) == "skipped"

    assert ran_for == [staff_a.pk]
    assert Notification.objects.filter(recipient=staff_a).count() == 1
    job.refresh_from_db()
    assert job.attempts == 1


def test_job_run_of_a_missing_job_is_skipped():
    import uuid

    assert job_run(job_id=str(uuid.uuid4())) == "skipped"


def test_failing_job_goes_back_to_pending_with_its_error():
    job = enqueue("tests.always_fails")

    assert job_run(job_id=str(job.pk)) == "failed"

    job.refresh_from_db()
    assert job.state == BackgroundJob.State.PENDING
    assert job.attempts == 1
    assert job.last_error == "RuntimeError: the source system is down"
    assert job.finished_at is None


@override_settings(BACKGROUND_JOB_MAX_ATTEMPTS=2)
def test_job_failing_its_last_attempt_is_marked_failed_and_not_run_again():
    job = enqueue("tests.always_fails")

    assert job_run(job_id=str(job.pk)) == "failed"
    assert job_run(job_id=str(job.pk)) == "failed"
    assert job_run(job_id=str(job.pk)) == "skipped"

    job.refresh_from_db()
    assert job.state == BackgroundJob.State.FAILED
    assert job.attempts == 2
    assert job.finished_at is not None


def test_job_held_by_another_worker_is_not_run_twice_at_once(staff_a):
    job = enqueue("tests.greet", user_id=staff_a.pk)
    s = connection.settings_dict
    # Another database session (as another worker would be) holds the job's lock.
    with psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [_lock_key(job.pk)])
        assert job_run(job_id=str(job.pk)) == "busy"
        other.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(job.pk)])

    assert ran_for == []
    assert job_run(job_id=str(job.pk)) == "done"


def test_sweep_resends_only_jobs_that_should_have_started():
    now = timezone.now()
    long_ago = now - dt.timedelta(hours=1)
    never_sent = enqueue("tests.always_fails")
    sent_long_ago = enqueue("tests.always_fails")
    sent_just_now = enqueue("tests.always_fails")
    fresh = enqueue("tests.always_fails")
    done = enqueue("tests.always_fails")
    stuck_running = enqueue("tests.always_fails")
    recently_running = enqueue("tests.always_fails")
    BackgroundJob.objects.exclude(pk=fresh.pk).update(created_at=long_ago)
    BackgroundJob.objects.filter(pk=sent_long_ago.pk).update(last_sent_at=long_ago)
    BackgroundJob.objects.filter(pk=sent_just_now.pk).update(last_sent_at=now)
    BackgroundJob.objects.filter(pk=done.pk).update(state=BackgroundJob.State.DONE)
    BackgroundJob.objects.filter(pk=stuck_running.pk).update(
        state=BackgroundJob.State.RUNNING, started_at=now - dt.timedelta(hours=3)
    )
    BackgroundJob.objects.filter(pk=recently_running.pk).update(
        state=BackgroundJob.State.RUNNING, started_at=now - dt.timedelta(minutes=5)
    )

    due = set(jobs_due_for_resend(now=now).values_list("pk", flat=True))

    assert due == {never_sent.pk, sent_long_ago.pk, stuck_running.pk}


def test_send_with_the_broker_down_fails_at_once_and_leaves_the_job_pending():
    job = enqueue("tests.always_fails")
    BackgroundJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )

    with celery_app_on(f"redis://127.0.0.1:{free_port()}/0"):
        started = time.monotonic()
        assert job_send(job_id=job.pk) is False
        # It runs after the commit of a web request: it must not keep the user waiting.
        assert time.monotonic() - started < 4
        started = time.monotonic()
        assert jobs_sweep() == 0
        assert time.monotonic() - started < 4

    job.refresh_from_db()
    assert job.state == BackgroundJob.State.PENDING
    assert job.last_sent_at is None


def test_send_hands_the_job_to_the_broker_and_notes_when(tmp_path):
    import redis

    job = enqueue("tests.always_fails")
    broker = RedisServer(tmp_path).start()  # no worker listens: the message stays queued
    try:
        with celery_app_on(broker.url):
            assert job_send(job_id=job.pk) is True
        client = redis.Redis.from_url(broker.url)
        messages = client.lrange(broker_key("default"), 0, -1)  # the queue `default`
        client.close()
    finally:
        broker.stop()

    job.refresh_from_db()
    assert job.last_sent_at is not None
    assert len(messages) == 1
    assert str(job.pk).encode() in messages[0]
