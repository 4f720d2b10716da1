"""The periodic job of pilots (beat "pilots.daily"): thin, idempotent, one service."""

from celery import shared_task


@shared_task(name="pilots.daily", ignore_result=True)
def pilots_daily() -> dict:
    from .services import pilots_daily as run

    return run()
