"""Evaluate a resource's rules in SQL, set-based.

One run reads the resource's table a small, fixed number of times whatever the number of
rules:

1. ONE scan computing `count(*) FILTER (WHERE <fails>)` for every per-row rule at once
   (not-null, format, code list, range, reference, future update flag, custom), with a LEFT
   JOIN to the distinct valid codes of each code list and the distinct values of each
   referenced resource (hash joins: a row costs one lookup per rule);
2. one statement for key uniqueness / duplicate rows (a GROUP BY per such rule);
3. for the rules that failed only, a `LIMIT` query for a few failing keys.

Table-level rules (freshness, reachability, success rate) read the batch history and the
downtime reports: failures inside a reported planned window do not count against stability.

A reference rule whose referenced resource the provider may not see is evaluated for the
bureau (its result is stored) but marked `restricted`: it does not count in the scores, which
the provider sees, and opens no issue (permissions.provider_sees_reference).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

from security import zones
from security.masking import mask_expression

from ..datastore import Column, masking_rules, qualified, table_columns, table_zone
from ..models import Batch, Channel, DatastoreTable, DowntimeReport, QualityRule
from .permissions import provider_sees_reference
from .rules import GROUP_KINDS, MAX_AGE, ROW_KINDS, K, RowCheck, row_check

SAMPLE_SIZE = 5


@dataclass
class Finding:
    rule: QualityRule
    rows_checked: int
    rows_failed: int
    sample_keys: list = field(default_factory=list)
    detail: str = ""
    passed: bool | None = None
    score: Decimal | None = None
    restricted: bool = False

    def finish(self) -> Finding:
        if self.score is None:
            share = 1 - self.rows_failed / self.rows_checked if self.rows_checked else 1
            self.score = _pct(share)
        if self.passed is None:
            self.passed = self.rows_failed == 0
        return self


@dataclass
class Evaluation:
    rows: int
    findings: list[Finding]
    scores: dict[str, float]
    score: Decimal | None


def _pct(share: float) -> Decimal:
    return Decimal(str(share * 100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _key_expr(columns: list[Column]) -> tuple[list[str], sql.Composable]:
    keys = [c.name for c in columns if c.key]
    if keys:
        return keys, sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(k)) for k in keys)
    return ["ctid"], sql.SQL("t.ctid::text")


@contextlib.contextmanager
def _in_zone(table: DatastoreTable):
    """A cursor whose statements run as the role of the table's storage zone (in the worker;
    security.zones). Only datastore SQL runs here: the ORM's reads of the app's tables stay
    outside, as the worker."""
    with transaction.atomic(), zones.zone_role(table_zone(table)), connection.cursor() as cur:
        yield cur


def _sample_columns(table: DatastoreTable, columns: list[Column], names: list[str], alias: str):
    """The columns `names` as a sample may keep them: a masked column masked in SQL (sample
    keys are kept outside the table's zone, in quality issues: issue #13)."""
    rules = getattr(table, "_sample_rules", None)
    if rules is None:  # once per evaluation of the table
        rules = table._sample_rules = masking_rules(table.resource)
    types = {c.name: c.type for c in columns}
    out = []
    for name in names:
        ref = (
            sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(name))
            if alias
            else sql.Identifier(name)
        )
        rule = rules.get(name)
        out.append(mask_expression(ref, rule.mask, sql_type=types.get(name)) if rule else ref)
    return sql.SQL(", ").join(out)


def _samples(table: DatastoreTable, columns, check: RowCheck) -> list:
    names, key_sql = _key_expr(columns)
    if names != ["ctid"]:
        key_sql = _sample_columns(table, columns, names, "t")
    query = sql.SQL("SELECT {} FROM {} AS t {} WHERE {} LIMIT {}").format(
        key_sql,
        qualified(table),
        check.join or sql.SQL(""),
        check.fails,
        sql.Literal(SAMPLE_SIZE),
    )
    with _in_zone(table) as cur:
        cur.execute(query, check.join_params + check.params)
        rows = cur.fetchall()
    return [str(r[0]) if len(r) == 1 else " / ".join(map(str, r)) for r in rows]


