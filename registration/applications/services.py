"""Writes of the registration procedure (Art. 23-25). Each service takes `acting_user`,
checks the right and the state, runs in one transaction and records history naming the actor;
workflow moves are recorded as events (kernel.workflow)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Resource
from catalog.public import open_data_resources_q
from registration.evidence.models import Deposit
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.throttling import count_in_window
from wuhan_pdr.kernel.uploads import UploadRefused, inspect_document
from wuhan_pdr.kernel.workdays import SHANGHAI, deadline_after

from .models import CodeCounter, Material, NoticeObjection, Registration, RegistrationChange
from .permissions import is_registrant_of, is_registrar, may_apply
from .workflows import registration_workflow

S = Registration.State
FIELDS = ("name", "description", "source_note", "update_cycle", "contact_name", "contact_phone")
MATERIAL_KINDS = ("pdf", "docx", "odt", "png", "jpeg")
MAX_MATERIALS = 20
# Holders of public data whose resources in the authorized-operation scope must be
# registered (Art. 23 para. 1: party and government bodies and public institutions).
MANDATORY_HOLDER_KINDS = (
    Organization.Kind.CITY_AGENCY,
    Organization.Kind.DISTRICT_AGENCY,
    Organization.Kind.CITY_BUREAU,
    Organization.Kind.DISTRICT_BUREAU,
)


def _only(fields: dict) -> dict:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}


def is_mandatory(*, kind: str, registrant: Organization, resource: Resource | None) -> bool:
    """Whether Art. 23 para. 1 obliges the registrant to register this object."""
    if kind == Registration.Kind.PRODUCT or resource is None:
        return False
    version = resource.published_version
    return registrant.kind in MANDATORY_HOLDER_KINDS and bool(
        version and version.operation_eligible
    )


def _check_object(*, kind: str, registrant: Organization, resource: Resource | None) -> None:
    if kind not in Registration.Kind.values:
        raise DomainError(_("Choose what is registered."), field="kind")
    if kind == Registration.Kind.PRODUCT:
        if resource is not None:
            raise DomainError(_("A data product is described, not chosen from the catalog."))
        return
    if resource is None:
        raise DomainError(_("Choose the catalog resource to register."), field="resource")
    if resource.provider_id != registrant.pk:
        raise DomainError(_("Only the resource's provider may register it."), field="resource")
    if resource.published_version_id is None or resource.retired_at is not None:
        raise DomainError(
            _("Only a published catalog resource can be registered."), field="resource"
        )
    if kind == Registration.Kind.OPEN_DATA and not (
        Resource.objects.filter(open_data_resources_q("published_version"), pk=resource.pk).exists()
    ):
        raise DomainError(
            _("This resource is not open data: register it as a public data resource."),
            field="resource",
        )


def _check_deposit(
    *, deposit: Deposit | None, kind: str, registrant: Organization, resource
) -> None:
    if deposit is None:
        raise DomainError(_("Deposit the evidence first, then choose it."), field="deposit")
    if deposit.state != Deposit.State.DONE or not deposit.data_sha256:
        raise DomainError(
            _("This evidence deposit is not complete: choose a finished one."), field="deposit"
        )
    if deposit.holder_id != registrant.pk:
        raise DomainError(_("The evidence deposit must be the registrant's own."), field="deposit")
    if deposit.kind != Registration.DEPOSIT_KINDS[kind]:
        raise DomainError(_("The evidence deposit covers another kind of object."), field="deposit")
    if kind != Registration.Kind.PRODUCT and deposit.resource_id != getattr(resource, "pk", None):
        raise DomainError(_("The evidence deposit covers another resource."), field="deposit")


def _check_unique(*, kind: str, resource, exclude_pk=None) -> None:
    if resource is None:
        return
    busy = (
        Registration.objects.filter(kind=kind, resource=resource)
        .exclude(state__in=(S.REFUSED, S.WITHDRAWN, S.CANCELLED))
        .exclude(pk=exclude_pk)
    )
    if busy.exists():
        raise DomainError(
            _("This resource already has a registration or an application in progress."),
            field="resource",
        )


@transaction.atomic
def registration_create(
    *,
    kind: str,
    resource: Resource | None,
    deposit: Deposit | None,
    fields: dict,
    acting_user,
) -> Registration:
    """Start an application (a draft) for the acting user's organization."""
    if not may_apply(acting_user):
        raise AccessDenied(_("You may not apply for registration."))
    registrant = acting_user.organization
    fields = _only(fields)
    if resource is not None and kind != Registration.Kind.PRODUCT:
        # A resource is named publicly by its catalog name only (catalog.public,
        # LEGALLY_PUBLIC_FIELDS), never by a name of the registrant's choosing.
        fields["name"] = resource.published_version.name if resource.published_version else ""
    _check_object(kind=kind, registrant=registrant, resource=resource)
    _check_deposit(deposit=deposit, kind=kind, registrant=registrant, resource=resource)
    _check_unique(kind=kind, resource=resource)
    registration = Registration(
        kind=kind,
        registrant=registrant,
        resource=resource,
        deposit=deposit,
        created_by=acting_user,
        mandatory=is_mandatory(kind=kind, registrant=registrant, resource=resource),
        **fields,
    )
    return audited_save(registration, acting_user=acting_user, reason="draft")


