"""Builders for the quality tests: elements and code lists, resources loaded through the
file channel (the real services), faults injected in the datastore table with SQL, and runs
evaluated here."""

from __future__ import annotations

import datetime as dt
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from psycopg import sql

from aggregation import services
from aggregation.datastore import qualified
from aggregation.models import Batch, DatastoreTable, QualityResult, QualityRun
from aggregation.quality import services as quality
from catalog.models import CodeList, CodeValue, DataElement
from tests.aggregation.factories import Setup, assess_channel, make_channel
from tests.catalog import factories as cf

_serial = itertools.count(1)


def code_list(values: list[str], *, identifier: str | None = None) -> CodeList:
    cl = CodeList.objects.create(
        identifier=identifier or f"QT-{next(_serial):04d}", name="测试代码表"
    )
    CodeValue.objects.bulk_create([CodeValue(code_list=cl, code=v, name=f"值{v}") for v in values])
    return cl


def element(**fields) -> DataElement:
    n = next(_serial)
    values = {
        "identifier": f"QE{n:05d}",
        "name": f"质量测试数据元{n}",
        "definition": "测试用。",
        "data_type": "C",
        "format": "c..50",
        "approved_at": dt.date(2024, 1, 1),
    }
    values.update(fields)
    if values.get("code_list") is not None:
        values.setdefault("domain_kind", "code_list")
    if values.get("pattern"):
        values.setdefault("domain_kind", "pattern")
    return DataElement.objects.create(**values)


def load(setup: Setup, text: str, *, name: str = "data.csv") -> Batch:
    with transaction.atomic():
        batch = services.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile(name, text.encode("utf-8")),
            acting_user=setup.agency.staff,
        )
    batch = services.batch_run(batch_id=batch.pk)
    assert batch.status == Batch.Status.SUCCEEDED, (batch.error, batch.row_errors)
    return batch


def execute(sql_text: str, resource, params=()) -> None:
    """Run SQL against the resource's table, named `{t}` in `sql_text` (fault injection)."""
    table = DatastoreTable.objects.get(resource=resource)
    with connection.cursor() as cur:
        cur.execute(sql.SQL(sql_text).format(t=qualified(table)), list(params))


def run_now(resource) -> QualityRun:
    """Evaluate a run of `resource` here (the one a batch queued, or a new one)."""
    with transaction.atomic():
        run = quality._request(resource, QualityRun.Trigger.MANUAL)
    run = quality.quality_run_execute(run_id=run.pk)
    assert run.status == QualityRun.Status.DONE, run.error
    return run


def result(run: QualityRun, kind: str, column: str = "") -> QualityResult:
    return QualityResult.objects.select_related("rule").get(
        run=run, rule__kind=kind, rule__column=column
    )


def setup_with(items: list[dict], **kwargs) -> Setup:
    return make_channel(items=items, **kwargs)


# Catalog fields of a referenced resource: who may see its keys decides who sees the result
# of a reference rule (test_reference_rights.py).
SHARED_ONLY = {"grade": "L2", "share_type": "conditional", "open_type": "none"}
SHARED_OPEN_L1 = {
    "grade": "L1",
    "share_type": "unconditional",
    "open_type": "unconditional",
    "open_legal_basis": "",
}


def published_channel(agency, items, fields) -> Setup:
    fields = {**fields, "grade": cf.grade(fields["grade"])}
    version = cf.make_published(agency, cf.make_city_bureau().reviewer, items=items, **fields)
    resource = version.resource
    resource.refresh_from_db()
    channel = services.channel_create(
        resource=resource,
        kind="file",
        name="参照测试通道",
        access_requirements="政务外网",
        acting_user=agency.staff,
    )
    assess_channel(channel)
    channel = services.channel_activate(channel=channel, acting_user=agency.staff)
    return Setup(agency=agency, resource=resource, channel=channel)
