"""The periodic jobs of sharing (beat "sharing.daily" and "sharing.volume_check"): thin,
idempotent, calling one service each."""

from celery import shared_task


@shared_task(name="sharing.daily", ignore_result=True)
def sharing_daily() -> dict:
    from .services import sharing_daily as run

    return run()


@shared_task(name="sharing.volume_check")
def volume_check(day: str | None = None) -> int:
    import datetime as dt

    from .services import grants_volume_check

    return grants_volume_check(day=dt.date.fromisoformat(day) if day else None)
