"""Thin tasks of data quality: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task

from wuhan_pdr.kernel.jobs import durable_task


@durable_task("aggregation.quality_run")
def quality_run(job, *, run_id: int) -> None:
    from .services import quality_run_execute

    quality_run_execute(run_id=run_id)


@shared_task(name="aggregation.quality_runs_nightly", ignore_result=True)
def quality_runs_nightly() -> int:
    from .services import quality_runs_nightly as run

    return run()


@shared_task(name="aggregation.quality_issues_overdue", ignore_result=True)
def quality_issues_overdue() -> int:
    from .services import quality_issues_flag_overdue

    return quality_issues_flag_overdue()
