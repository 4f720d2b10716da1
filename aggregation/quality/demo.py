"""Demo quality data (order 60, after the aggregation demo at 50): the derived rules of every
resource that has data, and one run of each, evaluated here (no worker needed). Idempotent:
a resource that already has a finished run is left alone."""

from __future__ import annotations

from django.db import transaction

from wuhan_pdr.kernel.demo import Seeder, register_seeder

from ..models import DatastoreTable, QualityRun
from . import services


def seed(context: dict) -> None:
    for table in DatastoreTable.objects.select_related("resource"):
        resource = table.resource
        if resource.published_version_id is None:
            continue
        if QualityRun.objects.filter(resource=resource, status=QualityRun.Status.DONE).exists():
            continue
        with transaction.atomic():
            run = services._request(resource, QualityRun.Trigger.MANUAL)
        services.quality_run_execute(run_id=run.pk)


register_seeder(Seeder("quality", 60, seed))
