"""Thin tasks of open data: they take ids and call one service."""

from __future__ import annotations

from wuhan_pdr.kernel.jobs import durable_task


@durable_task("opendata.downloads_build")
def downloads_build(job, *, resource_id: int, batch_id: str = "") -> None:
    from .services import downloads_build as run

    run(resource_id=resource_id, batch_id=batch_id)
