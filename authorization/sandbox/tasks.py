"""The periodic job of the sandbox (beat "sandbox.daily"): thin, idempotent, one service."""

from celery import shared_task


@shared_task(name="sandbox.daily", ignore_result=True)
def sandbox_daily() -> dict:
    from .services import sandbox_daily as run

    return run()
