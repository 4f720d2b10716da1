"""The daily expiry and reminder job of security assessments (beat
"security.assessments_daily")."""

from celery import shared_task


@shared_task(name="security.assessments_daily", ignore_result=True)
def assessments_daily() -> dict:
    from .services import assessments_daily as run

    return run()
