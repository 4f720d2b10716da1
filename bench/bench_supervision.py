"""Supervision (issue #17): the evaluation's Excel report and the evaluation run.

- `supervision.report.write_ratio`: the report (supervision/evaluation/report.py) for 500
  agencies x 12 indicators x 24 months (144,000 detail rows) against raw openpyxl write-only
  writing the same cells with the same styles, in the same run: our throughput / raw's.
- `supervision.report.memory_ratio`: the report's peak RSS growth at 144,000 rows over its
  growth at 14,400 (each in a fresh child process, bench/rss.py): flat is 1.
- `supervision.run.scan_ratio`: a run of every indicator for 500 agencies over a year of records
  against one plain `count(*)` of each source table it reads, in the same run: medians of
  alternating rounds (a scan of every source table, then a run), so that both meet the same
  load of the shared machine. The source tables are those the run's statements read (checked
  against their plans, see `_sources_read`), each scanned as a table (a sequential scan, not an
  index-only scan of its smallest index, which a vacuumed table would otherwise get), with the
  tables vacuumed once after loading (the state autovacuum leaves them in, so the figure does
  not depend on whether it has been by yet).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENCIES = 500
INDICATORS = 12
MONTHS = 24


# --- the report ------------------------------------------------------------------------------


def _rows(agencies: int, months: int):
    """(as_of, agency, numerator, denominator, measure, score) for each month and agency."""
    names = [f"武汉市测试单位{i:04d}" for i in range(agencies)]
    for m in range(months):
        as_of = dt.date(2024 + m // 12, m % 12 + 1, 28)
        for i, name in enumerate(names):
            den = Decimal(10 + i % 7)
            num = Decimal((i * 7 + m) % 11)
            measure = (100 * num / den).quantize(Decimal("0.01"))
            yield (as_of, name, num, den, measure, measure)


def _specs(agencies: int, months: int):
    from supervision.evaluation.report import SheetSpec

    return [
        SheetSpec(
            title=f"指标{k + 1:02d}",
            unit="%",
            description="说明",
            weight=8,
            rows=_rows(agencies, months),
        )
        for k in range(INDICATORS)
    ]


def _ranking(agencies: int):
    return [
        (i + 1, f"武汉市测试单位{i:04d}", Decimal(90), Decimal(0), Decimal(90))
        for i in range(agencies)
    ]


def report_ours(path, agencies: int = AGENCIES, months: int = MONTHS) -> int:
    from supervision.evaluation.report import write_report

    write_report(
        path,
        plan_name="基准方案",
        period=(dt.date(2024, 1, 1), dt.date(2025, 12, 31)),
        run_label="#24",
        ranking=_ranking(agencies),
        sheets=_specs(agencies, months),
    )
    return agencies * months * INDICATORS


def report_raw(path, agencies: int = AGENCIES, months: int = MONTHS) -> int:
    """The same cells and styles, written directly with openpyxl's write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="1F4E79")
    wb = Workbook(write_only=True)

    def header(ws, titles):
        row = []
        for t in titles:
            c = WriteOnlyCell(ws, value=t)
            c.font, c.fill = head_font, head_fill
            row.append(c)
        ws.append(row)

    def num(ws, v, fmt="0.00"):
        c = WriteOnlyCell(ws, value=float(v))
        c.number_format = fmt
        return c

    ws = wb.create_sheet("汇总")
    ws.freeze_panes = "A2"
    header(ws, ("名次", "单位", "计算得分", "调整分", "最终得分"))
    for rank, agency, computed, adj, final in _ranking(agencies):
        ws.append([num(ws, rank, "0"), agency, num(ws, computed), num(ws, adj), num(ws, final)])
    for k in range(INDICATORS):
        ws = wb.create_sheet(f"指标{k + 1:02d}")
        ws.freeze_panes = "A2"
        header(ws, ("评估日期", "单位", "分子", "分母", "指标值（%）", "得分", "权重"))
        for as_of, agency, n, d, m, s in _rows(agencies, months):
            date = WriteOnlyCell(ws, value=as_of)
            date.number_format = "yyyy-mm-dd"
            ws.append([date, agency, num(ws, n), num(ws, d), num(ws, m), num(ws, s), 8])
    wb.save(path)
    return agencies * months * INDICATORS


