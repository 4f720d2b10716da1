"""Writes of the evaluation (Art. 29): plans, runs (computed by a durable job), adjustments,
publication. Each service runs in one transaction and refuses with a DomainError naming the
field."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.errors import DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import job_enqueue
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import SHANGHAI, _is_working, _overrides
from wuhan_pdr.kernel.workdays import today as local_today

from .indicators import indicator
from .models import (
    AgencyScore,
    EvaluationPlan,
    EvaluationRun,
    IndicatorFigures,
    PlanIndicator,
    ScoreAdjustment,
)
from .permissions import may_manage

RUN_TASK = "supervision.evaluation_run"

logger = logging.getLogger(__name__)


def _require_manager(user) -> None:
    if not may_manage(user):
        raise DomainError(_("Only reviewers of the city data bureau may do this."))


def check_weights(weights: dict[str, int]) -> None:
    """Refuse a set of indicators whose weights do not add up to exactly 100."""
    if not weights:
        raise DomainError(_("Choose at least one indicator."), field="indicators")
    for key, w in weights.items():
        if indicator(key) is None:
            raise DomainError(_("Unknown indicator: %(key)s.") % {"key": key}, field="indicators")
        if not isinstance(w, int) or w <= 0 or w > 100:
            raise DomainError(
                _("Each weight must be a whole number from 1 to 100."), field="indicators"
            )
    total = sum(weights.values())
    if total != 100:
        raise DomainError(
            _("The weights add up to %(total)s; they must add up to exactly 100.")
            % {"total": total},
            field="indicators",
        )


@observe_refusals("supervision.plan_create")
def plan_create(
    *,
    name: str,
    period_start: dt.date,
    period_end: dt.date,
    weights: dict[str, int],
    note: str = "",
    acting_user,
) -> EvaluationPlan:
    _require_manager(acting_user)
    if period_end < period_start:
        raise DomainError(_("The period must end on or after its first day."), field="period_end")
    check_weights(weights)
    with transaction.atomic():
        if EvaluationPlan.objects.filter(name=name).exists():
            raise DomainError(_("A plan with this name exists already."), field="name")
        plan = EvaluationPlan(
            name=name,
            period_start=period_start,
            period_end=period_end,
            note=note,
            created_by=acting_user,
        )
        audited_save(plan, acting_user=acting_user)
        for order, (key, w) in enumerate(weights.items()):
            audited_save(
                PlanIndicator(plan=plan, key=key, weight=w, order=order), acting_user=acting_user
            )
    return plan


@observe_refusals("supervision.run_start")
def run_start(*, plan: EvaluationPlan, acting_user, as_of: dt.date | None = None) -> EvaluationRun:
    """Start a run of `plan`: a durable job on the long queue computes it."""
    _require_manager(acting_user)
    as_of = as_of or min(local_today(), plan.period_end)
    if as_of < plan.period_start:
        raise DomainError(_("The period has not begun yet; nothing can be measured."))
    with transaction.atomic():
        EvaluationPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.runs.filter(
            state__in=(EvaluationRun.State.PENDING, EvaluationRun.State.RUNNING)
        ).exists():
            raise DomainError(_("A run of this plan is still being computed."))
        number = (plan.runs.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        run = EvaluationRun(plan=plan, number=number, as_of=as_of, created_by=acting_user)
        audited_save(run, acting_user=acting_user)
        run.job = job_enqueue(
            task_name=RUN_TASK, kwargs={"run_id": run.pk}, acting_user=acting_user
        )
        run.save(update_fields=["job"])
    return run


def calendar_params(first: dt.date, last: dt.date) -> dict:
    """The working-day calendar a run's SQL reads: running counts of working days from the
    day before `first` to `last` (see indicators.wd)."""
    base = first - dt.timedelta(days=1)
    overrides = _overrides(base, last)
    counts, n, day = [], 0, base
    while day <= last:
        if day > base and _is_working(day, overrides):
            n += 1
        counts.append(n)
        day += dt.timedelta(days=1)
    return {"wd_base": base, "wd_n": counts, "wd_len": len(counts)}


def _bounds(plan: EvaluationPlan, as_of: dt.date) -> dict:
    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI)

    return {
        "start": midnight(plan.period_start),
        "end": midnight(min(plan.period_end, as_of) + dt.timedelta(days=1)),
        "as_of": as_of,
        "as_of_end": midnight(as_of + dt.timedelta(days=1)),
        **calendar_params(plan.period_start, max(as_of, plan.period_end)),
    }


def query_params(run: EvaluationRun) -> dict:
    return _bounds(run.plan, run.as_of)


# Constants only (the organization kinds); the indicators' SQL is constant too, values bound.
_AGENCIES = (
    "SELECT id FROM accounts_organization WHERE kind IN ("  # noqa: S608
    + ", ".join(f"'{k}'" for k in Organization.AGENCY_KINDS)
    + ") AND is_active"
)


def indicator_select_sql(ind) -> str:
    """One statement: every agency's figure of indicator `ind` for the run (agency_id, num,
    den, measure, score): the records summed per agency, then joined to every agency (one with
    nothing to count gets 0 over 0). The drill-down (selectors.records_behind) reads the same
    `records` query for one agency, so the figure and the records behind it agree by
    construction."""
    return f"""
