"""Reliable background work (a transactional outbox).

`job_enqueue` records a `BackgroundJob` in the caller's transaction and sends it to Celery
after that transaction commits. If the broker is down then, nothing is lost: the job stays
pending and the beat task `kernel.sweep_background_jobs` sends it again. The worker runs the
job under a PostgreSQL advisory lock, so two deliveries of one job never run at once, and
marks it done, so a late duplicate does nothing. Job functions must still be idempotent: a
worker killed halfway leaves the job to be run again from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
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
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [key])


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
