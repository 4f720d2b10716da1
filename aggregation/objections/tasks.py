"""The daily overdue flag of objections (beat entry "aggregation.objections_flag_overdue")."""

from celery import shared_task


@shared_task(name="aggregation.objections_flag_overdue", ignore_result=True)
def objections_flag_overdue() -> int:
    from .services import objections_flag_overdue as run

    return run()
