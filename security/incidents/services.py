"""Writes of incidents, emergency plans and drills (Art. 26). Each takes `acting_user`, checks
the right to write for the record's organization, runs in one transaction and records history
naming the actor."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.uploads import UploadRefused, inspect_document

from .models import Drill, EmergencyPlan, Incident, IncidentEntry, IncidentResource
from .permissions import may_write_for, plans_visible_to
from .registry import resource_lookup
from .workflows import incident_workflow

INCIDENT_FIELDS = ("title", "level", "category", "occurred_at", "discovered_at", "summary")
PLAN_FIELDS = ("title", "version", "scope", "content", "valid_from", "valid_until")
DRILL_FIELDS = (
    "title",
    "plan",
    "held_on",
    "scenario",
    "participants",
    "participant_count",
    "findings",
    "improvements",
)
MAX_RESOURCES = 50


def _require_writer(user, organization: Organization) -> None:
    if not may_write_for(user, organization):
        raise AccessDenied(_("You may not record this for that organization."))


def _only(fields: dict, allowed: tuple[str, ...]) -> dict:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    return fields


def parse_resource_codes(text: str) -> list[str]:
    """Resource codes separated by commas, semicolons, spaces or new lines, each once."""
    codes = [c.strip() for c in re.split(r"[\s,;,;、]+", text or "") if c.strip()]
    return list(dict.fromkeys(codes))


def _resources(codes: list[str]) -> list[tuple[str, str]]:
    if len(codes) > MAX_RESOURCES:
        raise DomainError(
            _("At most %(n)s resources per incident.") % {"n": MAX_RESOURCES}, field="resources"
        )
    out = []
    for code in codes:
        if len(code) > 64:
            raise DomainError(_("A resource code is at most 64 characters."), field="resources")
        found = resource_lookup(code)
        if found is None:
            raise DomainError(
                _("No catalog resource has the code “%(code)s”.") % {"code": code},
                field="resources",
            )
        out.append((code, found[0]))
    return out


def _incident_times(incident: Incident) -> None:
    now = timezone.now()
    if incident.occurred_at > now or incident.discovered_at > now:
        raise DomainError(_("An incident cannot happen in the future."), field="occurred_at")
    if incident.discovered_at < incident.occurred_at:
        raise DomainError(_("It cannot be discovered before it happened."), field="discovered_at")


@transaction.atomic
def incident_report(
    *, organization: Organization, fields: dict, resource_codes: list[str], acting_user
) -> Incident:
    """Report an incident of `organization` with the catalog resources it affected. Level I
    and II incidents are notified at once to the security administrators and city reviewers."""
    _require_writer(acting_user, organization)
    incident = Incident(
        organization=organization, reported_by=acting_user, **_only(fields, INCIDENT_FIELDS)
    )
    _incident_times(incident)
    resources = _resources(resource_codes)
    audited_save(incident, acting_user=acting_user, reason="reported")
    for code, name in resources:
        audited_save(
            IncidentResource(incident=incident, resource_code=code, resource_name=name[:300]),
            acting_user=acting_user,
            reason="reported",
        )
    if incident.level in (Incident.Level.ESPECIALLY_MAJOR, Incident.Level.MAJOR):
        from django.urls import reverse

        people = get_user_model().objects.filter(
            groups__name__in=[Role.SECURITY_ADMIN, Role.CITY_REVIEWER], is_active=True
        )
        title = _("%(level)s security incident reported: %(title)s") % {
            "level": incident.get_level_display(),
            "title": incident.title,
        }
        url = reverse("security:incident-detail", args=[incident.pk])
        transaction.on_commit(lambda: notify(recipients=list(people), title=title, url=url))
    return incident


@transaction.atomic
def incident_resource_add(*, incident: Incident, resource_codes: list[str], acting_user) -> int:
    """Add affected resources found later. Returns how many were new."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _require_writer(acting_user, incident.organization)
    if incident.state == Incident.State.CLOSED:
        raise DomainError(_("A closed incident cannot be changed; reopen it first."))
    have = set(incident.resources.values_list("resource_code", flat=True))
    new = [c for c in resource_codes if c not in have]
    if len(have) + len(new) > MAX_RESOURCES:
        raise DomainError(
            _("At most %(n)s resources per incident.") % {"n": MAX_RESOURCES}, field="resources"
        )
    for code, name in _resources(new):
        audited_save(
            IncidentResource(incident=incident, resource_code=code, resource_name=name[:300]),
            acting_user=acting_user,
            reason="resource added",
        )
    return len(new)


