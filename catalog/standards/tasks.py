"""Background jobs of the data-element standard."""

from __future__ import annotations

from wuhan_pdr.kernel.jobs import durable_task

from .impact import TASK_NAME


@durable_task(TASK_NAME)
def impact_count(job, *, request_id: int) -> None:
    """Count the stored values that would fail a change request's proposal (long queue)."""
    from .impact import impact_count_run

    impact_count_run(request_id=request_id)
