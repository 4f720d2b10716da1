"""Writes of supervision inspections (Art. 28): plan, move along the workflow, record findings
with evidence, follow each finding up with a rectification order (through rectification's own
`order_issue`) or a stated reason for none. Each service runs in one transaction and refuses
with a DomainError naming the field."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.rectification.services import evidence_check, order_issue
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import add_working_days
from wuhan_pdr.kernel.workdays import today as local_today

from .models import Area, Finding, FindingEvidence, Inspection, Kind
from .permissions import is_bureau_side, may_inspect
from .selectors import authorizations_of, inspectors_for, resources_of
from .workflows import inspection_workflow

S = Inspection.State
MAX_FILES = 10


def _subject_people(subject_id):
    return (
        get_user_model()
        .objects.filter(
            organization_id=subject_id,
            is_active=True,
            groups__name__in=[Role.AGENCY_ADMIN, Role.AGENCY_STAFF, Role.OPERATOR],
        )
        .distinct()
    )


def _url(inspection) -> str:
    return reverse("supervision:inspection", args=[inspection.pk])


def _clean_text(value, *, field: str, message: str, required: bool = True) -> str:
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise DomainError(message, field=field)
    return text


@observe_refusals("supervision.inspection_plan")
def inspection_plan(
    *,
    subject: Organization,
    kind: str,
    title: str,
    scope: list[str],
    planned_start: dt.date,
    planned_end: dt.date,
    inspectors: list,
    legal_basis: str = "",
    resources: list | None = None,
    authorization=None,
    acting_user,
) -> Inspection:
    """Plan an inspection of an agency or an authorized operator under the acting reviewer's
    bureau. The subject is told only when the bureau notifies it."""
    if not may_inspect(acting_user, subject):
        raise DomainError(
            _("You may inspect only agencies and operators under your bureau."), field="subject"
        )
    if kind not in Kind.values:
        raise DomainError(_("Choose the kind of inspection."), field="kind")
    title = _clean_text(title, field="title", message=_("Give the inspection a title."))
    scope = list(dict.fromkeys(scope or []))
    if not scope or any(a not in Area.values for a in scope):
        raise DomainError(_("Choose at least one matter the inspection covers."), field="scope")
    if planned_start is None or planned_end is None:
        raise DomainError(_("Give the planned dates."), field="planned_start")
    if planned_end < planned_start:
        raise DomainError(_("The planned end is before the planned start."), field="planned_end")
    bureau_users = set(inspectors_for(acting_user.organization).values_list("pk", flat=True))
    if not inspectors or any(u.pk not in bureau_users for u in inspectors):
        raise DomainError(_("Choose at least one inspector from your bureau."), field="inspectors")
    resources = list(resources or [])
    if resources:
        allowed = set(resources_of(subject).values_list("pk", flat=True))
        if any(r.pk not in allowed for r in resources):
            raise DomainError(_("Name only resources of the subject inspected."), field="resources")
    if (
        authorization is not None
        and not authorizations_of(subject).filter(pk=authorization.pk).exists()
    ):
        raise DomainError(
            _("The authorization is not one of the operator's."), field="authorization"
        )
    legal_basis = _clean_text(legal_basis, field="legal_basis", message="", required=False)
    with transaction.atomic():
        inspection = Inspection(
            bureau_id=acting_user.organization_id,
            planned_by=acting_user,
            subject=subject,
            authorization=authorization,
            title=title,
            kind=kind,
            scope=scope,
            planned_start=planned_start,
            planned_end=planned_end,
        )
        if legal_basis:
            inspection.legal_basis = legal_basis
        audited_save(inspection, acting_user=acting_user)
        inspection.inspectors.set(inspectors)
        inspection.resources.set(resources)
        others = [u for u in inspectors if u.pk != acting_user.pk]
        if others:
            notify(
                recipients=others,
                title=_(
                    "You are an inspector of supervision inspection #%(n)s (%(start)s to %(end)s)"
                )
                % {
                    "n": inspection.pk,
                    "start": f"{planned_start:%Y-%m-%d}",
                    "end": f"{planned_end:%Y-%m-%d}",
                },
                body=title[:500],
                url=_url(inspection),
            )
    return inspection


@observe_refusals("supervision.inspection_transition")
def inspection_transition(
    *, inspection: Inspection, action: str, comment: str = "", acting_user
) -> Inspection:
    """Notify the subject, start, complete the findings, close (only when every finding has
    its follow-up) or cancel (with a reason, which the subject sees if it was told)."""
    comment = (comment or "").replace("\x00", "")
    with transaction.atomic():
        inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if action == "close":
            pending = inspection.findings.filter(follow_up=Finding.FollowUp.PENDING)
            if pending.exists():
                numbers = ", ".join(
                    f"#{n}" for n in pending.order_by("number").values_list("number", flat=True)
                )
                raise DomainError(
                    _(
                        "Decide the follow-up of every finding before closing: "
                        "findings %(numbers)s have none."
                    )
                    % {"numbers": numbers}
                )
        now = timezone.now()
        was_told = inspection.notified_at is not None
        if action == "cancel":
            inspection.cancel_reason = comment.strip()
        elif action == "notify":
            inspection.notified_at = now
        elif action == "start":
            inspection.started_at = now
        elif action == "record":
            inspection.findings_at = now
            inspection.follow_up_due = add_working_days(
                local_today(), settings.SUPERVISION_INSPECTION_FOLLOWUP_DAYS
            )
            if comment.strip():
                inspection.summary = comment.strip()
        elif action == "close":
            inspection.closed_at = now
            if comment.strip():
                inspection.summary = comment.strip()
        inspection_workflow.apply(inspection, action, acting_user=acting_user, comment=comment)
        dates = {
            "n": inspection.pk,
            "start": f"{inspection.planned_start:%Y-%m-%d}",
            "end": f"{inspection.planned_end:%Y-%m-%d}",
        }
        if action == "notify":
            notify(
                recipients=_subject_people(inspection.subject_id),
                title=_("Supervision inspection #%(n)s planned from %(start)s to %(end)s") % dates,
                body=inspection.title[:500],
                url=_url(inspection),
            )
        elif action == "cancel" and was_told:
            notify(
                recipients=_subject_people(inspection.subject_id),
                title=_("Supervision inspection #%(n)s was cancelled") % dates,
                body=comment[:500],
                url=_url(inspection),
            )
        elif action == "close":
            notify(
                recipients=_subject_people(inspection.subject_id),
                title=_("Supervision inspection #%(n)s was closed") % dates,
                url=_url(inspection),
            )
    return inspection


def _store_evidence(finding: Finding, files: list, exts: list[str], acting_user) -> None:
    for f, ext in zip(files, exts, strict=True):
        f.seek(0)
        digest = hashlib.sha256()
        for chunk in f.chunks():
            digest.update(chunk)
        f.seek(0)
        ev = FindingEvidence(
            finding=finding,
            name=Path(f.name).name.replace("\x00", "")[:200],
            size=f.size,
            sha256=digest.hexdigest(),
            uploaded_by=acting_user,
        )
        ev.file.save(f"{secrets.token_hex(16)}{ext}", File(f), save=False)
        ev.save()


@observe_refusals("supervision.finding_record")
def finding_record(
    *,
    inspection: Inspection,
    area: str,
    description: str,
    severity: str,
    references: str = "",
    resources: list | None = None,
    files: list | None = None,
    acting_user,
) -> Finding:
    """Record a finding of an inspection in progress, with its evidence documents."""
    if not is_bureau_side(inspection, acting_user):
        raise DomainError(_("Only the inspecting bureau records findings."))
    if area not in Area.values:
        raise DomainError(_("Choose the finding's category."), field="area")
    if severity not in Finding.Severity.values:
        raise DomainError(_("Choose the finding's severity."), field="severity")
    description = _clean_text(
        description, field="description", message=_("Describe what was found.")
    )
    references = _clean_text(references, field="references", message="", required=False)
    files = list(files or [])
    if len(files) > MAX_FILES:
        raise DomainError(_("Attach at most 10 files."), field="files")
    exts = [evidence_check(f) for f in files]
    resources = list(resources or [])
    if resources:
        allowed = set(resources_of(inspection.subject).values_list("pk", flat=True))
        if any(r.pk not in allowed for r in resources):
            raise DomainError(_("Name only resources of the subject inspected."), field="resources")
    with transaction.atomic():
        inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if inspection.state != S.IN_PROGRESS:
            raise DomainError(_("Findings are recorded while the inspection is in progress."))
        number = (inspection.findings.aggregate(n=Max("number"))["n"] or 0) + 1
        finding = Finding(
            inspection=inspection,
            number=number,
            area=area,
            description=description,
            severity=severity,
            references=references,
            recorded_by=acting_user,
        )
        audited_save(finding, acting_user=acting_user)
        finding.resources.set(resources)
        _store_evidence(finding, files, exts, acting_user)
    return finding


def _follow_up_open(finding: Finding, acting_user) -> tuple[Inspection, Finding]:
    inspection = Inspection.objects.select_for_update().get(pk=finding.inspection_id)
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if not is_bureau_side(inspection, acting_user):
        raise DomainError(_("Only the inspecting bureau decides the follow-up."))
    if inspection.state not in (S.IN_PROGRESS, S.FINDINGS):
        raise DomainError(_("The follow-up is decided while the inspection is open."))
    if finding.follow_up != Finding.FollowUp.PENDING:
        raise DomainError(_("This finding's follow-up has been decided already."))
    return inspection, finding


def order_facts(finding: Finding) -> str:
    """The facts of an order issued from `finding`, in the platform's language."""
    inspection = finding.inspection
    refs = ", ".join(r.code for r in finding.resources.all())
    extra = "; ".join(x for x in (refs, finding.references) if x)
    facts = _("Supervision inspection #%(n)s (%(start)s to %(end)s), finding %(f)s: %(text)s") % {
        "n": inspection.pk,
        "start": f"{inspection.planned_start:%Y-%m-%d}",
        "end": f"{inspection.planned_end:%Y-%m-%d}",
        "f": finding.number,
        "text": finding.description,
    }
    if extra:
        facts += "\n" + _("Records involved: %(records)s") % {"records": extra}
    return facts[:4000]


