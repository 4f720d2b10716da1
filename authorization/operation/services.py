"""The services of authorized operation (Art. 18-20). Each one acts in one transaction,
checks the acting user's right, and refuses with a DomainError naming the field.

Every change that the public disclosure shows bumps its cache generation on commit
(`disclosure_changed`), so that the cached public pages are never stale.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.models import Classification, Resource
from security.models import Grade
from wuhan_pdr.accounts.models import Division, Organization, User
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel import workdays
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.sealing import seal, unseal
from wuhan_pdr.kernel.uploads import UploadRefused, inspect_document

from .checks import approval_problems
from .models import (
    AuthorizedResource,
    FeeBasis,
    FeeCap,
    OperationAuthorization,
    Product,
    ProviderConsent,
    YearlyDisclosure,
)
from .permissions import (
    holds,
    is_city_reviewer,
    is_operator,
    may_manage_products,
    reviews,
)
from .workflows import authorization_workflow, disclosure_workflow

A = OperationAuthorization.State
PLAN_KINDS = ("pdf", "docx", "odt")
MAX_RESOURCES = 500
MAX_YEARS = 20
GENERATION_KEY = "operation:disclosure:generation"


# --- the public pages' cache ----------------------------------------------------------------


def disclosure_generation() -> int:
    return cache.get_or_set(GENERATION_KEY, 1, timeout=None)


def disclosure_changed() -> None:
    """After the commit, make every cached public disclosure page stale."""

    def bump():
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:
            cache.set(GENERATION_KEY, 2, timeout=None)

    transaction.on_commit(bump)


# --- helpers ---------------------------------------------------------------------------------


def _text(value, *, field: str, label, limit: int, required: bool = True) -> str:
    text = str(value or "").replace("\x00", "").strip()
    if required and not text:
        raise DomainError(_("%(field)s: please fill this in.") % {"field": label}, field=field)
    if len(text) > limit:
        raise DomainError(
            _("%(field)s: at most %(n)d characters.") % {"field": label, "n": limit}, field=field
        )
    return text


def _tell(recipients, title, body, url) -> None:
    recipients = list(recipients)
    transaction.on_commit(
        lambda: notify(recipients=recipients, title=str(title), body=str(body), url=url)
    )


def _users(org_id, *roles) -> list[User]:
    return list(
        User.objects.filter(organization_id=org_id, groups__name__in=roles, is_active=True)
        .distinct()
        .order_by("pk")
    )


def operator_people(authorization) -> list[User]:
    return _users(authorization.operator_id, Role.OPERATOR)


def bureau_people(authorization) -> list[User]:
    return _users(authorization.authorizing_body_id, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER)


def _url(authorization) -> str:
    return f"/operation/authorizations/{authorization.pk}/"


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=workdays.SHANGHAI)


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=workdays.SHANGHAI)


def eligible_resources_q(prefix: str = "") -> Q:
    """Resources that may enter the authorized-operation scope now: published, not retired,
    flagged eligible by their provider, of a grade that allows operation (Art. 18)."""
    p = f"{prefix}__" if prefix else ""
    return Q(
        **{
            f"{p}published_version__isnull": False,
            f"{p}retired_at__isnull": True,
            f"{p}published_version__operation_eligible": True,
            f"{p}published_version__grade__may_operate": True,
        }
    )


def delivery_for(resource: Resource) -> str:
    """Rows through the supply API for data kept in the general zone; the sandbox only for
    grades kept in a storage zone (their rows do not leave it)."""
    grade = resource.published_version.grade
    if grade.storage_zone == Grade.Zone.GENERAL:
        return AuthorizedResource.Delivery.ROWS
    return AuthorizedResource.Delivery.SANDBOX


def authorizing_body_for(resources: Iterable[Resource]) -> Organization:
    """The district bureau when every resource is held by agencies of its one district
    (Art. 18 lets districts bring their data into the scope), the city bureau otherwise."""
    providers = {r.provider for r in resources}
    divisions = {p.division_id for p in providers}
    if (
        providers
        and all(p.kind == Organization.Kind.DISTRICT_AGENCY for p in providers)
        and len(divisions) == 1
    ):
        bureau = (
            Organization.objects.filter(
                kind=Organization.Kind.DISTRICT_BUREAU, division_id=divisions.pop(), is_active=True
            )
            .order_by("pk")
            .first()
        )
        if bureau is not None:
            return bureau
    bureau = (
        Organization.objects.filter(kind=Organization.Kind.CITY_BUREAU, is_active=True)
        .order_by("pk")
        .first()
    )
    if bureau is None:
        raise DomainError(_("No city data bureau is registered on the platform."))
    return bureau


def plan_document_check(uploaded) -> str:
    try:
        return inspect_document(
            uploaded, kinds=PLAN_KINDS, max_bytes=settings.OPERATION_PLAN_MAX_BYTES
        )
    except UploadRefused as exc:
        raise DomainError(
            _("Implementation plan: %(problem)s") % {"problem": exc.message}, field="plan"
        ) from exc


def _attach_plan(authorization, uploaded, ext: str) -> None:
    uploaded.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    name = str(getattr(uploaded, "name", "") or "plan").replace("\x00", "")[-200:]
    authorization.plan.save(f"{secrets.token_hex(16)}{ext}", File(uploaded), save=False)
    authorization.plan_name = name


def _dates(starts_on, ends_on, *, check_past: bool = True) -> None:
    if not isinstance(starts_on, dt.date) or not isinstance(ends_on, dt.date):
        raise DomainError(_("Starts on: give a start and an end date."), field="starts_on")
    if check_past and starts_on < workdays.today():
        raise DomainError(_("Starts on: the start cannot lie in the past."), field="starts_on")
    if ends_on <= starts_on:
        raise DomainError(_("Ends on: the end must come after the start."), field="ends_on")
    if (ends_on - starts_on).days > MAX_YEARS * 366:
        raise DomainError(
            _("Ends on: an authorization lasts at most %(n)d years.") % {"n": MAX_YEARS},
            field="ends_on",
        )


def _whole_resources(domain, region) -> list[Resource]:
    if bool(domain) == bool(region):
        raise DomainError(
            _("Domain: a whole authorization covers either one domain or one region."),
            field="domain",
        )
    q = eligible_resources_q()
    if domain is not None:
        q &= Q(classification__code__startswith=domain.code)
    else:
        q &= Q(provider__division__code__startswith=region.code.rstrip("0") or region.code)
    found = list(
        Resource.objects.filter(q)
        .select_related("provider", "published_version__grade")
        .order_by("code")[: MAX_RESOURCES + 1]
    )
    if not found:
        raise DomainError(
            _("Domain: no resource eligible for authorized operation lies in this scope."),
            field="domain" if domain is not None else "region",
        )
    if len(found) > MAX_RESOURCES:
        raise DomainError(
            _("Resources: at most %(n)d resources in one authorization.") % {"n": MAX_RESOURCES},
            field="domain",
        )
    return found


def _individual_resources(resources) -> list[Resource]:
    ids = sorted({int(getattr(r, "pk", r)) for r in resources or ()})
    if not ids:
        raise DomainError(_("Resources: choose at least one resource."), field="resources")
    if len(ids) > MAX_RESOURCES:
        raise DomainError(
            _("Resources: at most %(n)d resources in one authorization.") % {"n": MAX_RESOURCES},
            field="resources",
        )
    found = list(
        Resource.objects.filter(pk__in=ids)
        .select_related("provider", "published_version__grade")
        .order_by("code")
    )
    eligible = set(
        Resource.objects.filter(eligible_resources_q(), pk__in=ids).values_list("pk", flat=True)
    )
    refused = [r.code for r in found if r.pk not in eligible]
    if refused or len(found) != len(ids):
        raise DomainError(
            _("Resources: not eligible for authorized operation: %(codes)s.")
            % {"codes": ", ".join(refused[:5]) or "?"},
            field="resources",
        )
    return found


# --- authorizations --------------------------------------------------------------------------


@observe_refusals("operation.authorization.apply")
def authorization_apply(
    *,
    acting_user,
    kind: str,
    scope: str,
    purpose: str,
    security_measures: str,
    starts_on: dt.date,
    ends_on: dt.date,
    resources=(),
    domain: Classification | None = None,
    region: Division | None = None,
    plan=None,
) -> OperationAuthorization:
    """An operator applies for a whole (domain or region) or individual (named resources,
    with an implementation plan) authorization; it goes to the authorizing bureau."""
    if not is_operator(acting_user):
        raise AccessDenied(_("Only an authorized operator may apply."))
    if kind not in OperationAuthorization.Kind.values:
        raise DomainError(_("Kind: choose whole or individual."), field="kind")
    fields = {
        "scope": _text(scope, field="scope", label=_("Scope of operation"), limit=2000),
        "purpose": _text(purpose, field="purpose", label=_("Purpose"), limit=2000),
        "security_measures": _text(
            security_measures, field="security_measures", label=_("Security measures"), limit=4000
        ),
    }
    _dates(starts_on, ends_on)
    if kind == OperationAuthorization.Kind.WHOLE:
        chosen = _whole_resources(domain, region)
    else:
        domain = region = None
        chosen = _individual_resources(resources)
        if plan is None:
            raise DomainError(
                _("Implementation plan: an individual authorization needs its plan document."),
                field="plan",
            )
    ext = plan_document_check(plan) if plan is not None else None
    body = authorizing_body_for(chosen)
    with transaction.atomic():
        authorization = OperationAuthorization(
            kind=kind,
            operator=acting_user.organization,
            applicant=acting_user,
            authorizing_body=body,
            domain=domain,
            region=region,
            starts_on=starts_on,
            ends_on=ends_on,
            step_deadline=workdays.deadline_after(settings.OPERATION_REVIEW_DAYS),
            **fields,
        )
        if ext is not None:
            _attach_plan(authorization, plan, ext)
        audited_save(authorization, acting_user=acting_user, reason=gettext_noop("applied"))
        AuthorizedResource.objects.bulk_create(
            AuthorizedResource(authorization=authorization, resource=r, delivery=delivery_for(r))
            for r in chosen
        )
        _tell(
            bureau_people(authorization),
            _("Operation authorization to review: %(org)s") % {"org": authorization.operator.name},
            fields["purpose"][:200],
            _url(authorization),
        )
    return authorization


def _locked(authorization) -> OperationAuthorization:
    return (
        OperationAuthorization.objects.select_for_update(of=("self",))
        .select_related("operator", "authorizing_body")
        .get(pk=authorization.pk)
    )


def missing_consents(authorization) -> list[Organization]:
    """The providers of an individual authorization whose consent is not recorded yet."""
    if authorization.kind != OperationAuthorization.Kind.INDIVIDUAL:
        return []
    providers = Organization.objects.filter(
        pk__in=authorization.entries.values("resource__provider_id")
    ).order_by("name")
    given = set(authorization.consents.values_list("provider_id", flat=True))
    return [p for p in providers if p.pk not in given]


@observe_refusals("operation.consent.record", object_arg="authorization")
def consent_record(*, authorization, provider: Organization, note: str, acting_user):
    """Record a provider's consent to the implementation plan: by the provider's data officer
    or by the authorizing bureau that drew the plan up with it."""
    note = _text(note, field="note", label=_("How the consent was given"), limit=500)
    with transaction.atomic():
        authorization = _locked(authorization)
        if authorization.state not in (A.SUBMITTED, A.RETURNED):
            raise DomainError(_("Consents are recorded while the application is under review."))
        if authorization.kind != OperationAuthorization.Kind.INDIVIDUAL:
            raise DomainError(_("Only an individual authorization records providers' consents."))
        own = (
            acting_user.organization_id == provider.pk
            and acting_user.is_active
            and has_role(acting_user, Role.AGENCY_ADMIN)
        )
        if not (reviews(authorization, acting_user) or own):
            raise AccessDenied(_("You may not record this provider's consent."))
        if not authorization.entries.filter(resource__provider=provider).exists():
            raise DomainError(
                _("Provider: holds no resource of this authorization."), field="provider"
            )
        consent, created = ProviderConsent.objects.get_or_create(
            authorization=authorization,
            provider=provider,
            defaults={"recorded_by": acting_user, "note": note},
        )
        if not created:
            raise DomainError(_("Provider: its consent is already recorded."), field="provider")
    return consent


def _grant_items(resource: Resource) -> dict[int, str]:
    from authorization.sharing.services import default_delivery

    items = resource.published_version.items.select_related("grade", "version__grade")
    return {item.pk: default_delivery(item) for item in items}


def _issue_grants(authorization, *, acting_user) -> int:
    """Supply grants to the operator for the resources delivered as rows (Art. 19)."""
    from authorization.sharing.services import grant_issue

    count = 0
    now = timezone.now()
    for entry in authorization.entries.select_related("resource__published_version").filter(
        delivery=AuthorizedResource.Delivery.ROWS
    ):
        if authorization.grants.filter(resource_id=entry.resource_id).exists():
            continue
        start = _start_of_day(authorization.starts_on)
        grant, raw_key = grant_issue(
            resource=entry.resource,
            grantee=authorization.operator,
            items=_grant_items(entry.resource),
            origin="operation",
            valid_from=start if start > now else now,
            valid_until=_end_of_day(authorization.ends_on),
            acting_user=acting_user,
        )
        authorization.grants.add(grant)
        entry.grant, entry.key_sealed = grant, seal(raw_key)
        entry.save(update_fields=["grant", "key_sealed"])
        count += 1
    return count


@observe_refusals("operation.grant_key.reveal", object_arg="entry")
def grant_key_reveal(*, entry: AuthorizedResource, acting_user) -> str:
    """The raw API key of an authorization's grant, to the operator, once: then forgotten
    (a new key is a rotation by the grant's rules)."""
    from security import audit

    with transaction.atomic():
        entry = (
            AuthorizedResource.objects.select_for_update(of=("self",))
            .select_related("authorization")
            .get(pk=entry.pk)
        )
        if not holds(entry.authorization, acting_user):
            raise AccessDenied(_("Only the operator may see its keys."))
        if not entry.key_sealed:
            raise DomainError(_("The key has already been shown; it is not kept."))
        raw = unseal(entry.key_sealed)
        entry.key_sealed = ""
        entry.save(update_fields=["key_sealed"])
        audit.record("operation.grant_key_shown", actor=acting_user, obj=entry.grant)
    return raw


def _move_grants(authorization, target: str, *, reason: str, acting_user) -> None:
    """Suspend, resume, revoke or expire the authorization's grants with it."""
    from authorization.sharing.models import Grant
    from authorization.sharing.workflows import grant_workflow

    sources = {
        Grant.State.SUSPENDED: [Grant.State.ACTIVE],
        Grant.State.ACTIVE: [Grant.State.SUSPENDED],
        Grant.State.REVOKED: [Grant.State.ACTIVE, Grant.State.SUSPENDED],
        Grant.State.EXPIRED: [Grant.State.ACTIVE, Grant.State.SUSPENDED],
    }[target]
    for grant in authorization.grants.select_for_update().filter(state__in=sources):
        if target == Grant.State.EXPIRED:
            grant_workflow.apply(grant, "expire", acting_user=None)
            continue
        grant.state = target
        audited_save(grant, acting_user=acting_user, reason=reason or str(target))


def _activate(authorization, *, acting_user) -> None:
    _issue_grants(authorization, acting_user=acting_user)
    authorization_workflow.apply(authorization, "activate", acting_user=None)
    if acting_user is not None:
        return  # the decision's own notice says it is in force
    _tell(
        operator_people(authorization),
        _("Operation authorization in force: #%(pk)d") % {"pk": authorization.pk},
        _("Collect the API keys of its grants on the sharing pages."),
        _url(authorization),
    )


@observe_refusals("operation.authorization.decide", object_arg="authorization")
def authorization_decide(
    *, authorization, action: str, comment: str = "", acting_user
) -> OperationAuthorization:
    """The authorizing bureau's decision (approve, return, refuse), or the operator's
    resubmission or withdrawal. Approval requires every approval check to pass (e.g. every
    resource registered) and, for an individual authorization, every provider's consent; an
    approval whose start date has come puts the authorization in force at once."""
    comment = _text(comment, field="comment", label=_("Comment"), limit=2000, required=False)
    with transaction.atomic():
        authorization = _locked(authorization)
        authorization_workflow.check(
            authorization, action, acting_user=acting_user, comment=comment
        )
        if action == "approve":
            resources = list(
                Resource.objects.filter(pk__in=authorization.entries.values("resource_id"))
                .select_related("provider", "published_version")
                .order_by("code")
            )
            problems = approval_problems(resources)
            if problems:
                raise DomainError(
                    _("Resources: cannot approve yet: %(problems)s")
                    % {"problems": "; ".join(str(p) for p in problems[:10])},
                    field="resources",
                )
            missing = missing_consents(authorization)
            if missing:
                raise DomainError(
                    _("Consents: record the consent of %(names)s first.")
                    % {"names": ", ".join(p.name for p in missing[:5])},
                    field="comment",
                )
            if authorization.ends_on < workdays.today():
                raise DomainError(_("Ends on: the end date has passed."), field="comment")
            authorization.decided_at = timezone.now()
        if action in ("refuse", "return"):
            authorization.state_reason = comment
            authorization.decided_at = timezone.now()
        authorization.step_deadline = (
            workdays.deadline_after(settings.OPERATION_REVIEW_DAYS)
            if action == "resubmit"
            else None
        )
        authorization_workflow.apply(
            authorization, action, acting_user=acting_user, comment=comment
        )
        if action == "approve" and authorization.starts_on <= workdays.today():
            _activate(authorization, acting_user=acting_user)
        to = (
            bureau_people(authorization) if action == "resubmit" else operator_people(authorization)
        )
        _tell(
            to,
            _("Operation authorization #%(pk)d: %(state)s")
            % {"pk": authorization.pk, "state": authorization.get_state_display()},
            comment,
            _url(authorization),
        )
        disclosure_changed()
    return authorization


@observe_refusals("operation.authorization.end", object_arg="authorization")
def authorization_change(*, authorization, action: str, reason: str, acting_user):
    """The bureau suspends, resumes or revokes an authorization (with reasons); its grants
    follow."""
    from authorization.sharing.models import Grant

    if action not in ("suspend", "resume", "revoke"):
        raise DomainError(_("Unknown action."), field="action")
    reason = _text(reason, field="comment", label=_("Reasons"), limit=2000)
    target = {
        "suspend": Grant.State.SUSPENDED,
        "resume": Grant.State.ACTIVE,
        "revoke": Grant.State.REVOKED,
    }[action]
    with transaction.atomic():
        authorization = _locked(authorization)
        authorization_workflow.check(authorization, action, acting_user=acting_user, comment=reason)
        authorization.state_reason = reason
        if action == "revoke":
            authorization.ended_at = timezone.now()
        authorization_workflow.apply(authorization, action, acting_user=acting_user, comment=reason)
        _move_grants(authorization, target, reason=reason, acting_user=acting_user)
        _tell(
            operator_people(authorization),
            _("Operation authorization #%(pk)d: %(state)s")
            % {"pk": authorization.pk, "state": authorization.get_state_display()},
            reason,
            _url(authorization),
        )
        disclosure_changed()
    return authorization


def authorizations_activate(*, today: dt.date | None = None) -> int:
    """Put approved authorizations in force on their start date (beat, daily)."""
    today = today or workdays.today()
    count = 0
    for pk in OperationAuthorization.objects.filter(
        state=A.APPROVED, starts_on__lte=today, ends_on__gte=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            authorization = _locked(OperationAuthorization(pk=pk))
            if authorization.state != A.APPROVED:
                continue
            _activate(authorization, acting_user=None)
            disclosure_changed()
            count += 1
    return count


def authorizations_expire(*, today: dt.date | None = None) -> int:
    """Authorizations past their end date expire, with their grants (beat, daily)."""
    today = today or workdays.today()
    count = 0
    for pk in OperationAuthorization.objects.filter(
        state__in=[A.APPROVED, A.ACTIVE, A.SUSPENDED], ends_on__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            authorization = _locked(OperationAuthorization(pk=pk))
            if authorization.state not in (A.APPROVED, A.ACTIVE, A.SUSPENDED):
                continue
            authorization.ended_at = timezone.now()
            authorization_workflow.apply(authorization, "expire", acting_user=None)
            _move_grants(authorization, "expired", reason=gettext_noop("expired"), acting_user=None)
            _tell(
                operator_people(authorization) + bureau_people(authorization),
                _("Operation authorization #%(pk)d has expired") % {"pk": authorization.pk},
                _("Its time limit ended on %(day)s.") % {"day": authorization.ends_on.isoformat()},
                _url(authorization),
            )
            disclosure_changed()
            count += 1
    return count


def authorizations_remind(*, today: dt.date | None = None) -> int:
    """Tell the operator and the bureau, once, that an authorization ends within
    OPERATION_EXPIRY_REMINDER_DAYS (beat, daily)."""
    today = today or workdays.today()
    soon = today + dt.timedelta(days=settings.OPERATION_EXPIRY_REMINDER_DAYS)
    now = timezone.now()
    count = 0
    for authorization in OperationAuthorization.objects.filter(
        state__in=[A.ACTIVE, A.SUSPENDED, A.APPROVED],
        ends_on__gte=today,
        ends_on__lte=soon,
        reminded_at=None,
    ).select_related("operator"):
        with transaction.atomic():
            if not OperationAuthorization.objects.filter(
                pk=authorization.pk, reminded_at=None
            ).update(reminded_at=now):
                continue
            count += 1
            _tell(
                operator_people(authorization) + bureau_people(authorization),
                _("Operation authorization #%(pk)d ends soon") % {"pk": authorization.pk},
                _("Its time limit ends on %(day)s; apply again in time if it should go on.")
                % {"day": authorization.ends_on.isoformat()},
                _url(authorization),
            )
    return count


# --- fee caps and products --------------------------------------------------------------------


def _money(value, *, field: str, label) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(
            _("%(field)s: give an amount in yuan.") % {"field": label}, field=field
        ) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise DomainError(
            _("%(field)s: give an amount from 0 to 9,999,999,999 yuan.") % {"field": label},
            field=field,
        )
    if amount != amount.quantize(Decimal("0.0001")):
        raise DomainError(
            _("%(field)s: at most four decimal places.") % {"field": label}, field=field
        )
    return amount


@observe_refusals("operation.feecap.set")
def fee_cap_set(*, basis: str, amount, rule: str, acting_user) -> FeeCap:
    """The city bureau sets the cap of one fee basis and its pricing rule (Art. 20)."""
    if not is_city_reviewer(acting_user):
        raise AccessDenied(_("Only the city data bureau sets the fee caps."))
    if basis not in FeeBasis.values:
        raise DomainError(_("Fee basis: choose one of the listed bases."), field="basis")
    amount = _money(amount, field="amount", label=_("Fee cap"))
    rule = _text(rule, field="rule", label=_("Pricing rule"), limit=2000, required=False)
    with transaction.atomic():
        cap = FeeCap.objects.select_for_update().filter(basis=basis).first() or FeeCap(basis=basis)
        cap.amount, cap.rule = amount, rule
        audited_save(cap, acting_user=acting_user, reason=gettext_noop("fee cap set"))
        disclosure_changed()
    return cap


def _operator_resources(operator) -> set[int]:
    return set(
        AuthorizedResource.objects.filter(
            authorization__operator=operator,
            authorization__state__in=[A.APPROVED, A.ACTIVE, A.SUSPENDED],
        ).values_list("resource_id", flat=True)
    )


@observe_refusals("operation.product.save")
def product_save(
    *,
    acting_user,
    name: str,
    description: str,
    price,
    unit: str,
    fee_basis: str,
    resources=(),
    product: Product | None = None,
) -> Product:
    """Create or edit one of the operator's products; its price may not exceed the fee cap of
    its fee basis, and it may use only resources the operator is authorized for."""
    operator = acting_user.organization if is_operator(acting_user) else None
    if operator is None or not may_manage_products(acting_user, operator):
        raise AccessDenied(_("Only the operator lists its products."))
    if product is not None and product.operator_id != operator.pk:
        raise AccessDenied(_("Only the operator lists its products."))
    fields = {
        "name": _text(name, field="name", label=_("Name"), limit=200),
        "description": _text(description, field="description", label=_("Description"), limit=4000),
        "unit": _text(unit, field="unit", label=_("Unit"), limit=50),
    }
    if fee_basis not in FeeBasis.values:
        raise DomainError(_("Fee basis: choose one of the listed bases."), field="fee_basis")
    amount = _money(price, field="price", label=_("Price"))
    cap = FeeCap.objects.filter(basis=fee_basis).first()
    if cap is None:
        raise DomainError(
            _("Fee basis: the bureau has set no fee cap for it yet."), field="fee_basis"
        )
    if amount > cap.amount:
        raise DomainError(
            _("Price: %(price)s yuan is above the fee cap of %(cap)s yuan (%(basis)s).")
            % {
                "price": amount.normalize(),
                "cap": cap.amount.normalize(),
                "basis": cap.get_basis_display(),
            },
            field="price",
        )
    ids = {int(getattr(r, "pk", r)) for r in resources or ()}
    if not ids:
        raise DomainError(_("Resources used: choose at least one."), field="resources")
    if ids - _operator_resources(operator):
        raise DomainError(
            _("Resources used: only resources you are authorized to operate."),
            field="resources",
        )
    with transaction.atomic():
        product = product or Product(operator=operator)
        for key, value in fields.items():
            setattr(product, key, value)
        product.price, product.fee_basis = amount, fee_basis
        audited_save(product, acting_user=acting_user, reason=gettext_noop("product saved"))
        product.resources.set(sorted(ids))
        disclosure_changed()
    return product


def product_withdraw(*, product: Product, acting_user) -> Product:
    if not may_manage_products(acting_user, product.operator):
        raise AccessDenied(_("Only the operator lists its products."))
    with transaction.atomic():
        product.state = Product.State.WITHDRAWN
        audited_save(product, acting_user=acting_user, reason=gettext_noop("withdrawn"))
        disclosure_changed()
    return product


# --- yearly disclosure ------------------------------------------------------------------------


def disclosure_due(year: int) -> dt.date:
    """The day the report on `year` is due (by default 31 March of the next year)."""
    return dt.date(
        year + 1, settings.OPERATION_DISCLOSURE_DUE_MONTH, settings.OPERATION_DISCLOSURE_DUE_DAY
    )


def _disclosure_for(operator, year: int) -> YearlyDisclosure:
    found, _created = YearlyDisclosure.objects.get_or_create(
        operator=operator, year=year, defaults={"due_on": disclosure_due(year)}
    )
    return found


@observe_refusals("operation.disclosure.draft")
def disclosure_draft(*, year: int, body: str, acting_user) -> YearlyDisclosure:
    """The operator writes (or rewrites) its report on `year` while it is not submitted."""
    if not is_operator(acting_user):
        raise AccessDenied(_("Only the operator drafts its yearly disclosure."))
    today = workdays.today()
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise DomainError(_("Year: give a year."), field="year") from None
    if not 2000 <= year < today.year:
        raise DomainError(_("Year: report on a past year."), field="year")
    body = _text(body, field="body", label=_("Report"), limit=20000)
    with transaction.atomic():
        disclosure = _disclosure_for(acting_user.organization, year)
        disclosure = YearlyDisclosure.objects.select_for_update().get(pk=disclosure.pk)
        if disclosure.state not in (YearlyDisclosure.State.DRAFT, YearlyDisclosure.State.RETURNED):
            raise DomainError(
                _("Report: it can be changed only as a draft or when returned."), field="body"
            )
        disclosure.body = body
        audited_save(disclosure, acting_user=acting_user, reason=gettext_noop("drafted"))
    return disclosure


@observe_refusals("operation.disclosure.move", object_arg="disclosure")
def disclosure_move(*, disclosure, action: str, comment: str = "", acting_user):
    """Submit (operator), publish or return (the bureau that authorized the operator)."""
    comment = _text(comment, field="comment", label=_("Comment"), limit=2000, required=False)
    with transaction.atomic():
        disclosure = YearlyDisclosure.objects.select_for_update().get(pk=disclosure.pk)
        disclosure_workflow.check(disclosure, action, acting_user=acting_user, comment=comment)
        if action == "submit":
            if not disclosure.body.strip():
                raise DomainError(_("Report: write the report first."), field="body")
            disclosure.submitted_at = timezone.now()
        if action == "publish":
            disclosure.published_at = timezone.now()
            disclosure.published_by = acting_user
        if action == "return":
            disclosure.reviewer_comment = comment
        disclosure_workflow.apply(disclosure, action, acting_user=acting_user, comment=comment)
        if action == "submit":
            bureaus = OperationAuthorization.objects.filter(
                operator_id=disclosure.operator_id, state__in=OperationAuthorization.DISCLOSED
            ).values("authorizing_body_id")
            to = list(
                User.objects.filter(
                    organization_id__in=bureaus,
                    groups__name__in=[Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER],
                    is_active=True,
                ).distinct()
            )
        else:
            to = _users(disclosure.operator_id, Role.OPERATOR)
        _tell(
            to,
            _("Yearly disclosure %(year)d: %(state)s")
            % {"year": disclosure.year, "state": disclosure.get_state_display()},
            comment,
            f"/operation/disclosures/{disclosure.pk}/",
        )
        if action == "publish":
            disclosure_changed()
    return disclosure


def disclosures_remind(*, today: dt.date | None = None) -> dict[str, int]:
    """For every operator that held an authorization last year: from
    OPERATION_DISCLOSURE_REMINDER_DAYS before the due day, remind it once; after the due day,
    flag the report overdue once and tell the bureaus (beat, daily)."""
    today = today or workdays.today()
    year = today.year - 1
    due = disclosure_due(year)
    if today < due - dt.timedelta(days=settings.OPERATION_DISCLOSURE_REMINDER_DAYS):
        return {"reminded": 0, "overdue": 0}
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    operators = (
        OperationAuthorization.objects.filter(
            state__in=OperationAuthorization.DISCLOSED, starts_on__lte=end, ends_on__gte=start
        )
        .values_list("operator_id", flat=True)
        .distinct()
    )
    now = timezone.now()
    reminded = overdue = 0
    for operator in Organization.objects.filter(pk__in=operators).order_by("pk"):
        with transaction.atomic():
            disclosure = _disclosure_for(operator, year)
            if disclosure.state == YearlyDisclosure.State.PUBLISHED:
                continue
            url = f"/operation/disclosures/{disclosure.pk}/"
            if today > due:
                if YearlyDisclosure.objects.filter(
                    pk=disclosure.pk, overdue_flagged_at=None
                ).update(overdue_flagged_at=now):
                    overdue += 1
                    disclosure_changed()
                    bureaus = OperationAuthorization.objects.filter(
                        operator=operator, state__in=OperationAuthorization.DISCLOSED
                    ).values("authorizing_body_id")
                    _tell(
                        _users(operator.pk, Role.OPERATOR)
                        + list(
                            User.objects.filter(
                                organization_id__in=bureaus,
                                groups__name__in=[Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER],
                                is_active=True,
                            ).distinct()
                        ),
                        _("Yearly disclosure %(year)d is overdue: %(org)s")
                        % {"year": year, "org": operator.name},
                        _("It was due on %(day)s.") % {"day": due.isoformat()},
                        url,
                    )
            elif YearlyDisclosure.objects.filter(pk=disclosure.pk, reminded_at=None).update(
                reminded_at=now
            ):
                reminded += 1
                _tell(
                    _users(operator.pk, Role.OPERATOR),
                    _("Yearly disclosure %(year)d is due on %(day)s")
                    % {"year": year, "day": due.isoformat()},
                    _("Draft it in the operator workspace and submit it to the bureau."),
                    url,
                )
    return {"reminded": reminded, "overdue": overdue}


def operation_daily(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily job (beat "operation.daily")."""
    result = {
        "expired": authorizations_expire(today=today),
        "activated": authorizations_activate(today=today),
        "reminded": authorizations_remind(today=today),
    }
    result.update({f"disclosures_{k}": v for k, v in disclosures_remind(today=today).items()})
    return result
