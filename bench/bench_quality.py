"""Issue #7: all derived quality rules on the 1,000,000-row resource, beside a baseline
written by hand here and run in the same process.

Data: tests/aggregation/bigfile.py (12 columns, 1,000,000 rows), loaded once through
aggregation.services (a file channel, `batch_run`) into a published resource whose items give
the rules something real to check: the key `code` bound to an element of format an..20, the
title to c..100, the quantity required (not null), `area_code` bound to an element of format
n6 whose value domain is a code list (420101..420116: every 17th row, 420100, fails), and the
update flag `updated_at` (checked against the future).

- platform: `quality_run_execute` of a run (sync the derived rules, the engine's one scan with
  every per-row rule, the key statement, the sample queries for the failing rules, the
  table-level rules, results, scores and issues written);
- baseline: ONE hand-written statement counting the failures of every per-row rule in a
  single scan (with the code list joined), plus ONE statement for key uniqueness.

Figure `quality.run.baseline_ratio` = platform time / baseline time (medians of alternating
rounds). Target <= 1.5.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from aggregation import services
from aggregation.datastore import qualified
from aggregation.models import Batch, DatastoreTable, QualityResult, QualityRun
from aggregation.quality import services as quality
from catalog.models import CodeList, CodeValue, DataElement, ResourceVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.aggregation.bigfile import ITEMS, write_csv  # noqa: E402

N = 1_000_000
ROUNDS = 3
NAME = "质量基准测试"


def _element(identifier: str, name: str, fmt: str, code_list=None) -> DataElement:
    element = DataElement.objects.filter(identifier=identifier).first()
    if element is None:
        element = DataElement.objects.create(
            identifier=identifier,
            name=name,
            definition="基准测试用。",
            data_type="C",
            format=fmt,
            domain_kind="code_list" if code_list else "none",
            code_list=code_list,
            approved_at=dt.date(2024, 1, 1),
        )
    return element


def _items() -> list[dict]:
    areas, made = CodeList.objects.get_or_create(identifier="BENCH-AREA", name="基准区划代码")
    if made:
        CodeValue.objects.bulk_create(
            [CodeValue(code_list=areas, code=f"4201{i:02d}", name=f"区{i}") for i in range(1, 17)]
        )
    elements = {
        "code": _element("BENCH-CODE", "基准编号", "an..20"),
        "title": _element("BENCH-TITLE", "基准名称", "c..100"),
        "area_code": _element("BENCH-AREA", "基准区划代码", "n6", areas),
    }
    items = []
    for item in ITEMS:
        item = dict(item)
        if item["english_name"] in elements:
            item["element"] = elements[item["english_name"]]
        if item["english_name"] == "quantity":
            item["nullable"] = False
        items.append(item)
    return items


def _resource():
    version = (
        ResourceVersion.objects.filter(name=NAME, state=ResourceVersion.State.PUBLISHED)
        .select_related("resource")
        .first()
    )
    if version is not None:
        table = DatastoreTable.objects.filter(resource=version.resource).first()
        if table is not None and table.row_count == N:
            return version.resource
        channel = version.resource.channels.first()
    else:
        from tests.accounts.factories import OrganizationFactory, UserFactory
        from tests.aggregation.factories import make_channel
        from wuhan_pdr.accounts.models import Organization, User

        # factory sequences restart in each process: start past what the database holds
        OrganizationFactory.reset_sequence(Organization.objects.count() + 10_000)
        UserFactory.reset_sequence(User.objects.count() + 10_000)
        with transaction.atomic():
            setup = make_channel(items=_items(), name=NAME)
            version = setup.resource.published_version
            version.name = NAME
            version.save(update_fields=["name"])
        channel = setup.channel
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        path = write_csv(Path(tmp) / "big.csv", N)
        with path.open("rb") as f, transaction.atomic():
            batch = services.batch_upload(
                channel=channel,
                uploaded=SimpleUploadedFile(path.name, f.read()),
                acting_user=channel.created_by,
            )
    batch = services.batch_run(batch_id=batch.pk)
    if batch.status != Batch.Status.SUCCEEDED:
        raise RuntimeError(batch.error)
    if batch.source_file:
        batch.source_file.delete(save=False)
    return channel.resource


def _platform(resource) -> tuple[float, QualityRun]:
    with transaction.atomic():
        run = quality._request(resource, QualityRun.Trigger.MANUAL)
    t = time.perf_counter()
    run = quality.quality_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - t
    if run.status != QualityRun.Status.DONE:
        raise RuntimeError(run.error)
    return seconds, run


def _baseline(table_name: str, code_list_id: int) -> tuple[float, list]:
    """The hand-written checks: one scan for every per-row rule, one for the key."""
    t = qualified(table_name)
    scan = sql.SQL(
        """
        SELECT count(*),
               count(*) FILTER (WHERE t.code IS NULL OR btrim(t.code) = ''),
               count(*) FILTER (WHERE t.quantity IS NULL),
               count(*) FILTER (WHERE t.code IS NOT NULL AND btrim(t.code) <> ''
                                AND (t.code !~ '^[0-9A-Za-z]*$'
                                     OR char_length(t.code) NOT BETWEEN 0 AND 20)),
               count(*) FILTER (WHERE t.title IS NOT NULL AND btrim(t.title) <> ''
                                AND char_length(t.title) NOT BETWEEN 0 AND 100),
               count(*) FILTER (WHERE t.area_code IS NOT NULL AND btrim(t.area_code) <> ''
                                AND (t.area_code !~ '^[0-9]*$'
                                     OR char_length(t.area_code) NOT BETWEEN 0 AND 6)),
               count(*) FILTER (WHERE t.area_code IS NOT NULL AND btrim(t.area_code) <> ''
                                AND c.v IS NULL),
               count(*) FILTER (WHERE t.updated_at > %s)
        FROM {t} AS t
        LEFT JOIN (SELECT DISTINCT code AS v FROM catalog_codevalue
                   WHERE code_list_id = %s
                     AND (valid_from IS NULL OR valid_from <= %s)
                     AND (valid_to IS NULL OR valid_to >= %s)) c ON c.v = t.area_code
        """
    ).format(t=t)
    key = sql.SQL(
        "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {t} GROUP BY code "
        "HAVING count(*) > 1) d"
    ).format(t=t)
    now = timezone.now()
    today = timezone.localdate(now)
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(scan, [now.replace(tzinfo=None), code_list_id, today, today])
        counts = list(cur.fetchone())
        cur.execute(key)
        counts.append(cur.fetchone()[0])
    return time.perf_counter() - started, counts


def run() -> list[dict]:
    resource = _resource()
    table = DatastoreTable.objects.get(resource=resource)
    code_list_id = CodeList.objects.get(identifier="BENCH-AREA").pk
    # warm both once (caches, the plan)
    _baseline(table.table_name, code_list_id)
    _platform(resource)
    platform_times, baseline_times = [], []
    for _round in range(ROUNDS):
        b, counts = _baseline(table.table_name, code_list_id)
        baseline_times.append(b)
        p, last = _platform(resource)
        platform_times.append(p)
    results = QualityResult.objects.filter(run=last).select_related("rule")
    per_row = [r for r in results if r.rule.kind not in ("unique_key",) and r.rows_checked == N]
    # the platform found what the baseline counted
    assert counts[0] == N, counts
    assert sorted(r.rows_failed for r in per_row) == sorted(counts[1:-1]), (
        counts,
        [(r.rule.kind, r.rule.column, r.rows_failed) for r in per_row],
    )
    platform = statistics.median(platform_times)
    baseline = statistics.median(baseline_times)
    rules = results.count()
    return [
        {
            "name": "quality.run.baseline_ratio",
            "value": round(platform / baseline, 3),
            "unit": "ratio",
            "target": "<= 1.5",
            "baseline": {"baseline_s": round(baseline, 2), "platform_s": round(platform, 2)},
            "rules": rules,
            "per_row_rules": len(per_row),
            "failing_rows": {f"{r.rule.kind}:{r.rule.column}": r.rows_failed for r in results},
            "method": f"{N:,}-row, 12-column resource loaded through the file channel; "
            f"platform: quality_run_execute with all {rules} derived rules (rule sync, one "
            "scan for every per-row rule, one key statement, sample queries for failing rules, "
            "batch-history rules, results and issues written) vs a hand-written single-scan "
            "statement counting every per-row rule's failures (code list joined) plus one "
            f"key-uniqueness statement, same process; medians of {ROUNDS} alternating rounds "
            "after one warm-up each; figure = platform / baseline",
        }
    ]