WITH rec AS ({ind.records}),
r AS (
    SELECT rec.agency_id, sum(rec.num) AS num, sum(rec.den) AS den
    FROM rec GROUP BY rec.agency_id),
g AS (
    SELECT a.id AS agency_id, COALESCE(r.num, 0)::numeric AS num,
           COALESCE(r.den, 0)::numeric AS den
    FROM ({_AGENCIES}) a LEFT JOIN r ON r.agency_id = a.id)
SELECT g.agency_id, g.num, g.den, {ind.measure_sql()} AS measure, {ind.score_sql()} AS score
FROM g
"""  # noqa: S608 (the indicator's constant SQL; values are bound)


def indicator_arrays_sql(ind) -> str:
    """The figures of indicator `ind` for every agency as one row of parallel arrays in agency
    order (agencies, numerators, denominators, measures, scores); no row without agencies."""
    return f"""
SELECT array_agg(f.agency_id ORDER BY f.agency_id) AS agencies,
       array_agg(f.num ORDER BY f.agency_id) AS numerators,
       array_agg(f.den ORDER BY f.agency_id) AS denominators,
       array_agg(f.measure ORDER BY f.agency_id) AS measures,
       array_agg(f.score ORDER BY f.agency_id) AS scores
FROM ({indicator_select_sql(ind)}) f
HAVING count(*) > 0
"""  # noqa: S608 (the indicator's constant SQL; values are bound)


_FIGURES_COLUMNS = "(run_id, key, agencies, numerators, denominators, measures, scores)"


def indicator_insert_sql(ind) -> str:
    """The figures of indicator `ind` for every agency, stored by the server as it computes
    them (`%(run_id)s` and `%(key)s` bound): one row of parallel arrays in agency order (they
    never travel to Python and back)."""
    return f"""
INSERT INTO supervision_indicatorfigures {_FIGURES_COLUMNS}
SELECT %(run_id)s, %(key)s, x.agencies, x.numerators, x.denominators, x.measures, x.scores
FROM ({indicator_arrays_sql(ind)}) x
"""  # noqa: S608 (the indicator's constant SQL; values are bound)


def indicator_text_sql(ind) -> str:
    """The same row as `indicator_arrays_sql`, each array as its text: what a second
    connection computes and hands to the one that stores it (`_STORE_TEXT_SQL`); text, so that
    the 2,500 values of a row are not converted to Python objects and back."""
    return f"""
SELECT x.agencies::text, x.numerators::text, x.denominators::text, x.measures::text,
       x.scores::text
