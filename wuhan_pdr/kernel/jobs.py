"""Reliable background work (a transactional outbox).

`job_enqueue` records a `BackgroundJob` in the caller's transaction and sends it to Celery
after that transaction commits. If the broker is down then, nothing is lost: the job stays
pending and the beat task `kernel.sweep_background_jobs` sends it again. The worker runs the
job under a PostgreSQL advisory lock, so two deliveries of one job never run at once, and
marks it done, so a late duplicate does nothing. Job functions must still be idempotent: a
worker killed halfway leaves the job to be run again from the start.

Every task has a soft and a hard time limit (settings: CELERY_TASK_SOFT_TIME_LIMIT, and
CELERY_LONG_TASK_SOFT_TIME_LIMITS for the long ones, which run on their own queue). A job
that reaches its soft limit is marked failed at once, with the reason, and not retried: it
would only time out again. A statement it was running is cancelled, so PostgreSQL rolls its
transaction back (services that must record a failure of their own, such as a batch load,
catch `SoftTimeLimitExceeded` themselves and call `db_cancel_running_statement` first).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import BackgroundJob

logger = logging.getLogger(__name__)

JobFunction = Callable[..., None]
_REGISTRY: dict[str, JobFunction] = {}


def durable_task(name: str):
    """Declare `fn(job, **kwargs)` as a job that `job_enqueue(task_name=name, ...)` runs.

    The Celery task it creates takes only the job id; the arguments are read from the row.
    """

    def decorator(fn: JobFunction):
        _REGISTRY[name] = fn

        @shared_task(name=name, acks_late=True, reject_on_worker_lost=True)
        def runner(job_id: str) -> str:
            return job_run(job_id=job_id)

        runner.job_function = fn
        return runner

    return decorator


def job_enqueue(*, task_name: str, kwargs: dict | None = None, acting_user=None) -> BackgroundJob:
    """Record a job in the current transaction and send it once the transaction commits."""
    if task_name not in _REGISTRY:
        raise ValueError(f"no durable task named {task_name!r}")
    job = BackgroundJob.objects.create(
        task_name=task_name,
        kwargs=kwargs or {},
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    transaction.on_commit(lambda: job_send(job_id=job.pk))
    return job


def job_send(*, job_id) -> bool:
    """Hand a job to the broker. Returns False (and leaves it pending) if the broker is down."""
    from wuhan_pdr.celery import app

    job = BackgroundJob.objects.filter(pk=job_id).only("task_name").first()
    if job is None:
        return False
    try:
        # Fail at once when the broker is unreachable (no publish retries, and no connection
        # retries either: kombu would otherwise keep trying for seconds); the sweep tries again.
        with app.connection_for_write(transport_options={"max_retries": 0}) as conn:
            app.send_task(
                job.task_name, kwargs={"job_id": str(job_id)}, retry=False, connection=conn
            )
    except Exception as exc:  # kombu and redis raise several kinds of connection errors
        logger.warning("background job %s not sent, the sweep will retry: %s", job_id, exc)
        return False
    BackgroundJob.objects.filter(pk=job_id).update(last_sent_at=timezone.now())
    return True


def _lock_key(job_id) -> int:
    return int(str(job_id).replace("-", "")[:15], 16)


def db_cancel_running_statement() -> None:
    """After an interruption raised in the middle of a query (a soft time limit): ask
    PostgreSQL to cancel the statement still running on this process's connection. The
    connection then fails its ROLLBACK and Django drops it; PostgreSQL rolls the transaction
    back, and the next query opens a new connection."""
    raw = connection.connection
    if raw is None:
        return
    try:
        from psycopg.pq import TransactionStatus

        if raw.pgconn.transaction_status == TransactionStatus.ACTIVE:
            raw.cancel_safe(timeout=5)
    except Exception as exc:  # the connection may be broken already: nothing to cancel
        logger.warning("could not cancel the running statement: %s", exc)


def db_drop_connection_if_broken() -> None:
    """Close this process's connection if it no longer answers (after an interruption), so
    that the next query opens a new one."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()


