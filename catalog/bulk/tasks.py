"""The durable job of a bulk filing: takes the filing's id, calls the service."""

from __future__ import annotations

from wuhan_pdr.kernel.jobs import durable_task

from .services import TASK_NAME, bulk_filing_process


@durable_task(TASK_NAME)
def bulk_filing_process_job(job, *, filing_id: int) -> None:
    bulk_filing_process(filing_id=filing_id, job=job)