FROM ({indicator_arrays_sql(ind)}) x
"""  # noqa: S608 (the indicator's constant SQL; values are bound)


_STORE_TEXT_SQL = f"""
INSERT INTO supervision_indicatorfigures {_FIGURES_COLUMNS}
VALUES (%s, %s, %s::bigint[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[])
"""  # noqa: S608 (constant)


def indicator_store(cur, ind, params: dict, *, run_id: int) -> None:
    """Store every agency's figure of `ind` in the run."""
    cur.execute(indicator_insert_sql(ind), {**params, "run_id": run_id, "key": ind.key})


# A snapshot's name as pg_export_snapshot() gives it (hexadecimal parts joined by dashes);
# SET TRANSACTION SNAPSHOT takes it as a literal, so it is checked before being sent.
_SNAPSHOT_NAME = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


class _SecondConnection(threading.Thread):
    """A second database connection computing indicators for a run (see `_figures_store`).

    Started as the run begins, it connects while the run reads its plan, then waits for
    `begin`: the snapshot of the run's transaction (imported, so both read the same data), the
    list of indicators left (shared with the run's connection, which takes from it too) and
    the parameters. It keeps each indicator's figures as text (`rows`) for the run's
    transaction to store, and closes its connection at the end. An error is kept (`error`)
    for the run to raise."""

    def __init__(self):
        super().__init__(name="evaluation-run-second-connection", daemon=True)
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.snapshot: str | None = None
        self.pending: list[str] = []
        self.params: dict = {}
        self.rows: list[tuple] = []
        self.error: BaseException | None = None
        self.raw = None  # its psycopg connection while it computes, to cancel a statement

    def begin(self, *, snapshot: str, pending: list[str], params: dict) -> None:
        self.snapshot, self.pending, self.params = snapshot, pending, params
        self.ready.set()

    def next_key(self) -> str | None:
        with self.lock:
            return self.pending.pop(0) if self.pending else None

    def run(self) -> None:
        from django.db import connections

        conn = connections[DEFAULT_DB_ALIAS]  # this thread's own connection
        try:
            conn.ensure_connection()
            self.ready.wait()
            if self.snapshot is None:  # the run needed no second connection after all
                return
            if not _SNAPSHOT_NAME.fullmatch(self.snapshot):
                raise ValueError(f"unexpected snapshot name {self.snapshot!r}")
            with transaction.atomic(), conn.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                self.raw = conn.connection
                while (key := self.next_key()) is not None:
                    cur.execute(indicator_text_sql(indicator(key)), self.params)
                    row = cur.fetchone()
                    if row is not None:
                        self.rows.append((key, *row))
        except BaseException as exc:  # handed to the run, which fails and stores nothing
            self.error = exc
        finally:
            self.raw = None
            conn.close()

    def finish(self, *, failed: bool) -> None:
        """End the thread: at once when the run failed (no more indicators, the statement
        being computed cancelled) or did not use it; otherwise after its last indicator."""
        if failed:
            with self.lock:
                self.pending.clear()
            raw = self.raw
            if raw is not None:
                try:
                    raw.cancel_safe(timeout=5)
                except Exception as exc:  # it may have finished or closed meanwhile
                    logger.warning("could not cancel the second connection's statement: %s", exc)
        self.ready.set()
        self.join(timeout=30 if failed else None)


def _figures_store(
    run: EvaluationRun, keys: list[str], params: dict, *, second: _SecondConnection | None
) -> None:
    """Compute and store every indicator's figures of `run`, in the caller's transaction.

    With a second connection (a run alone in its transaction, as in the worker;
    `SUPERVISION_RUN_CONNECTIONS`, for two cores; decision 0036) the two compute at once: the
    run's transaction (REPEATABLE READ) exports its snapshot, the second imports it, and both
    take the next indicator from one list. This connection stores what it computes as it goes
    (INSERT ... SELECT); the second hands over its rows of arrays as text, stored here. Both
    read the same snapshot, so the figures are those one connection would compute; an error
    on either fails the run and nothing is stored. Inside a caller's transaction (whose
    writes another connection cannot see), this connection computes them all."""
    inds = [i for i in (indicator(k) for k in keys) if i is not None]
    with connection.cursor() as cur:
        if second is None:
            for ind in inds:
                indicator_store(cur, ind, params, run_id=run.pk)
            return
        cur.execute("SELECT pg_export_snapshot()")
        second.begin(snapshot=cur.fetchone()[0], pending=[i.key for i in inds], params=params)
        while (key := second.next_key()) is not None:
            indicator_store(cur, indicator(key), params, run_id=run.pk)
        second.finish(failed=False)
        if second.error is not None:
            raise second.error
        if second.rows:
            cur.executemany(_STORE_TEXT_SQL, [(run.pk, *row) for row in second.rows])


def _parallel() -> bool:
    """Whether a run computes on two connections (see `_figures_store`): only when its
    transaction will be the outermost one (not inside a caller's)."""
    return settings.SUPERVISION_RUN_CONNECTIONS > 1 and not connection.in_atomic_block


def _scores_sql() -> str:
    """The weighted total of every agency (over the indicators it has a score for), its final
    score and the ranks, in one statement. A run starts without adjustments, so the final score
    is the computed one kept within 0-100, and the ranks are those `_RANK_SQL` gives (ties share
    a rank; agencies without a score have none); adjustments rank again with `_RANK_SQL`."""
    return """
INSERT INTO supervision_agencyscore (run_id, agency_id, computed, adjustment, final, rank)
SELECT t.run_id, t.agency_id, t.computed, 0, t.final,
       CASE WHEN t.final IS NULL THEN NULL
            ELSE rank() OVER (ORDER BY t.final DESC NULLS LAST) END
FROM (
    SELECT c.run_id, c.agency_id, c.computed,
           CASE WHEN c.computed IS NULL THEN NULL
                ELSE GREATEST(0, LEAST(100, c.computed)) END AS final
    FROM (
        SELECT v.run_id, v.agency_id,
               round(sum(v.score * p.weight)
                     / NULLIF(sum(p.weight) FILTER (WHERE v.score IS NOT NULL), 0), 2)
                 AS computed
        FROM supervision_indicatorvalue v
        JOIN supervision_planindicator p ON p.key = v.key AND p.plan_id = %(plan_id)s
        WHERE v.run_id = %(run_id)s
        GROUP BY v.run_id, v.agency_id) c) t
"""


_RANK_SQL = """
UPDATE supervision_agencyscore s
SET final = CASE WHEN s.computed IS NULL THEN NULL
                 ELSE GREATEST(0, LEAST(100, s.computed + s.adjustment)) END
WHERE s.run_id = %(run_id)s;
UPDATE supervision_agencyscore s SET rank = r.rank
FROM (SELECT id, CASE WHEN final IS NULL THEN NULL
                      ELSE rank() OVER (ORDER BY final DESC NULLS LAST) END AS rank
      FROM supervision_agencyscore WHERE run_id = %(run_id)s) r
WHERE r.id = s.id;
"""


def _rank(run_id: int) -> None:
    with connection.cursor() as cur:
        for statement in _RANK_SQL.split(";"):
            if statement.strip():
                cur.execute(statement, {"run_id": run_id})


def run_compute(*, run_id: int, job=None) -> EvaluationRun:
    """Compute every agency's indicators of a run set-based (one statement per indicator),
    then the weighted scores and ranks. Idempotent: a run computed again starts afresh."""
    # Alone in its transaction, the run computes on two connections; the second connects
    # while this one reads the run (see `_figures_store`).
    second = _SecondConnection() if _parallel() else None
    if second is not None:
        second.start()
    failed = True
    try:
        run = _run_compute(run_id, second)
        failed = False
    finally:
        if second is not None:
            second.finish(failed=failed)
    return run


def _run_compute(run_id: int, second: _SecondConnection | None) -> EvaluationRun:
    run = EvaluationRun.objects.select_related("plan").get(pk=run_id)
    if run.state not in (EvaluationRun.State.PENDING, EvaluationRun.State.RUNNING):
        return run
    EvaluationRun.objects.filter(pk=run.pk).update(state=EvaluationRun.State.RUNNING)
    keys = list(run.plan.indicators.order_by("order", "pk").values_list("key", flat=True))
    params = query_params(run)
    # One transaction: each indicator's figures computed and stored by one INSERT ... SELECT
    # (one row of arrays; nothing goes to Python and back), or computed on the second
    # connection and stored here as text, then the scores and ranks (read through the
    # IndicatorValue view) by one more statement; one commit.
    # Progress is not reported per indicator: inside the transaction no one would see it (a
    # run of 500 agencies takes well under a second).
    with transaction.atomic():
        if second is not None:
            # One snapshot for the whole transaction, exported to the second connection; set
            # before any statement of the transaction.
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        IndicatorFigures.objects.filter(run=run).delete()
        AgencyScore.objects.filter(run=run).delete()
        _figures_store(run, keys, params, second=second)
        with connection.cursor() as cur:
            cur.execute(_scores_sql(), {"run_id": run.pk, "plan_id": run.plan_id})
        run.state = EvaluationRun.State.DONE
        run.finished_at = timezone.now()
        # Ranked agencies: those with something to count (the "of N" of a rank).
        run.agencies = AgencyScore.objects.filter(run=run, computed__isnull=False).count()
        run.error = ""
        audited_save(run, acting_user=run.created_by)
    return run


def run_failed(*, run_id: int, error: str) -> None:
    EvaluationRun.objects.filter(pk=run_id).update(
        state=EvaluationRun.State.FAILED, error=error[:500]
    )


@observe_refusals("supervision.score_adjust")
def score_adjust(*, score: AgencyScore, delta, reason: str, acting_user) -> AgencyScore:
    """A reviewer's adjustment of an agency's score, with the reason (required); the run is
    ranked again."""
    _require_manager(acting_user)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the score is adjusted."), field="reason")
    try:
        delta = Decimal(str(delta)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter the points as a number."), field="delta") from None
    if delta == 0 or abs(delta) > 100:
        raise DomainError(
            _("The adjustment must be between -100 and 100 points, and not 0."), field="delta"
        )
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(pk=score.run_id)
        if run.state != EvaluationRun.State.DONE:
            raise DomainError(_("Only a computed run that is not yet published can be adjusted."))
        score = AgencyScore.objects.select_for_update().get(pk=score.pk)
        if score.computed is None:
            raise DomainError(
                _("This agency has no computed score (nothing to count); it cannot be adjusted."),
                field="delta",
            )
        ScoreAdjustment.objects.create(
            score=score, delta=delta, reason=reason, adjusted_by=acting_user
        )
        score.adjustment = score.adjustment + delta
        audited_save(score, acting_user=acting_user, reason=reason)
        _rank(run.pk)
        score.refresh_from_db()
    return score


@observe_refusals("supervision.run_publish")
def run_publish(*, run: EvaluationRun, acting_user) -> EvaluationRun:
    """Publish a computed run: each agency then sees its own scores, and is told."""
    _require_manager(acting_user)
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().select_related("plan").get(pk=run.pk)
        if run.state != EvaluationRun.State.DONE:
            raise DomainError(_("Only a computed run can be published."))
        run.state = EvaluationRun.State.PUBLISHED
        run.published_at = timezone.now()
        run.published_by = acting_user
        audited_save(run, acting_user=acting_user)
        from django.contrib.auth import get_user_model
        from django.urls import reverse

        from wuhan_pdr.accounts.roles import Role

        agencies = AgencyScore.objects.filter(run=run).values("agency_id")
        officers = get_user_model().objects.filter(
            organization_id__in=agencies, is_active=True, groups__name=Role.AGENCY_ADMIN
        )
        notify(
            recipients=officers,
            title=_("Evaluation results published: %(plan)s") % {"plan": run.plan.name},
            url=reverse("supervision:my_results"),
        )
    return run