@transaction.atomic
def registration_update(
    *, registration: Registration, fields: dict, deposit: Deposit | None, acting_user
) -> Registration:
    """Change a draft, or an application sent back, before it is (again) submitted."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if not is_registrant_of(acting_user, registration):
        raise AccessDenied(_("You may not change this application."))
    if registration.state not in Registration.EDITABLE_STATES:
        raise DomainError(_("Only a draft or an application sent back can be changed."))
    fields = _only(fields)
    if registration.kind != Registration.Kind.PRODUCT:
        fields.pop("name", None)
    for name, value in fields.items():
        setattr(registration, name, value)
    _check_deposit(
        deposit=deposit,
        kind=registration.kind,
        registrant=registration.registrant,
        resource=registration.resource,
    )
    registration.deposit = deposit
    return audited_save(registration, acting_user=acting_user, reason="edit")


def material_check(uploaded) -> str:
    try:
        return inspect_document(
            uploaded, kinds=MATERIAL_KINDS, max_bytes=settings.REGISTRATION_MATERIAL_MAX_BYTES
        )
    except UploadRefused as exc:
        raise DomainError(exc.message, field="file") from exc


@transaction.atomic
def material_add(*, registration: Registration, title: str, uploaded, acting_user) -> Material:
    """File a document with the application (while it is a draft or sent back)."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if not is_registrant_of(acting_user, registration):
        raise AccessDenied(_("You may not change this application."))
    if registration.state not in Registration.EDITABLE_STATES:
        raise DomainError(_("Materials are added while the application is a draft or sent back."))
    if registration.materials.count() >= MAX_MATERIALS:
        raise DomainError(
            _("At most %(n)s materials per application.") % {"n": MAX_MATERIALS}, field="file"
        )
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Say what the material is."), field="title")
    ext = material_check(uploaded)
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    material = Material(
        registration=registration,
        title=title,
        file_name=Path(uploaded.name).name[:200],
        size=uploaded.size,
        sha256=digest.hexdigest(),
        uploaded_by=acting_user,
    )
    material.file.save(f"{secrets.token_hex(16)}{ext}", File(uploaded), save=False)
    return audited_save(material, acting_user=acting_user, reason="material")


def _registrars():
    return get_user_model().objects.filter(
        groups__name=Role.REGISTRAR,
        organization__kind=Organization.Kind.REGISTRATION_BODY,
        is_active=True,
    )


def _registrant_people(registration: Registration):
    return get_user_model().objects.filter(
        organization=registration.registrant,
        groups__name__in=[Role.AGENCY_STAFF, Role.AGENCY_ADMIN, Role.OPERATOR],
        is_active=True,
    )


