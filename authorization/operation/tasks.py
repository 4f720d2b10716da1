"""The periodic job of authorized operation (beat "operation.daily"): thin and idempotent."""

from celery import shared_task


@shared_task(name="operation.daily", ignore_result=True)
def operation_daily() -> dict:
    from .services import operation_daily as run

    return run()
