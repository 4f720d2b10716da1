"""Beat jobs of rectification orders: thin, idempotent, one service each."""

from celery import shared_task


@shared_task(name="supervision.orders_sweep", ignore_result=True)
def orders_sweep() -> dict:
    from .services import orders_sweep as run

    return run()


@shared_task(name="supervision.suggestions_scan", ignore_result=True)
def suggestions_scan() -> int:
    from .services import suggestions_scan as run

    return run()
