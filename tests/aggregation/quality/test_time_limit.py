"""A quality run stopped at its soft time limit fails with a message that says so (not an
empty error), and the previous results stay."""

from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction

from aggregation.models import QualityRun
from aggregation.quality import engine
from aggregation.quality import services as quality
from tests.aggregation.factories import make_channel
from wuhan_pdr.kernel.jobs import soft_time_limit_of, time_limit_message

from .factories import load, run_now


def test_a_run_stopped_at_its_time_limit_says_so(db, monkeypatch):
    setup = make_channel(
        items=[
            {
                "name": "代码",
                "english_name": "code",
                "data_type": "C",
                "length": 12,
                "is_key": True,
            },
            {"name": "名称", "english_name": "name", "data_type": "C", "length": 20},
        ]
    )
    load(setup, "code,name\n1,甲\n2,乙\n")
    done = run_now(setup.resource)

    def stopped(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(engine, "evaluate", stopped)  # the worker's signal, at the scan
    with transaction.atomic():
        run = quality._request(setup.resource, QualityRun.Trigger.MANUAL)
    run = quality.quality_run_execute(run_id=run.pk)

    assert run.status == QualityRun.Status.FAILED
    limit = soft_time_limit_of("aggregation.quality_run")
    assert limit and run.error == time_limit_message(limit)
    done.refresh_from_db()
    assert done.status == QualityRun.Status.DONE and done.results.exists()