def _notify_later(recipients, title: str, registration: Registration) -> None:
    url = reverse("registration:detail", args=[registration.pk])
    people = list(recipients)
    transaction.on_commit(lambda: notify(recipients=people, title=title, url=url))


def acceptance_deadline(submitted_at: dt.datetime) -> dt.datetime:
    """The end of the REGISTRATION_DAYS_ACCEPT-th working day after submission."""
    return deadline_after(settings.REGISTRATION_DAYS_ACCEPT, start=submitted_at)


def notice_end(starts_at: dt.datetime) -> dt.datetime:
    """The end of the public notice: REGISTRATION_NOTICE_DAYS working days after its start."""
    return deadline_after(settings.REGISTRATION_NOTICE_DAYS, start=starts_at)


def open_objections(registration: Registration) -> int:
    return registration.objections.filter(state=NoticeObjection.State.OPEN).count()


def code_next(year: int) -> str:
    """The next registration code of `year`, in the caller's transaction: the counter row is
    incremented and stays locked until that transaction ends, so a code is never given twice
    and a rolled-back assignment gives its number back (no gaps). See the decision record on
    registration codes."""
    table = connection.ops.quote_name(CodeCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1) "  # noqa: S608  (quoted name)
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [year],
        )
        (seq,) = cursor.fetchone()
    return settings.REGISTRATION_CODE_FORMAT.format(year=year, seq=seq)


@transaction.atomic
def registration_move(
    *, registration: Registration, transition: str, acting_user, comment: str = ""
) -> Registration:
    """Move the application along the procedure (workflows.py). Beyond role and state:
    submitting needs a complete deposit and at least one material; the body sends back once
    only, listing everything missing (the comment); the code is assigned after the notice
    period, with every objection answered."""
    registration = (
        Registration.objects.select_for_update()
        .select_related("registrant", "deposit")
        .get(pk=registration.pk)
    )
    now = timezone.now()
    comment = (comment or "").strip()
    if transition == "send_back" and registration.sent_back_at is not None:
        raise DomainError(_("An application is sent back only once."))
    registration_workflow.check(registration, transition, acting_user=acting_user, comment=comment)
    if transition == "submit":
        _check_deposit(
            deposit=registration.deposit,
            kind=registration.kind,
            registrant=registration.registrant,
            resource=registration.resource,
        )
        if not registration.materials.exists():
            raise DomainError(_("Attach at least one material before submitting."), field="file")
        registration.submitted_at = now
        registration.accept_by = acceptance_deadline(now)
        registration.accept_overdue_at = None
        _notify_later(
            _registrars(),
            _("Registration application to accept: %(name)s") % {"name": registration.name},
            registration,
        )
    elif transition == "send_back":
        registration.sent_back_at = now
        registration.missing = comment
        registration.accept_by = None
        _notify_later(
            _registrant_people(registration),
            _("Registration application sent back: %(name)s") % {"name": registration.name},
            registration,
        )
    elif transition == "accept":
        registration.accepted_at = now
        registration.accept_by = None
    elif transition == "review_pass":
        registration.notice_starts_at = now
        registration.notice_ends_at = notice_end(now)
    elif transition == "assign_code":
        if registration.notice_ends_at is None or registration.notice_ends_at > now:
            raise DomainError(
                _("The public notice runs until %(end)s: the code is assigned after it.")
                % {"end": timezone.localtime(registration.notice_ends_at).strftime("%Y-%m-%d")}
            )
        if open_objections(registration):
            raise DomainError(
                _("An objection to this registration is not answered yet: answer it first.")
            )
        registration.code = code_next(now.astimezone(SHANGHAI).year)
        registration.registered_at = now
    elif transition == "cancel":
        registration.cancelled_at = now
        registration.cancel_reason = comment
    registration_workflow.apply(registration, transition, acting_user=acting_user, comment=comment)
    if transition in ("accept", "review_pass", "assign_code", "refuse", "cancel"):
        label = registration_workflow.get(transition).label
        _notify_later(
            _registrant_people(registration),
            _("Registration “%(name)s”: %(action)s") % {"name": registration.name, "action": label},
            registration,
        )
    return registration


