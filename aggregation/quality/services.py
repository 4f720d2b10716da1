"""Writes of data quality: rules (derived and custom), runs, and the quality issue list.

Each service takes `acting_user` (None for the platform itself: the worker, beat), checks
rights and state first, runs in one transaction and records history naming the actor.
Runs are evaluated in the worker (`quality_run_execute`, durable job
"aggregation.quality_run"); they are requested on demand, nightly and after every batch
that succeeded.
"""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Resource
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import (
    job_enqueue,
    soft_time_limit_of,
    statement_cancelled_on_time_limit,
    time_limit_message,
)
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import deadline_after

from ..datastore import Column, published_columns, table_columns
from ..limits import working_days_for
from ..models import (
    Batch,
    DatastoreTable,
    Dimension,
    QualityIssue,
    QualityResult,
    QualityRule,
    QualityRun,
    TimeLimit,
)
from . import engine, rules
from .permissions import can_run, is_bureau
from .workflows import LIVE, issue_workflow

logger = logging.getLogger(__name__)
K = QualityRule.Kind
S = QualityIssue.State
TASK = "aggregation.quality_run"
BUILDER_KINDS = (K.CUSTOM, K.RANGE)


def _lock_resource(resource_id: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [(0x5051 << 32) | int(resource_id)])


# --- rules -------------------------------------------------------------------------------------


def _signature(kind: str, column: str, params: dict) -> tuple:
    return (kind, column, bool((params or {}).get("of_pattern")))


@transaction.atomic
def quality_rules_sync(*, resource: Resource, acting_user=None) -> list[QualityRule]:
    """Bring the derived rules of `resource` in line with its published items and elements:
    new rules are created, changed ones updated, vanished ones disabled (kept with their
    results). Custom rules are left alone. Returns the enabled rules."""
    specs = rules.derive(resource)
    existing = {
        _signature(r.kind, r.column, r.params): r
        for r in QualityRule.objects.select_for_update().filter(resource=resource, derived=True)
    }
    seen = set()
    for spec in specs:
        sig = _signature(spec.kind, spec.column, spec.params)
        seen.add(sig)
        rule = existing.get(sig)
        if rule is None:
            rule = QualityRule(resource=resource, kind=spec.kind, column=spec.column, derived=True)
            rule.enabled = spec.enabled
        elif rule.params.get("vanished"):
            rule.enabled = spec.enabled
        elif (
            rule.name == spec.name
            and rule.params == spec.params
            and rule.dimension == spec.dimension
            and (spec.enabled or not rule.enabled)
        ):
            continue
        elif not spec.enabled:
            rule.enabled = False
        rule.name = spec.name[:200]
        rule.dimension = spec.dimension
        rule.params = spec.params
        audited_save(rule, acting_user=acting_user, reason=_("Derived from the items"))
    for sig, rule in existing.items():
        if sig not in seen and not rule.params.get("vanished"):
            rule.enabled = False
            rule.params = {**rule.params, "vanished": True}
            audited_save(
                rule, acting_user=acting_user, reason=_("No longer called for by the items")
            )
    return list(QualityRule.objects.filter(resource=resource, enabled=True).order_by("pk"))


def rule_columns(resource: Resource) -> list[Column]:
    """The columns a custom rule may name: the table's, else the published items'."""
    table = DatastoreTable.objects.filter(resource=resource).first()
    return table_columns(table) if table is not None else published_columns(resource)


def _clean_builder(resource, kind: str, data: dict) -> tuple[str, dict]:
    columns = rule_columns(resource)
    if kind == K.RANGE:
        column = (data.get("column") or "").strip()
        return column, rules.clean_range(columns, column, data.get("min"), data.get("max"))
    if kind == K.CUSTOM:
        return "", rules.clean_conditions(
            columns, data.get("conditions") or [], data.get("join") or "and"
        )
    raise DomainError(_("The rule builder makes custom and range rules only."), field="kind")


def _require_bureau(user) -> None:
    if not is_bureau(user):
        raise AccessDenied(_("Only the data bureau manages custom quality rules."))