# The case of Art. 31 an order from a finding of each category starts from (the form may
# change it).
AREA_CASE = {
    Area.CATALOG: "not_provided",
    Area.AGGREGATION: "not_provided",
    Area.SHARING: "not_shared",
    Area.OPENING: "not_shared",
    Area.OPERATION: "not_shared",
    Area.REGISTRATION: "other",
    Area.SECURITY: "security_duty",
    Area.OTHER: "other",
}
SEVERITY_DAYS = {"minor": 20, "moderate": 15, "serious": 5}


@observe_refusals("supervision.finding_order")
def finding_order(
    *,
    finding: Finding,
    case: str,
    facts: str,
    deadline_days: int,
    requirement: str = "",
    acting_user,
):
    """Issue a rectification order from a finding (rectification's `order_issue`: the same
    checks, deadline and notice as any order) and link the two both ways."""
    if finding.inspection.subject.kind == Organization.Kind.OPERATOR:
        raise DomainError(
            _(
                "Rectification orders (Art. 31) go to agencies; follow an operator's finding up "
                "under its authorization and record the reason."
            )
        )
    with transaction.atomic():
        inspection, locked = _follow_up_open(finding, acting_user)
        order = order_issue(
            agency=inspection.subject,
            case=case,
            facts=facts,
            requirement=requirement,
            deadline_days=deadline_days,
            acting_user=acting_user,
        )
        locked.order = order
        locked.follow_up = Finding.FollowUp.ORDERED
        audited_save(locked, acting_user=acting_user, reason="rectification ordered")
    return order


@observe_refusals("supervision.finding_no_action")
def finding_no_action(*, finding: Finding, reason: str, acting_user) -> Finding:
    """Close a finding's follow-up without an order, for the reason given."""
    reason = _clean_text(reason, field="reason", message=_("Say why no order is needed."))
    with transaction.atomic():
        _inspection, locked = _follow_up_open(finding, acting_user)
        locked.follow_up = Finding.FollowUp.NO_ACTION
        locked.no_action_reason = reason[:2000]
        audited_save(locked, acting_user=acting_user, reason="no order")
    return locked