# --- objections during the public notice ---------------------------------------------------

OBJECTION_WINDOW = 3600


def _take_objection_slot(client_key: str) -> None:
    count, _key = count_in_window(f"registration:objections:{client_key}", seconds=OBJECTION_WINDOW)
    if count > settings.REGISTRATION_OBJECTIONS_PER_HOUR:
        raise DomainError(
            _("Too many objections from here in this hour: please try again later."),
            code="rate_limited",
        )


def objection_lodge(
    *,
    registration: Registration,
    name: str,
    contact: str,
    text: str,
    client_key: str,
    acting_user=None,
) -> NoticeObjection:
    """Lodge an objection to a registration in public notice: anyone may, signed in or not
    (with a name and a way to reach them); at most REGISTRATION_OBJECTIONS_PER_HOUR an hour
    from one client. The procedure is held until the body answers it."""
    name, contact, text = (name or "").strip(), (contact or "").strip(), (text or "").strip()
    if not name:
        raise DomainError(_("Give your name."), field="name")
    if not contact:
        raise DomainError(_("Give a phone number or e-mail address."), field="contact")
    if not text:
        raise DomainError(_("Write your objection."), field="text")
    _take_objection_slot(client_key or "unknown")
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        now = timezone.now()
        if registration.state != S.NOTICE or (
            registration.notice_ends_at and registration.notice_ends_at < now
        ):
            raise DomainError(_("Objections are lodged only while the notice runs."))
        user = acting_user if getattr(acting_user, "is_authenticated", False) else None
        objection = audited_save(
            NoticeObjection(
                registration=registration, name=name, contact=contact, text=text, lodged_by=user
            ),
            acting_user=user,
            reason="lodged",
        )
        _notify_later(
            _registrars(),
            _("Objection to the registration in notice: %(name)s") % {"name": registration.name},
            registration,
        )
        return objection


@transaction.atomic
def objection_answer(
    *, objection: NoticeObjection, answer: str, upheld: bool, acting_user
) -> NoticeObjection:
    """The registration body answers an objection (upheld or not); the procedure goes on
    (or the body refuses the registration when the objection holds)."""
    objection = NoticeObjection.objects.select_for_update().get(pk=objection.pk)
    if not is_registrar(acting_user):
        raise AccessDenied(_("Only the registration body answers objections."))
    if objection.state != NoticeObjection.State.OPEN:
        raise DomainError(_("This objection is already answered."))
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_("Write the answer."), field="answer")
    objection.answer, objection.upheld = answer, bool(upheld)
    objection.state = NoticeObjection.State.ANSWERED
    objection.answered_by, objection.answered_at = acting_user, timezone.now()
    return audited_save(objection, acting_user=acting_user, reason="answered")


# --- changes -------------------------------------------------------------------------------


@transaction.atomic
def change_request(
    *,
    registration: Registration,
    description: str,
    reason: str,
    deposit: Deposit | None,
    acting_user,
) -> RegistrationChange:
    """The registrant asks to change a registered object, resting on a new deposit."""
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if not is_registrant_of(acting_user, registration):
        raise AccessDenied(_("You may not change this registration."))
    if registration.state != S.REGISTERED:
        raise DomainError(_("Only a registered object can be changed."))
    if registration.changes.filter(state=RegistrationChange.State.PENDING).exists():
        raise DomainError(_("A change of this registration is already waiting for a decision."))
    _check_deposit(
        deposit=deposit,
        kind=registration.kind,
        registrant=registration.registrant,
        resource=registration.resource,
    )
    if deposit.pk == registration.deposit_id:
        raise DomainError(_("A change rests on a new evidence deposit."), field="deposit")
    description, reason = (description or "").strip(), (reason or "").strip()
    if not description:
        raise DomainError(_("Describe the object as changed."), field="description")
    if not reason:
        raise DomainError(_("Say why it changes."), field="reason")
    change = audited_save(
        RegistrationChange(
            registration=registration,
            description=description,
            reason=reason,
            old_deposit=registration.deposit,
            new_deposit=deposit,
            requested_by=acting_user,
        ),
        acting_user=acting_user,
        reason="requested",
    )
    _notify_later(
        _registrars(),
        _("Change of a registration to decide: %(code)s") % {"code": registration.code},
        registration,
    )
    return change


