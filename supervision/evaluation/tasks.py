"""Jobs of the evaluation: a run (long queue, durable) and the monthly report copies (beat)."""

from celery import shared_task

from wuhan_pdr.kernel.jobs import durable_task


@durable_task("supervision.evaluation_run")
def evaluation_run(job, *, run_id: int) -> None:
    from .services import run_compute, run_failed

    try:
        run_compute(run_id=run_id, job=job)
    except BaseException as exc:  # recorded on the run, then the job fails as usual
        run_failed(run_id=run_id, error=str(exc) or exc.__class__.__name__)
        raise


@shared_task(name="supervision.report_monthly", ignore_result=True)
def report_monthly() -> int:
    from .report import report_copies_monthly

    return report_copies_monthly()
