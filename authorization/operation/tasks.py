"""The periodic job of authorized operation (beat "operation.daily"): thin and idempotent."""

from celery import shared_task


@shared_task(name="operation.daily", ignore_result=True)
def operation_daily(today: str | None = None) -> dict:
    """`today` (ISO date) lets an operator re-run a missed day; beat sends none."""
    import datetime as dt

    from .services import operation_daily as run

    return run(today=dt.date.fromisoformat(today) if today else None)