@transaction.atomic
def change_decide(
    *, change: RegistrationChange, approve: bool, comment: str, acting_user
) -> RegistrationChange:
    """The registration body approves a change (the registration takes the new deposit and
    description, and its version goes up) or refuses it (with a reason)."""
    change = RegistrationChange.objects.select_for_update().get(pk=change.pk)
    if not is_registrar(acting_user):
        raise AccessDenied(_("Only the registration body decides changes."))
    if change.state != RegistrationChange.State.PENDING:
        raise DomainError(_("This change is already decided."))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise DomainError(_("Say why the change is refused."), field="comment")
    registration = Registration.objects.select_for_update().get(pk=change.registration_id)
    if approve:
        if registration.state != S.REGISTERED:
            raise DomainError(_("Only a registered object can be changed."))
        registration.deposit = change.new_deposit
        registration.description = change.description
        registration.version += 1
        audited_save(registration, acting_user=acting_user, reason=f"change #{change.pk} approved")
    change.state = (
        RegistrationChange.State.APPROVED if approve else RegistrationChange.State.REFUSED
    )
    change.decided_by, change.decided_at, change.comment = acting_user, timezone.now(), comment
    audited_save(change, acting_user=acting_user, reason="decided")
    _notify_later(
        _registrant_people(registration),
        _("Change of registration %(code)s decided") % {"code": registration.code},
        registration,
    )
    return change


# --- the daily sweep (beat "registration.daily") ------------------------------------------


def registrations_daily(*, now: dt.datetime | None = None) -> dict:
    """Flag applications not accepted by their deadline and notices whose period has ended,
    and tell the registration body once about each. Safe to run twice."""
    now = now or timezone.now()
    overdue = notice_ended = 0
    with transaction.atomic():
        late = list(
            Registration.objects.select_for_update(skip_locked=True).filter(
                state=S.SUBMITTED, accept_by__lt=now, accept_overdue_at__isnull=True
            )
        )
        for registration in late:
            registration.accept_overdue_at = now
            audited_save(registration, acting_user=None, reason="acceptance overdue")
            _notify_later(
                _registrars(),
                _("Acceptance overdue: %(name)s") % {"name": registration.name},
                registration,
            )
            overdue += 1
        ended = list(
            Registration.objects.select_for_update(skip_locked=True).filter(
                state=S.NOTICE, notice_ends_at__lt=now, notice_end_noted_at__isnull=True
            )
        )
        for registration in ended:
            registration.notice_end_noted_at = now
            audited_save(registration, acting_user=None, reason="notice period ended")
            _notify_later(
                _registrars(),
                _("Public notice ended, code to assign: %(name)s") % {"name": registration.name},
                registration,
            )
            notice_ended += 1
    return {"overdue": overdue, "notice_ended": notice_ended}


# --- the approval check of authorized operation (Art. 23) ----------------------------------


def operation_registration_problems(resources) -> list[str]:
    """One message per resource without a valid registration (registered, not cancelled):
    the condition authorization.operation asks before approving an authorization."""
    resources = list(resources)
    registered = set(
        Registration.objects.filter(
            resource__in=resources,
            state=S.REGISTERED,
            kind__in=(Registration.Kind.RESOURCE, Registration.Kind.OPEN_DATA),
        ).values_list("resource_id", flat=True)
    )
    return [
        _("%(code)s: not registered (Art. 23)") % {"code": r.code}
        for r in resources
        if r.pk not in registered
    ]
