"""Thin Celery tasks of the aggregation chapter: they take ids and call one service."""

from __future__ import annotations

from celery import shared_task

from wuhan_pdr.kernel.jobs import durable_task


@durable_task("aggregation.run_batch")
def run_batch(job, *, batch_id: str) -> None:
    from .services import batch_run

    batch_run(batch_id=batch_id)


@durable_task("aggregation.datastore_rebuild")
def datastore_rebuild(job, *, resource_id: int, user_id: int) -> None:
    from .services import datastore_rebuild as run

    run(resource_id=resource_id, user_id=user_id)


@durable_task("aggregation.read_functions_remake")
def read_functions_remake(job, *, table_ids: list[int]) -> None:
    from .readfunctions import read_functions_remake as run

    run(table_ids=table_ids)


@durable_task("aggregation.stored_hashes_backfill")
def stored_hashes_backfill(job, *, table_ids: list[int]) -> None:
    from .readfunctions import stored_hashes_backfill as run

    run(table_ids=table_ids)


@shared_task(name="aggregation.stored_hashes_sweep", ignore_result=True)
def stored_hashes_sweep() -> int:
    from .readfunctions import stored_hashes_sweep as run

    return len(run())


@shared_task(name="aggregation.schedule_due_channels", ignore_result=True)
def schedule_due_channels() -> int:
    from .services import schedule_due_channels as run

    return run()


@shared_task(name="aggregation.push_housekeeping", ignore_result=True)
def push_housekeeping() -> str:
    from .push import push_housekeeping as run

    expired, deleted = run()
    return f"{expired} expired, {deleted} chunks deleted"


@shared_task(name="aggregation.batch_files_purge", ignore_result=True)
def batch_files_purge() -> int:
    from .services import batch_files_purge as run

    return run()