def _timed(fn) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        rows = fn(Path(tmp) / "r.xlsx")
        return time.perf_counter() - t, rows


CHILD = r"""
import json, sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import django; django.setup()
import openpyxl, tempfile, pathlib  # noqa: E401
from rss import PeakRSS
import bench_supervision as b
import supervision.evaluation.report  # loaded before measuring
with tempfile.TemporaryDirectory() as tmp:
    with PeakRSS() as rss:
        b.report_ours(pathlib.Path(tmp) / "r.xlsx", agencies={agencies}, months={months})
print(json.dumps({{"growth": rss.growth}}))
"""


def _growth(agencies: int, months: int) -> float:
    code = CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), agencies=agencies, months=months)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["growth"]


# --- the run ---------------------------------------------------------------------------------

YEAR = 2025
# The tables a run reads its figures from: those of the indicators' statements (checked against
# their plans by `_sources_read`) and the working-day calendar (read for the run's period).
SOURCES = (
    "accounts_organization",
    "catalog_informationsystem",
    "catalog_informationsystem_resources",
    "catalog_resource",
    "catalog_resourceversion",
    "aggregation_channel",
    "aggregation_batch",
    "aggregation_qualityrun",
    "aggregation_qualityissue",
    "aggregation_objection",
    "catalog_catalogfeedback",
    "catalog_historicalcatalogfeedback",
    "authorization_sharerequest",
    "aggregation_downtimereport",
    "security_assessment",
    "registration_registration",
    "kernel_calendarday",
)
ROUNDS = 9
BENCH_PREFIX = "评估基准单位"


