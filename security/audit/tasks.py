from celery import shared_task

from wuhan_pdr.kernel.jobs import durable_task


@shared_task(name="security.audit_prune", ignore_result=True)
def audit_prune() -> int:
    from .services import audit_prune as run

    return run()


@durable_task("security.audit_verify")
def audit_verify(job) -> None:
    from .services import audit_verify_run

    audit_verify_run()
