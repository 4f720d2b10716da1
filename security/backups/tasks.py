"""Thin tasks of backups and restore drills: durable jobs on the `long` queue, and beat's
daily backup and weekly drill, which only queue them."""

from __future__ import annotations

from celery import shared_task

from wuhan_pdr.kernel.jobs import durable_task


@durable_task("security.backup_run")
def backup_run(job) -> None:
    from .services import backup_create

    backup_create(acting_user=job.created_by, job=job)


@durable_task("security.restore_drill_run")
def restore_drill_run(job) -> None:
    from .services import restore_drill_run as run

    run(acting_user=job.created_by, job=job)


@shared_task(name="security.backup_daily", ignore_result=True)
def backup_daily() -> bool:
    from .services import backup_schedule

    return backup_schedule()


@shared_task(name="security.restore_drill_weekly", ignore_result=True)
def restore_drill_weekly() -> bool:
    from .services import restore_drill_schedule

    return restore_drill_schedule()