def evaluate_rows(table: DatastoreTable, rules: list[QualityRule], *, now) -> tuple[int, list]:
    """The one scan: (rows in the table, findings of the per-row rules)."""
    columns = table_columns(table)
    today = timezone.localdate(now)
    checks: list[RowCheck] = []
    skipped: list[Finding] = []
    for n, rule in enumerate(rules):
        check = row_check(rule, columns, today=today, now=now, n=n)
        if check is None:
            skipped.append(
                Finding(rule, 0, 0, detail=_("Not checked: the table lacks what the rule needs."))
            )
        else:
            checks.append(check)
    select = [sql.SQL("count(*)")] + [
        sql.SQL("count(*) FILTER (WHERE {})").format(c.fails) for c in checks
    ]
    query = sql.SQL("SELECT {} FROM {} AS t {}").format(
        sql.SQL(", ").join(select),
        qualified(table),
        sql.SQL(" ").join(c.join for c in checks if c.join is not None),
    )
    params = [p for c in checks for p in c.params] + [p for c in checks for p in c.join_params]
    with _in_zone(table) as cur:
        cur.execute(query, params)
        counts = cur.fetchone()
    total = counts[0]
    findings = skipped
    for check, failed in zip(checks, counts[1:], strict=True):
        finding = Finding(check.rule, total, failed)
        if failed:
            finding.sample_keys = _samples(table, columns, check)
        findings.append(finding)
    return total, findings


def evaluate_groups(table: DatastoreTable, rules: list[QualityRule], *, total: int) -> list:
    """Key uniqueness and duplicate rows, in one statement: rows in groups of more than one."""
    have = {c.name for c in table_columns(table)}
    usable, findings = [], []
    for rule in rules:
        cols = [c for c in (rule.params or {}).get("columns", []) if c in have]
        if not cols or len(cols) != len(rule.params.get("columns", [])):
            findings.append(
                Finding(rule, 0, 0, detail=_("Not checked: the table lacks what the rule needs."))
            )
        else:
            usable.append((rule, cols))
    if not usable:
        return findings
    parts = [
        sql.SQL(
            "(SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {} GROUP BY {} "
            "HAVING count(*) > 1) d)"
        ).format(qualified(table), sql.SQL(", ").join(map(sql.Identifier, cols)))
        for _rule, cols in usable
    ]
    with _in_zone(table) as cur:
        cur.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(parts)))
        counts = cur.fetchone()
    for (rule, cols), failed in zip(usable, counts, strict=True):
        finding = Finding(rule, total, int(failed))
        if failed:
            shown = _sample_columns(table, table_columns(table), cols, "")
            with _in_zone(table) as cur:
                cur.execute(
                    sql.SQL(
                        "SELECT {shown} FROM {t} GROUP BY {c} HAVING count(*) > 1 LIMIT {n}"
                    ).format(
                        shown=shown,
                        c=sql.SQL(", ").join(map(sql.Identifier, cols)),
                        t=qualified(table),
                        n=sql.Literal(SAMPLE_SIZE),
                    )
                )
                finding.sample_keys = [" / ".join(map(str, r)) for r in cur.fetchall()]
        findings.append(finding)
    return findings


def _in_planned_window() -> Exists:
    """A batch started inside a planned (not cancelled) downtime window of its channel's
    information system."""
    return Exists(
        DowntimeReport.objects.filter(
            information_system_id=OuterRef("channel__information_system_id"),
            cancelled_at__isnull=True,
            starts_at__lte=OuterRef("created_at"),
            ends_at__gte=OuterRef("created_at"),
        ).exclude(kind=DowntimeReport.Kind.OUTAGE)
    )