@transaction.atomic
def quality_rule_create(
    *, resource: Resource, name: str, dimension: str, kind: str, data: dict, acting_user: User
) -> QualityRule:
    """A custom rule of the bureau, built from `data` (range: column, min, max; custom:
    conditions [{column, op, value}] and join "and"/"or"). Never SQL typed by a user."""
    _require_bureau(acting_user)
    if dimension not in Dimension.values:
        raise DomainError(_("Choose a dimension."), field="dimension")
    if not (name or "").strip():
        raise DomainError(_("Give the rule a name."), field="name")
    column, params = _clean_builder(resource, kind, data)
    rule = QualityRule(
        resource=resource,
        name=name.strip()[:200],
        dimension=dimension,
        kind=kind,
        column=column,
        params=params,
        derived=False,
        created_by=acting_user,
    )
    audited_save(rule, acting_user=acting_user, reason=_("Custom rule added"))
    return rule


@transaction.atomic
def quality_rule_update(
    *, rule: QualityRule, name: str, dimension: str, data: dict, acting_user: User
) -> QualityRule:
    """Change a custom rule's name, dimension and conditions."""
    _require_bureau(acting_user)
    rule = QualityRule.objects.select_for_update().get(pk=rule.pk)
    if rule.derived:
        raise DomainError(_("A derived rule follows the items; it can only be disabled."))
    if dimension not in Dimension.values:
        raise DomainError(_("Choose a dimension."), field="dimension")
    if not (name or "").strip():
        raise DomainError(_("Give the rule a name."), field="name")
    rule.column, rule.params = _clean_builder(rule.resource, rule.kind, data)
    rule.name, rule.dimension = name.strip()[:200], dimension
    audited_save(rule, acting_user=acting_user, reason=_("Custom rule changed"))
    return rule


@transaction.atomic
def quality_rule_disable(*, rule: QualityRule, acting_user: User, enabled: bool = False):
    """Switch a rule off (or on again with `enabled=True`); its results stay."""
    _require_bureau(acting_user)
    rule = QualityRule.objects.select_for_update().get(pk=rule.pk)
    if rule.enabled == enabled:
        return rule
    if enabled and rule.params.get("vanished"):
        raise DomainError(_("The items no longer call for this rule."))
    rule.enabled = enabled
    audited_save(
        rule,
        acting_user=acting_user,
        reason=_("Rule enabled") if enabled else _("Rule disabled"),
    )
    return rule


# --- runs --------------------------------------------------------------------------------------