def _world() -> None:
    """500 agencies with a year of records (made once; kept in the bench database)."""
    from django.db import connection, transaction

    from aggregation.models import (
        Batch,
        Channel,
        DowntimeReport,
        Objection,
        QualityIssue,
        QualityRule,
        QualityRun,
    )
    from authorization.sharing.models import ShareRequest
    from catalog.filing.models import InformationSystem
    from catalog.models import CatalogFeedback, Classification, Resource, ResourceVersion
    from security.assessments.models import Assessment
    from security.models import Grade
    from tests.catalog.conftest import ensure_catalog_base_data
    from wuhan_pdr.accounts.models import Division, Organization, User

    if Organization.objects.filter(name__startswith=BENCH_PREFIX).count() >= AGENCIES:
        return
    ensure_catalog_base_data()
    division = Division.objects.filter(code="420100").first()
    with transaction.atomic():
        orgs = Organization.objects.bulk_create(
            Organization(
                name=f"{BENCH_PREFIX}{i:04d}",
                kind=Organization.Kind.CITY_AGENCY,
                division=division,
                credit_code=f"B{i:017d}",
            )
            for i in range(AGENCIES)
        )
        user = User.objects.create(username="bench_supervision", organization=orgs[0])
        cls = Classification.objects.filter(tree="base").first() or Classification.objects.first()
        grade = Grade.objects.order_by("pk").first()
        base = (
            Resource.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
        )
        resources = Resource.objects.bulk_create(
            Resource(
                code=f"BENCH/{i:06d}",
                provider=orgs[i % AGENCIES],
                classification=cls,
                sequence=base + 100_000 + i,
                created_by=user,
            )
            for i in range(AGENCIES * 6)
        )
        versions = ResourceVersion.objects.bulk_create(
            ResourceVersion(
                resource=r,
                number=1,
                state="published",
                name=f"基准资源{n}",
                grade=grade,
                update_cycle=("daily", "weekly", "monthly", "quarterly")[n % 4],
                published_at=dt.datetime(YEAR - 1, 12, 1, tzinfo=dt.UTC),
                created_by=user,
            )
            for n, r in enumerate(resources)
        )
        for r, v in zip(resources, versions, strict=True):
            r.published_version = v
        Resource.objects.bulk_update(resources, ["published_version"], batch_size=2000)
        systems = InformationSystem.objects.bulk_create(
            InformationSystem(
                organization=orgs[i % AGENCIES],
                name=f"基准系统{i}",
                purpose="业务",
                status="in_use",
                contact_name="张三",
                contact_phone="027-1",
                created_by=user,
            )
            for i in range(AGENCIES * 4)
        )
        through = InformationSystem.resources.through
        through.objects.bulk_create(
            through(informationsystem=s, resource=resources[i * 6 // 4])
            for i, s in enumerate(systems)
            if i % 3
        )
        channels = Channel.objects.bulk_create(
            Channel(
                resource=r,
                kind="file",
                name="基准通道",
                information_system=systems[n * 4 // 6],
                access_requirements="专线",
                state="active",
                created_by=user,
            )
            for n, r in enumerate(resources)
        )
        Assessment.objects.bulk_create(
            Assessment(
                subject_kind="channel",
                subject_id=str(c.pk),
                subject_title=c.name,
                assessor=user,
                assessed_on=dt.date(YEAR, 1, 5),
                findings="-",
                result="pass",
                valid_until=dt.date(YEAR + (n % 2), 6, 30),
            )
            for n, c in enumerate(channels)
        )
    # A year of weekly loads per channel (156,000 batches), a failed one in ten.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO aggregation_batch (id, channel_id, mode, status, external_id, source_file,
                source_name, reject_file, rows_received, rows_inserted, rows_updated,
                rows_rejected, bytes_received, row_errors, error, watermark_before,
                watermark_after, progress, hold_decision, attempts, created_at, started_at,
                finished_at)
            SELECT gen_random_uuid(), c.id, 'full',
                   CASE WHEN (c.id + w) %% 10 = 0 THEN 'failed' ELSE 'succeeded' END,
                   '', '', '', '', 0, 0, 0, 0, 0, '[]', '', '', '', 100, '', 1,
                   t, t, t + interval '5 minutes'
            FROM aggregation_channel c
            JOIN catalog_resource r ON r.id = c.resource_id AND r.code LIKE 'BENCH/%%%%'
            CROSS JOIN generate_series(0, 51) AS w
            CROSS JOIN LATERAL (SELECT make_timestamptz(%s, 1, 3, 2, 0, 0) + w * interval '7 days'
                                AS t) x
            """,
            [YEAR],
        )
    with transaction.atomic():
        runs = QualityRun.objects.bulk_create(
            QualityRun(resource=r, trigger="nightly", status="done", score=Decimal(60 + n % 40))
            for n, r in enumerate(resources * 12)
        )
        QualityRun.objects.filter(pk__in=[q.pk for q in runs]).update(
            finished_at=dt.datetime(YEAR, 6, 1, tzinfo=dt.UTC)
        )
        rules = QualityRule.objects.bulk_create(
            QualityRule(
                resource=r,
                name="非空",
                dimension="completeness",
                kind="not_null",
                column="c",
                created_by=user,
            )
            for r in resources * 3
        )
        QualityIssue.objects.bulk_create(
            QualityIssue(
                resource=rule.resource,
                rule=rule,
                provider_id=rule.resource.provider_id,
                state=("open", "answered", "closed")[n % 3],
                answer=("", "fixed", "explained")[n % 3],
                answered_at=dt.datetime(YEAR, 5, 1 + n % 20, tzinfo=dt.UTC) if n % 3 else None,
            )
            for n, rule in enumerate(rules)
        )
        Objection.objects.bulk_create(
            Objection(
                resource=r,
                requester=user,
                kind="error",
                description="-",
                overdue_flagged_on=dt.date(YEAR, 3, 1) if n % 4 == 0 else None,
            )
            for n, r in enumerate(resources * 2)
        )
        CatalogFeedback.objects.bulk_create(
            CatalogFeedback(
                provider_id=r.provider_id,
                resource=r,
                kind="error",
                description="-",
                requester=user,
                state="adjustment_proposed",
            )
            for r in resources * 2
        )
        ShareRequest.objects.bulk_create(
            ShareRequest(
                resource=r,
                version=r.published_version,
                provider_id=r.provider_id,
                requester=orgs[(n + 1) % AGENCIES],
                requested_by=user,
                share_type="conditional",
                scenario="-",
                basis_kind="duty",
                purpose="-",
                period_start=dt.date(YEAR, 1, 1),
                period_end=dt.date(YEAR, 12, 31),
                expected_daily_rows=1,
                state=("granted", "refused", "pending")[n % 3],
                decided_at=dt.datetime(YEAR, 4, 1 + n % 25, tzinfo=dt.UTC) if n % 3 != 2 else None,
            )
            for n, r in enumerate(resources * 4)
        )
        DowntimeReport.objects.bulk_create(
            DowntimeReport(
                information_system=s,
                kind="outage",
                starts_at=dt.datetime(YEAR, 3, 1, tzinfo=dt.UTC),
                ends_at=dt.datetime(YEAR, 9, 1, tzinfo=dt.UTC),
                description="-",
                reported_by=user,
            )
            for s in systems[::5]
        )
    # Spread creation dates over the year (auto_now_add set them to now).
    with transaction.atomic(), connection.cursor() as cur:
        for table in (
            "aggregation_qualityissue",
            "aggregation_objection",
            "catalog_catalogfeedback",
            "authorization_sharerequest",
        ):
            cur.execute(
                f"UPDATE {table} SET created_at = make_timestamptz(%s, 1, 2, 0, 0, 0) "  # noqa: S608
                f"+ (id %% 300) * interval '1 day'",
                [YEAR],
            )
        cur.execute(
            "UPDATE catalog_historicalcatalogfeedback SET history_date = "
            "make_timestamptz(%s, 1, 2, 0, 0, 0) + (id %% 300 + 3) * interval '1 day'",
            [YEAR],
        )
        cur.execute(
            "UPDATE catalog_informationsystem SET created_at = make_timestamptz(%s, 1, 1, 0, 0, 0)",
            [YEAR - 1],
        )
        cur.execute("ANALYZE")
    _ = Batch  # imported for its table


def _relations(plan) -> set[str]:
    """The tables an EXPLAIN (FORMAT JSON) plan reads."""
    found = set()
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            found.add(plan["Relation Name"])
        for v in plan.values():
            found |= _relations(v)
    elif isinstance(plan, list):
        for v in plan:
            found |= _relations(v)
    return found


def _sources_read(run_id: int) -> set[str]:
    """Every table the run's statements read: the indicators' plans, and the calendar (read by
    the ORM for the run's working days)."""
    from django.db import connection

    from supervision.evaluation import services
    from supervision.evaluation.indicators import indicator
    from supervision.evaluation.models import EvaluationRun
    from wuhan_pdr.kernel.models import CalendarDay

    run = EvaluationRun.objects.select_related("plan").get(pk=run_id)
    params = services.query_params(run)
    tables = {CalendarDay._meta.db_table}
    with connection.cursor() as cur:
        for key in run.plan.indicators.values_list("key", flat=True):
            cur.execute(
                "EXPLAIN (FORMAT JSON) " + services.indicator_select_sql(indicator(key)), params
            )
            plan = cur.fetchone()[0]
            tables |= _relations(json.loads(plan) if isinstance(plan, str) else plan)
    return tables


def _vacuum() -> None:
    """Vacuum and analyze the source tables: the state autovacuum brings them to (visibility
    map set, so index-only scans need no heap fetches), whether or not it has been by yet."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"VACUUM (ANALYZE) {', '.join(SOURCES)}")


def _scan_seconds(*, workers: bool = True) -> float:
    """One plain scan of each source table: `count(*)` read from the table itself (a sequential
    scan; with the index paths off, as a vacuumed table's count would otherwise come from an
    index-only scan of its smallest index, which is not a scan of the table). With parallel
    workers where the server chooses them (the figure's baseline), or, `workers=False`, in one
    process as the run's statements are (reported beside it)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; "
            "SET LOCAL enable_bitmapscan = off"
        )
        if not workers:
            cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        t = time.perf_counter()
        for table in SOURCES:
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (constant names)
            cur.fetchone()
        return time.perf_counter() - t


def _run_seconds() -> tuple[float, int]:
    from django.contrib.auth import get_user_model

    from supervision.evaluation import services
    from supervision.evaluation.indicators import all_indicators
    from supervision.evaluation.models import EvaluationPlan, EvaluationRun

    user = get_user_model().objects.get(username="bench_supervision")
    plan = EvaluationPlan.objects.filter(name="基准评估").first()
    if plan is None:
        keys = [i.key for i in all_indicators()]
        share, rest = divmod(100, len(keys))
        weights = {k: share + (1 if n < rest else 0) for n, k in enumerate(keys)}
        from supervision.evaluation.models import PlanIndicator

        plan = EvaluationPlan.objects.create(
            name="基准评估",
            period_start=dt.date(YEAR, 1, 1),
            period_end=dt.date(YEAR, 12, 31),
            created_by=user,
        )
        PlanIndicator.objects.bulk_create(
            PlanIndicator(plan=plan, key=k, weight=w, order=n)
            for n, (k, w) in enumerate(weights.items())
        )
    number = (plan.runs.count() or 0) + 1
    run = EvaluationRun.objects.create(
        plan=plan, number=number, as_of=dt.date(YEAR, 12, 31), created_by=user
    )
    t = time.perf_counter()
    services.run_compute(run_id=run.pk)
    return time.perf_counter() - t, run.pk


def scan_ratio() -> dict:
    _world()
    _vacuum()
    _, run_id = _run_seconds()  # warm the caches
    read = _sources_read(run_id)
    if read != set(SOURCES):
        raise AssertionError(
            f"the baseline must scan the tables the run reads: missing {read - set(SOURCES)}, "
            f"not read {set(SOURCES) - read}"
        )
    _scan_seconds()
    scan_times, serial_times, run_times = [], [], []
    for _ in range(ROUNDS):
        scan_times.append(_scan_seconds())
        serial_times.append(_scan_seconds(workers=False))
        run_times.append(_run_seconds()[0])
    scans, runs = statistics.median(scan_times), statistics.median(run_times)
    serial = statistics.median(serial_times)
    return {
        "name": "supervision.run.scan_ratio",
        "value": round(runs / scans, 3),
        "unit": "ratio",
        "target": "<= 5",
        "baseline": round(scans, 3),
        "method": (
            f"run_compute of all indicators for {AGENCIES}+ agencies over a year "
            f"({runs:.3f} s) / count(*) of its {len(SOURCES)} source tables, each a "
            f"sequential scan ({scans:.3f} s, the baseline); medians of {ROUNDS} "
            "alternating rounds, source tables vacuumed"
        ),
        "run_s": [round(x, 3) for x in run_times],
        "scan_s": [round(x, 3) for x in scan_times],
        # The same scans without parallel workers (one process, as the run's statements): the
        # baseline above varies with how many cores are idle, this one much less.
        "scan_one_process_s": [round(x, 3) for x in serial_times],
        "ratio_to_one_process_scan": round(runs / serial, 3),
    }


def run() -> list[dict]:
    # Warm up (imports, first workbook), then the better of two of each.
    _timed(lambda p: report_raw(p, 20, 2))
    _timed(lambda p: report_ours(p, 20, 2))
    raw = min(_timed(report_raw)[0] for _ in range(2))
    ours_s, rows = min(_timed(report_ours) for _ in range(2))
    small_months = max(1, MONTHS // 10)
    small = _growth(AGENCIES, small_months)
    large = _growth(AGENCIES, MONTHS)
    return [
        {
            "name": "supervision.report.write_ratio",
            "value": round(raw / ours_s, 3),
            "unit": "ratio",
            "target": ">= 0.8",
            "baseline": round(rows / raw),
            "method": (
                f"report of {AGENCIES} agencies x {INDICATORS} indicators x {MONTHS} months "
                f"({rows} rows): raw openpyxl write-only seconds / ours "
                f"({ours_s:.2f} s, {rows / ours_s:.0f} rows/s; baseline in rows/s)"
            ),
        },
        {
            "name": "supervision.report.memory_ratio",
            "value": round(large / max(small, 0.1), 3),
            "unit": "ratio",
            "target": "<= 1.5",
            "baseline": round(small, 1),
            "method": (
                f"peak RSS growth writing {rows} rows ({large:.1f} MB) over "
                f"{AGENCIES * INDICATORS * small_months} rows "
                f"({small:.1f} MB, the baseline), fresh child processes"
            ),
        },
        scan_ratio(),
    ]
