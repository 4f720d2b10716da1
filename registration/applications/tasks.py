"""The periodic job of registration (beat "registration.daily"): thin, idempotent."""

from celery import shared_task


@shared_task(name="registration.daily", ignore_result=True)
def registration_daily() -> dict:
    from .services import registrations_daily

    return registrations_daily()