def _request(resource: Resource, trigger: str, *, acting_user=None, batch=None) -> QualityRun:
    waiting = (
        QualityRun.objects.select_for_update()
        .filter(resource=resource, status=QualityRun.Status.PENDING)
        .first()
    )
    if waiting is not None:
        return waiting
    run = QualityRun.objects.create(
        resource=resource,
        trigger=trigger,
        batch=batch,
        requested_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    run.job = job_enqueue(task_name=TASK, kwargs={"run_id": run.pk}, acting_user=acting_user)
    run.save(update_fields=["job"])
    return run


@transaction.atomic
def quality_run_request(*, resource: Resource, acting_user: User) -> QualityRun:
    """Run the resource's rules now (the provider's staff or the bureau). A run already
    waiting is returned instead of a second one."""
    if not can_run(acting_user, resource):
        raise AccessDenied(_("Only the provider's staff and the data bureau start runs."))
    if resource.published_version_id is None:
        raise DomainError(_("Only a published resource has quality rules."))
    return _request(resource, QualityRun.Trigger.MANUAL, acting_user=acting_user)


def quality_run_after_batch(*, batch: Batch) -> QualityRun:
    """Queue a run after a batch succeeded: call inside the batch's transaction; the job is
    sent when it commits."""
    with transaction.atomic():
        return _request(batch.channel.resource, QualityRun.Trigger.BATCH, batch=batch)


def quality_runs_nightly() -> int:
    """Queue a run for every resource with data (beat, nightly). Returns how many."""
    count = 0
    for table in DatastoreTable.objects.select_related("resource").only("resource"):
        if table.resource.published_version_id is None:
            continue
        with transaction.atomic():
            _request(table.resource, QualityRun.Trigger.NIGHTLY)
        count += 1
    return count


def quality_run_execute(*, run_id: int) -> QualityRun:
    """Evaluate a run (in the worker): sync the derived rules, evaluate every enabled rule
    in SQL, store results and scores, then open, update or verify issues. Idempotent: a
    finished run is left alone; one left running by a killed worker is evaluated again."""
    with transaction.atomic():
        run = QualityRun.objects.select_for_update().select_related("resource").get(pk=run_id)
        if run.status not in (QualityRun.Status.PENDING, QualityRun.Status.RUNNING):
            return run
        run.status = QualityRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    try:
        with transaction.atomic(), statement_cancelled_on_time_limit():
            _lock_resource(run.resource_id)
            enabled = quality_rules_sync(resource=run.resource)
            now = timezone.now()
            evaluation = engine.evaluate(run.resource, enabled, now=now)
            QualityResult.objects.filter(run=run).delete()
            QualityResult.objects.bulk_create(
                [
                    QualityResult(
                        run=run,
                        rule=f.rule,
                        dimension=f.rule.dimension,
                        rows_checked=f.rows_checked,
                        rows_failed=f.rows_failed,
                        sample_keys=f.sample_keys,
                        score=f.score,
                        passed=f.passed,
                        detail=f.detail[:500],
                    )
                    for f in evaluation.findings
                ]
            )
            run.rows = evaluation.rows
            run.scores = evaluation.scores
            run.score = evaluation.score
            run.status = QualityRun.Status.DONE
            run.finished_at = timezone.now()
            run.error = ""
            run.save()
            _update_issues(run, evaluation.findings)
        return run
    except Exception as exc:
        logger.exception("quality run %s failed", run_id)
        error = (
            time_limit_message(soft_time_limit_of("aggregation.quality_run"))
            if isinstance(exc, SoftTimeLimitExceeded)
            else str(exc)
        )
        QualityRun.objects.filter(pk=run_id).update(
            status=QualityRun.Status.FAILED,
            error=error[:2000],
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        return run


def _provider_users(organization_id: int):
    return User.objects.filter(
        organization_id=organization_id,
        is_active=True,
        groups__name__in=[Role.AGENCY_STAFF, Role.AGENCY_ADMIN],
    ).distinct()


def _issue_url(issue: QualityIssue) -> str:
    return reverse("quality:issue-detail", args=[issue.pk])


def _update_issues(run: QualityRun, findings: list[engine.Finding]) -> None:
    """Failing rules open (or update) an issue; passing rules verify a live one; a "fixed"
    answer whose rule still fails is open again."""
    resource = run.resource
    live = {
        i.rule_id: i
        for i in QualityIssue.objects.select_for_update().filter(resource=resource, state__in=LIVE)
    }
    opened: list[QualityIssue] = []
    for f in findings:
        issue = live.get(f.rule.pk)
        if f.rows_checked == 0 or f.restricted:
            # restricted: a reference the provider may not see; the bureau reads its result
            continue
        if not f.passed:
            if issue is None:
                issue = QualityIssue(
                    resource=resource,
                    rule=f.rule,
                    provider_id=resource.provider_id,
                    opened_by_run=run,
                    deadline=deadline_after(working_days_for(TimeLimit.Key.ISSUE_RECTIFY)),
                )
                opened.append(issue)
            new = issue.pk is None
            changed = new or (
                issue.rows_failed != f.rows_failed or issue.sample_keys != f.sample_keys
            )
            issue.last_run = run
            issue.rows_failed = f.rows_failed
            issue.sample_keys = f.sample_keys
            if changed:
                audited_save(
                    issue,
                    acting_user=None,
                    reason=_("Opened by a run") if new else _("Failing rows changed in a run"),
                )
            else:
                # the same failure again: no history row for every run
                QualityIssue.objects.filter(pk=issue.pk).update(last_run=run)
            if issue.state == S.VERIFIED or (
                issue.state == S.ANSWERED and issue.answer == QualityIssue.Answer.FIXED
            ):
                issue_workflow.apply(
                    issue,
                    "fail_again",
                    acting_user=None,
                    comment=_("%(n)d rows still fail.") % {"n": f.rows_failed},
                )
        elif issue is not None and issue.state in (S.OPEN, S.ANSWERED, S.ESCALATED):
            issue.last_run = run
            issue.rows_failed = 0
            issue.sample_keys = []
            issue_workflow.apply(issue, "verify", acting_user=None)
    if opened:
        recipients = list(_provider_users(resource.provider_id))
        for issue in opened:
            notify(
                recipients=recipients,
                title=_("Quality issue in %(resource)s: %(rule)s")
                % {"resource": resource.code, "rule": issue.rule.name},
                body=_("%(n)d rows fail. Answer by %(deadline)s.")
                % {
                    "n": issue.rows_failed,
                    "deadline": timezone.localtime(issue.deadline).strftime("%Y-%m-%d"),
                },
                url=_issue_url(issue),
            )


# --- the issue list ----------------------------------------------------------------------------


@transaction.atomic
def quality_issue_answer(
    *, issue: QualityIssue, answer: str, text: str, acting_user: User
) -> QualityIssue:
    """The provider answers: fixed (the next run checks), explained or disputed, with text."""
    issue = QualityIssue.objects.select_for_update().get(pk=issue.pk)
    if answer not in QualityIssue.Answer.values:
        raise DomainError(_("Choose an answer."), field="answer")
    issue_workflow.check(issue, "answer", acting_user=acting_user, comment=text)
    issue.answer = answer
    issue.answer_text = text.strip()
    issue.answered_at = timezone.now()
    issue_workflow.apply(issue, "answer", acting_user=acting_user, comment=text)
    return issue


@transaction.atomic
def quality_issue_transition(
    *, issue: QualityIssue, action: str, acting_user: User, comment: str = ""
) -> QualityIssue:
    """The bureau closes, reopens or escalates an issue (with a comment)."""
    if action not in ("close", "reopen", "escalate"):
        raise DomainError(_("Unknown action."))
    issue = QualityIssue.objects.select_for_update().get(pk=issue.pk)
    issue_workflow.check(issue, action, acting_user=acting_user, comment=comment)
    if action == "close":
        issue.closed_at = timezone.now()
    elif action == "reopen":
        if (
            issue.state == S.CLOSED
            and QualityIssue.objects.filter(rule_id=issue.rule_id)
            .exclude(Q(state=S.CLOSED) | Q(pk=issue.pk))
            .exists()
        ):
            raise DomainError(_("The rule already has a live issue."))
        issue.closed_at = None
        issue.deadline = deadline_after(working_days_for(TimeLimit.Key.ISSUE_RECTIFY))
        issue.overdue_flagged_at = None
    issue_workflow.apply(issue, action, acting_user=acting_user, comment=comment)
    if action in ("reopen", "escalate"):
        transaction.on_commit(
            lambda: notify(
                recipients=_provider_users(issue.provider_id),
                title=(
                    _("Quality issue reopened: %(rule)s")
                    if action == "reopen"
                    else _("Quality issue escalated: %(rule)s")
                )
                % {"rule": issue.rule.name},
                body=comment,
                url=_issue_url(issue),
            )
        )
    return issue


def quality_issues_flag_overdue(*, now=None) -> int:
    """Flag the open and escalated issues past their deadline and tell the provider and the
    bureau (beat, daily). Each issue is flagged once per deadline. Returns how many."""
    now = now or timezone.now()
    flagged = 0
    reviewers = list(
        User.objects.filter(is_active=True, groups__name=Role.CITY_REVIEWER).distinct()
    )
    due = QualityIssue.objects.filter(
        state__in=[S.OPEN, S.ESCALATED], deadline__lt=now, overdue_flagged_at__isnull=True
    ).select_related("rule", "resource")
    for issue_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            issue = (
                QualityIssue.objects.select_for_update()
                .select_related("rule", "resource")
                .filter(pk=issue_id, overdue_flagged_at__isnull=True)
                .first()
            )
            if issue is None:
                continue
            issue.overdue_flagged_at = now
            audited_save(issue, acting_user=None, reason=_("Flagged overdue"))
            notify(
                recipients=[*_provider_users(issue.provider_id), *reviewers],
                title=_("Quality issue overdue: %(resource)s, %(rule)s")
                % {"resource": issue.resource.code, "rule": issue.rule.name},
                body=_("The deadline was %(deadline)s.")
                % {"deadline": timezone.localtime(issue.deadline).strftime("%Y-%m-%d")},
                url=_issue_url(issue),
            )
            flagged += 1
    return flagged
