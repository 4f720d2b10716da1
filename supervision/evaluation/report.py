"""The evaluation's Excel report (Art. 29; the design card's "admins exporting evaluation
reports to Excel"), written with openpyxl's write-only mode so that memory stays flat however
many rows it has.

Sheets: 汇总 (the ranking of the chosen run, a native bar chart of the scores), then one sheet
per indicator with a row per run and agency (so a plan's runs show the trend), frozen header
rows, number and date formats, Chinese headers, print settings (landscape, fit to width, the
header repeated on each page). No cell is ever a formula: every text cell goes through
`kernel.excel.safe_value` and a text that starts like a formula is stored as text.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill

from wuhan_pdr.kernel.excel import FORMULA_PREFIXES, safe_value

NUMBER = "0.00"
DATE = "yyyy-mm-dd"

SUMMARY_HEADER = ("名次", "单位", "计算得分", "调整分", "最终得分")
DETAIL_HEADER = ("评估日期", "单位", "分子", "分母", "指标值", "得分", "权重")


@dataclass(frozen=True)
class SheetSpec:
    title: str  # the indicator's name (sheet title, cut to 31 characters)
    unit: str
    description: str
    weight: int
    rows: Iterable[Sequence]  # (as_of date, agency, numerator, denominator, measure, score)


class _Styles:
    """One set of style objects shared by every cell (openpyxl keeps them once)."""

    def __init__(self):
        self.head_font = Font(bold=True, color="FFFFFF")
        self.head_fill = PatternFill("solid", fgColor="1F4E79")
        self.wrap = Alignment(wrap_text=True, vertical="top")
        self.title_font = Font(bold=True, size=14)


def _text(ws, value):
    """A text cell. Plain printable text is appended as it is (what raw openpyxl does); text
    with control characters goes through `safe_value`, and text that would start a formula
    becomes a cell typed as a string, so Excel shows it and never evaluates it."""
    if not (isinstance(value, str) and value.isprintable()):
        value = safe_value(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell
    return value


def _header(ws, styles: _Styles, titles: Sequence[str]) -> list:
    row = []
    for t in titles:
        c = WriteOnlyCell(ws, value=t)
        c.font = styles.head_font
        c.fill = styles.head_fill
        row.append(c)
    return row


def _print_setup(ws, *, columns: Sequence[int]) -> None:
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    for i, width in enumerate(columns, start=1):
        ws.column_dimensions[chr(64 + i)].width = width


def _number(ws, value, fmt=NUMBER):
    cell = WriteOnlyCell(ws, value=None if value is None else float(value))
    cell.number_format = fmt
    return cell


def _date(ws, value):
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = DATE
    return cell


def _unique_title(title: str, used: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "指标"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]}{n}", n + 1
    used.add(name)
    return name


def write_report(
    target,
    *,
    plan_name: str,
    period: tuple[dt.date, dt.date],
    run_label: str,
    ranking: Iterable[Sequence],
    sheets: Iterable[SheetSpec],
) -> None:
    """Write the workbook to `target` (a path or a binary file). `ranking` rows:
    (rank, agency, computed, adjustment, final)."""
    styles = _Styles()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="汇总")
    _print_setup(ws, columns=(8, 40, 12, 12, 12))
    ws.append(_header(ws, styles, SUMMARY_HEADER))
    n = 0
    for rank, agency, computed, adjustment, final in ranking:
        ws.append(
            [
                _number(ws, rank, "0") if rank is not None else _text(ws, "—"),
                _text(ws, agency),
                _number(ws, computed),
                _number(ws, adjustment),
                _number(ws, final),
            ]
        )
        n += 1
    ws.append([])
    ws.append([_text(ws, "评估方案"), _text(ws, plan_name)])
    ws.append([_text(ws, "评估期间"), _date(ws, period[0]), _date(ws, period[1])])
    ws.append([_text(ws, "本次评估"), _text(ws, run_label)])
    if n:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "单位最终得分"
        chart.y_axis.title = "得分"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 100
        shown = min(n, 30)
        chart.add_data(
            Reference(ws, min_col=5, min_row=1, max_row=1 + shown), titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=2, min_row=2, max_row=1 + shown))
        chart.height = max(7.5, 0.5 * shown)
        chart.width = 18
        chart.legend = None
        ws.add_chart(chart, "G2")
    used = {"汇总"}
    for spec in sheets:
        ws = wb.create_sheet(title=_unique_title(spec.title, used))
        _print_setup(ws, columns=(12, 40, 12, 12, 12, 10, 8))
        header = list(DETAIL_HEADER)
        header[4] = f"指标值（{spec.unit}）"
        ws.append(_header(ws, styles, header))
        weight = spec.weight
        for as_of, agency, num, den, measure, score in spec.rows:
            ws.append(
                [
                    _date(ws, as_of),
                    _text(ws, agency),
                    _number(ws, num),
                    _number(ws, den),
                    _number(ws, measure),
                    _number(ws, score),
                    weight,
                ]
            )
        ws.append([])
        ws.append([_text(ws, "说明"), _text(ws, spec.description)])
    wb.save(target)


# --- From the database ------------------------------------------------------------------------


def report_for_run(run, target) -> None:
    """The report of `run`: its ranking, and each indicator over the plan's runs up to it
    (published ones and this one)."""
    from django.db.models import Q

    from .indicators import indicator
    from .models import AgencyScore, EvaluationRun, IndicatorValue

    plan = run.plan
    runs = EvaluationRun.objects.filter(plan=plan, as_of__lte=run.as_of).filter(
        Q(state=EvaluationRun.State.PUBLISHED) | Q(pk=run.pk)
    )
    ranking = (
        AgencyScore.objects.filter(run=run)
        .order_by("rank", "agency__name")
        .values_list("rank", "agency__name", "computed", "adjustment", "final")
        .iterator(chunk_size=2000)
    )

    def rows(key):
        return (
            IndicatorValue.objects.filter(run__in=runs, key=key)
            .order_by("run__as_of", "run__number", "agency__name")
            .values_list(
                "run__as_of", "agency__name", "numerator", "denominator", "measure", "score"
            )
            .iterator(chunk_size=5000)
        )

    sheets = []
    for pi in plan.indicators.order_by("order", "pk"):
        ind = indicator(pi.key)
        if ind is None:
            continue
        sheets.append(
            SheetSpec(
                title=str(ind.label),
                unit=str(ind.unit),
                description=str(ind.description),
                weight=pi.weight,
                rows=rows(pi.key),
            )
        )
    write_report(
        target,
        plan_name=plan.name,
        period=(plan.period_start, plan.period_end),
        run_label=f"#{run.number} {run.as_of:%Y-%m-%d}",
        ranking=ranking,
        sheets=sheets,
    )


def report_file(run):
    """The report in a temporary file, positioned at its start (the caller streams it)."""
    tmp = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    report_for_run(run, tmp)
    tmp.seek(0)
    return tmp


def report_copies_monthly(today: dt.date | None = None) -> int:
    """Beat, on the 1st: keep a copy of each plan's report (its latest published run) for the
    month just ended. Idempotent: a month's copy is made once."""
    from django.core.files import File

    from wuhan_pdr.kernel.workdays import today as local_today

    from .models import EvaluationPlan, EvaluationRun, ReportCopy

    today = today or local_today()
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    made = 0
    for plan in EvaluationPlan.objects.all():
        if ReportCopy.objects.filter(plan=plan, month=month).exists():
            continue
        run = (
            EvaluationRun.objects.filter(plan=plan, state=EvaluationRun.State.PUBLISHED)
            .order_by("-as_of", "-number")
            .first()
        )
        if run is None:
            continue
        with tempfile.TemporaryFile(suffix=".xlsx") as tmp:
            report_for_run(run, tmp)
            size = tmp.tell()
            tmp.seek(0)
            copy = ReportCopy(plan=plan, month=month, size=size)
            copy.file.save(f"evaluation-{plan.pk}-{month:%Y-%m}.xlsx", File(tmp), save=False)
            copy.save()
        made += 1
    return made
