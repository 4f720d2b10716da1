from celery import shared_task

from .jobs import jobs_sweep
from .notifications import notifications_purge


@shared_task(name="kernel.sweep_background_jobs")
def sweep_background_jobs() -> int:
    return jobs_sweep()


@shared_task(name="kernel.purge_old_notifications")
def purge_old_notifications() -> int:
    return notifications_purge()


@shared_task(name="kernel.ping")
def ping() -> str:
    return "pong"


@shared_task(name="kernel.ledger_integrate")
def ledger_integrate() -> dict[str, int]:
    """Every log's pending leaves get their index and a signed head (queue `ledger`)."""
    from .ledger import LOGS
    from .ledger.tree import integrate

    return {log: integrate(log) for log in LOGS}