@contextlib.contextmanager
def statement_cancelled_on_time_limit():
    """Inside `transaction.atomic()`: when the soft time limit interrupts the block in the
    middle of a query, cancel that query before the block rolls back (see above)."""
    try:
        yield
    except SoftTimeLimitExceeded:
        db_cancel_running_statement()
        raise


def time_limit_message(soft_limit: int | None) -> str:
    from django.utils.translation import gettext as _

    if soft_limit:
        return _(
            "The job ran longer than its time limit of %(minutes)s minutes and was stopped."
        ) % {"minutes": round(soft_limit / 60, 1)}
    return _("The job ran longer than its time limit and was stopped.")


def job_progress(job: BackgroundJob, percent: int) -> None:
    """Report progress (0-100) of a running job; visible at once to pages that poll it."""
    percent = max(0, min(100, int(percent)))
    BackgroundJob.objects.filter(pk=job.pk).update(progress=percent)


def job_run(*, job_id: str) -> str:
    """Run one job in the worker. Returns what happened, for the log."""
    key = _lock_key(job_id)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cur.fetchone()[0]:
            return "busy"
    try:
        job = BackgroundJob.objects.filter(pk=job_id).first()
        if job is None or job.state in (BackgroundJob.State.DONE, BackgroundJob.State.FAILED):
            return "skipped"
        fn = _REGISTRY.get(job.task_name)
        if fn is None:
            raise LookupError(f"no durable task named {job.task_name!r} in this worker")
        BackgroundJob.objects.filter(pk=job.pk).update(
            state=BackgroundJob.State.RUNNING,
            started_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        try:
            fn(job, **job.kwargs)
        except SoftTimeLimitExceeded:
            db_cancel_running_statement()
            db_drop_connection_if_broken()
            BackgroundJob.objects.filter(pk=job.pk).update(
                state=BackgroundJob.State.FAILED,
                last_error=time_limit_message(soft_time_limit_of(job.task_name)),
                finished_at=timezone.now(),
            )
            logger.error("background job %s (%s) reached its time limit", job.pk, job.task_name)
            return "timed out"
        except Exception as exc:
            job.refresh_from_db(fields=["attempts"])
            final = job.attempts >= settings.BACKGROUND_JOB_MAX_ATTEMPTS
            BackgroundJob.objects.filter(pk=job.pk).update(
                state=BackgroundJob.State.FAILED if final else BackgroundJob.State.PENDING,
                last_error=f"{type(exc).__name__}: {exc}"[:4000],
                finished_at=timezone.now() if final else None,
            )
            logger.exception("background job %s (%s) failed", job.pk, job.task_name)
            return "failed"
        BackgroundJob.objects.filter(pk=job.pk).update(
            state=BackgroundJob.State.DONE, finished_at=timezone.now(), progress=100
        )
        return "done"
    finally:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])
        except Exception as exc:  # a dropped connection released its locks already
            logger.warning("advisory lock of job %s not released: %s", job_id, exc)


def soft_time_limit_of(task_name: str) -> int | None:
    """The soft time limit (seconds) a task runs under, as the worker applies it."""
    from wuhan_pdr.celery import app

    task = app.tasks.get(task_name)
    return getattr(task, "soft_time_limit", None) or app.conf.task_soft_time_limit


def jobs_due_for_resend(*, now=None):
    """Pending jobs not sent recently, and running jobs whose worker has not finished them
    long after they started (a killed worker; the advisory lock tells the runner if not)."""
    now = now or timezone.now()
    after = settings.BACKGROUND_JOB_RESEND_AFTER
    return BackgroundJob.objects.filter(
        Q(
            state=BackgroundJob.State.PENDING,
            created_at__lt=now - after,
        )
        & (Q(last_sent_at__isnull=True) | Q(last_sent_at__lt=now - after))
        | Q(
            state=BackgroundJob.State.RUNNING,
            started_at__lt=now - max(after, settings.BACKGROUND_JOB_STALE_AFTER),
        )
    ).order_by("created_at")


def jobs_sweep(*, limit: int = 500) -> int:
    """Send again every job that should have started by now. Returns how many were sent."""
    sent = 0
    for job_id in jobs_due_for_resend().values_list("pk", flat=True)[:limit]:
        if job_send(job_id=job_id):
            sent += 1
        else:
            break  # the broker is down: the next sweep tries again
    return sent