def evaluate_table_rule(rule: QualityRule, resource, *, now) -> Finding:
    B = Batch.Status
    p = rule.params or {}
    if rule.kind == K.FRESHNESS:
        last = (
            Batch.objects.filter(channel__resource=resource, status=B.SUCCEEDED)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        max_age = MAX_AGE.get(p.get("cycle"))
        if max_age is None:
            return Finding(rule, 0, 0, detail=_("The update cycle sets no limit."))
        if last is None:
            return Finding(rule, 1, 1, detail=_("No batch has succeeded yet."))
        stale = now - last > max_age
        detail = _("Last good batch %(when)s.") % {
            "when": timezone.localtime(last).strftime("%Y-%m-%d %H:%M")
        }
        return Finding(rule, 1, int(stale), detail=detail)
    finished = (
        Batch.objects.filter(
            channel__resource=resource,
            status__in=[B.SUCCEEDED, B.FAILED],
            finished_at__isnull=False,
        )
        .annotate(planned=_in_planned_window())
        .exclude(Q(status=B.FAILED) & Q(planned=True))
    )
    if rule.kind == K.REACHABLE:
        checked = failed = 0
        keys = []
        for channel in Channel.objects.filter(resource=resource, state=Channel.State.ACTIVE):
            last = finished.filter(channel=channel).order_by("-finished_at").first()
            if last is None:
                continue
            checked += 1
            if last.status == B.FAILED:
                failed += 1
                keys.append(channel.name)
        detail = "" if checked else _("No finished batch yet.")
        return Finding(rule, checked, failed, sample_keys=keys[:SAMPLE_SIZE], detail=detail)
    if rule.kind == K.SUCCESS_RATE:
        days = int(p.get("days") or 30)
        threshold = float(p.get("threshold") or 0.95)
        recent = finished.filter(finished_at__gte=now - dt.timedelta(days=days))
        checked = recent.count()
        failed = recent.filter(status=B.FAILED).count()
        if not checked:
            return Finding(rule, 0, 0, detail=_("No batch in the window."))
        rate = 1 - failed / checked
        return Finding(
            rule,
            checked,
            failed,
            passed=rate >= threshold,
            score=_pct(rate),
            detail=_("%(rate).1f%% of %(n)d batches in %(days)d days (at least %(min).0f%%).")
            % {"rate": rate * 100, "n": checked, "days": days, "min": threshold * 100},
        )
    return Finding(rule, 0, 0, detail=_("Unknown rule kind."))


def evaluate(resource, rules: list[QualityRule], *, now=None) -> Evaluation:
    """Evaluate `rules` (enabled ones of `resource`) and score them."""
    now = now or timezone.now()
    table = DatastoreTable.objects.filter(resource=resource).first()
    row_rules = [r for r in rules if r.kind in ROW_KINDS]
    group_rules = [r for r in rules if r.kind in GROUP_KINDS]
    findings: list[Finding] = []
    total = 0
    if table is not None:
        if row_rules:
            total, found = evaluate_rows(table, row_rules, now=now)
            findings += found
        else:
            with _in_zone(table) as cur:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(table)))
                total = cur.fetchone()[0]
        findings += evaluate_groups(table, group_rules, total=total)
    else:
        findings += [
            Finding(r, 0, 0, detail=_("No data loaded yet.")) for r in row_rules + group_rules
        ]
    findings += [
        evaluate_table_rule(r, resource, now=now)
        for r in rules
        if r.kind not in ROW_KINDS and r.kind not in GROUP_KINDS
    ]
    for f in findings:
        f.finish()
        f.restricted = not provider_sees_reference(f.rule)
    order = {r.pk: i for i, r in enumerate(rules)}
    findings.sort(key=lambda f: order.get(f.rule.pk, 0))
    by_dim: dict[str, list[Decimal]] = {}
    for f in findings:
        # a rule that checked nothing does not score, nor one the provider may not see
        if f.rows_checked and not f.restricted:
            by_dim.setdefault(f.rule.dimension, []).append(f.score)
    scores = {d: float(_mean(v)) for d, v in by_dim.items()}
    overall = _mean([Decimal(str(v)) for v in scores.values()]) if scores else None
    return Evaluation(rows=total, findings=findings, scores=scores, score=overall)


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
