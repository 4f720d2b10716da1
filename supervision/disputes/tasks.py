from celery import shared_task


@shared_task(name="supervision.disputes_sweep", ignore_result=True)
def disputes_sweep() -> int:
    from .services import disputes_sweep as run

    return run()
