"""Thin tasks of evidence: they take ids and call one service."""

from __future__ import annotations

from wuhan_pdr.kernel.jobs import durable_task


@durable_task("evidence.deposit_make")
def deposit_make(job, *, deposit_id: int) -> None:
    from .services import deposit_make as run

    run(deposit_id=deposit_id, job=job)