@transaction.atomic
def incident_entry_add(
    *, incident: Incident, kind: str, at: dt.datetime, text: str, acting_user
) -> IncidentEntry:
    """Add a line to the incident's timeline (an observation, an action, a notice)."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    _require_writer(acting_user, incident.organization)
    if incident.state == Incident.State.CLOSED:
        raise DomainError(_("A closed incident cannot be changed; reopen it first."))
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError(_("A timeline entry cannot be in the future."), field="at")
    if not (text or "").strip():
        raise DomainError(_("Write what happened."), field="text")
    return audited_save(
        IncidentEntry(incident=incident, kind=kind, at=at, text=text.strip(), author=acting_user),
        acting_user=acting_user,
        reason="timeline",
    )


@transaction.atomic
def incident_move(
    *, incident: Incident, transition: str, acting_user, comment: str = "", lessons: str = ""
) -> Incident:
    """Move the incident along its workflow. Closing needs the lessons learned."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if transition == "close":
        if not (lessons or "").strip():
            raise DomainError(
                _("Write down the lessons learned before closing."), field="lessons_learned"
            )
        incident.lessons_learned = lessons.strip()
        incident.closed_at = timezone.now()
    elif transition == "reopen":
        incident.closed_at = None
    incident_workflow.apply(incident, transition, acting_user=acting_user, comment=comment)
    return incident


PLAN_DOCUMENT_KINDS = ("pdf", "docx", "odt")


def plan_document_check(uploaded) -> str:
    """The extension to store a plan's document under, or DomainError (field `document`)
    naming the file: too large (SECURITY_PLAN_DOCUMENT_MAX_BYTES), empty, not a PDF, Word
    (.docx) or OpenDocument (.odt) file, or content that is not what its name says."""
    try:
        return inspect_document(
            uploaded,
            kinds=PLAN_DOCUMENT_KINDS,
            max_bytes=settings.SECURITY_PLAN_DOCUMENT_MAX_BYTES,
        )
    except UploadRefused as exc:
        raise DomainError(exc.message, field="document") from exc


def _attach(plan: EmergencyPlan, uploaded, ext: str) -> None:
    """Store the document under a new random name (the file is served only through the
    access-checked view); the previous version's file stays for its historical record."""
    uploaded.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    plan.document.save(f"{secrets.token_hex(16)}{ext}", File(uploaded), save=False)
    plan.document_name = Path(uploaded.name).name[:200]
    plan.document_size = uploaded.size
    plan.document_sha256 = digest.hexdigest()


@transaction.atomic
def plan_save(
    *,
    fields: dict,
    acting_user,
    organization: Organization | None = None,
    plan=None,
    document=None,
) -> EmergencyPlan:
    """Create an emergency plan of `organization`, or change `plan`; `document` (an uploaded
    file) replaces the plan's document, the earlier one staying with the plan's history."""
    fields = _only(fields, PLAN_FIELDS)
    if plan is None:
        _require_writer(acting_user, organization)
        plan = EmergencyPlan(organization=organization, created_by=acting_user)
        reason = "create"
    else:
        plan = EmergencyPlan.objects.select_for_update().get(pk=plan.pk)
        _require_writer(acting_user, plan.organization)
        reason = "update"
    for name, value in fields.items():
        setattr(plan, name, value)
    if plan.valid_until < plan.valid_from:
        raise DomainError(_("The plan must be valid before it expires."), field="valid_until")
    ext = plan_document_check(document) if document else None
    if not ext and not plan.document and not (plan.content or "").strip():
        raise DomainError(
            _("Write the plan, or attach its document (PDF, Word or OpenDocument)."),
            field="content",
        )
    if (
        EmergencyPlan.objects.filter(
            organization=plan.organization, title=plan.title, version=plan.version
        )
        .exclude(pk=plan.pk)
        .exists()
    ):
        raise DomainError(_("This plan already has this version."), field="version")
    if ext:
        _attach(plan, document, ext)
        reason = f"{reason}: document"
    return audited_save(plan, acting_user=acting_user, reason=reason)


@transaction.atomic
def drill_record(*, organization: Organization, fields: dict, acting_user) -> Drill:
    """Record an emergency drill held by `organization`."""
    _require_writer(acting_user, organization)
    fields = _only(fields, DRILL_FIELDS)
    plan = fields.get("plan")
    if plan is not None and not plans_visible_to(acting_user).filter(pk=plan.pk).exists():
        raise DomainError(_("Choose one of the plans you can see."), field="plan")
    drill = Drill(organization=organization, created_by=acting_user, **fields)
    if drill.held_on > timezone.localdate():
        raise DomainError(_("Record a drill after it was held."), field="held_on")
    return audited_save(drill, acting_user=acting_user, reason="recorded")
