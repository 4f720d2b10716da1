"""Writes of authorization.sharing: grants (the interface other parts code against), share
requests and their decisions, the periodic checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext

from catalog.models import DataItem, Resource, ShareType
from security.models import Grade
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel import workdays
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify

from . import permissions, signals
from .models import Delivery, Grant, GrantItem, GrantUsage, ShareRequest, ShareRequestItem
from .workflows import grant_workflow, request_workflow

ASSESSMENT_KIND = "share_grant"
KEY_PREFIX_LENGTH = 12
_KEY_RE = re.compile(r"^pdr_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")


class GrantRefused(DomainError):
    """A key that may not be used now. `code` is stable (API clients switch on it), `status`
    the HTTP status the API answers with."""

    def __init__(self, code: str, message, status: int):
        super().__init__(message, code=code)
        self.status = status


# The refusals of grant_authenticate: code -> (status, message).
REFUSALS = {
    "key_invalid": (401, gettext_lazy("The API key is not valid.")),
    "grant_expired": (401, gettext_lazy("The grant of this key is not valid at this time.")),
    "grant_revoked": (403, gettext_lazy("The grant of this key has been revoked.")),
    "grant_suspended": (403, gettext_lazy("The grant of this key is suspended.")),
    "ip_not_allowed": (403, gettext_lazy("This client address may not use this key.")),
    "assessment_required": (
        403,
        gettext_lazy("This grant needs a passed security assessment before it may be used."),
    ),
}


def _refuse(code: str) -> GrantRefused:
    status, message = REFUSALS[code]
    return GrantRefused(code, message, status)


def key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    """A fresh (prefix, raw key); the prefix is unique among grants."""
    while True:
        prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
        if not Grant.objects.filter(key_prefix=prefix).exists():
            return prefix, f"pdr_{prefix}_{secrets.token_urlsafe(32)}"


def effective_grade(item: DataItem) -> Grade:
    """An item's own grade, or its version's."""
    return item.grade or item.version.grade


def default_delivery(item: DataItem) -> str:
    """The delivery form an item gets unless the provider chooses another: in clear when its
    grade does not require masking outside its zone; otherwise masked, except a key, which
    goes as a keyed HMAC (still joinable), and the update flag, which stays in clear (a
    timestamp; incremental reads by `changed_since` need it)."""
    if item.is_update_flag or not effective_grade(item).masking_required:
        return Delivery.CLEAR
    return Delivery.HMAC if item.is_key else Delivery.MASKED


def needs_assessment_for(items: Iterable[DataItem]) -> bool:
    """Grants to resources of the grades kept in a storage zone (the higher grades) need a
    passed security assessment before their first call (Art. 27): the resource's grade
    decides, so a grant of only its lower-graded items needs one too (their rows are still
    read from the zone); an item is never graded above its resource."""
    return any(
        grade.storage_zone != Grade.Zone.GENERAL
        for item in items
        for grade in (item.version.grade, effective_grade(item))
    )


def _clean_ips(allowed_ips: Iterable[str]) -> list[str]:
    cleaned = []
    for text in allowed_ips:
        text = str(text).strip()
        if not text:
            continue
        try:
            cleaned.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            raise DomainError(
                _("“%(value)s” is not an IP address or network.") % {"value": text[:60]},
                field="allowed_ips",
            ) from None
    return cleaned


def _grant_items(resource: Resource, items: dict[int, str]) -> list[tuple[DataItem, str]]:
    version = resource.published_version
    if version is None:
        raise DomainError(_("The resource has no published catalog version."), field="resource")
    if not items:
        raise DomainError(_("Choose at least one data item."), field="items")
    found = {
        item.pk: item
        for item in DataItem.objects.select_related("grade", "version__grade").filter(
            version=version, pk__in=list(items)
        )
    }
    chosen = []
    for item_id, delivery in items.items():
        item = found.get(item_id)
        if item is None:
            raise DomainError(
                _("Item %(id)s is not an item of the resource's published version.")
                % {"id": item_id},
                field="items",
            )
        if delivery not in Delivery.values:
            raise DomainError(
                _("“%(value)s” is not a delivery form.") % {"value": str(delivery)[:30]},
                field="items",
            )
        if not item.english_name:
            raise DomainError(
                _("Item “%(name)s” has no column name and cannot be supplied.")
                % {"name": item.name},
                field="items",
            )
        chosen.append((item, delivery))
    return chosen


def grant_issue(
    *,
    resource: Resource,
    grantee,
    items: dict[int, str],
    origin: str,
    valid_until: dt.datetime,
    rate_per_minute: int = 60,
    allowed_ips: Iterable[str] = (),
    declared_daily_rows: int | None = None,
    request=None,
    acting_user,
    valid_from: dt.datetime | None = None,
) -> tuple[Grant, str]:
    """Issue a grant to `grantee` for `items` (DataItem id -> delivery form) of `resource`'s
    published version, and return it with its raw API key, which is stored only as a digest
    and must be shown to the grantee once. The caller has decided that the grant is due
    (a share request granted, an application approved) and checked `acting_user`'s right."""
    if origin not in Grant.Origin.values:
        raise DomainError(_("Unknown grant origin."), field="origin")
    now = timezone.now()
    valid_from = valid_from or now
    if valid_until <= max(now, valid_from):
        raise DomainError(_("The end of validity must lie in the future."), field="valid_until")
    if not 1 <= int(rate_per_minute) <= 100_000:
        raise DomainError(
            _("The rate must be between 1 and 100,000 calls per minute."), field="rate_per_minute"
        )
    if declared_daily_rows is not None and declared_daily_rows < 0:
        raise DomainError(_("The declared volume cannot be negative."), field="declared_daily_rows")
    with transaction.atomic():
        chosen = _grant_items(resource, items)
        prefix, raw_key = _new_key()
        grant = Grant(
            resource=resource,
            grantee=grantee,
            origin=origin,
            request=request,
            key_prefix=prefix,
            key_hash=key_digest(raw_key),
            key_issued_at=now,
            # The grantee acting sees the key now; otherwise it collects a fresh one later.
            key_collected_at=now
            if getattr(acting_user, "organization_id", None) == grantee.pk
            else None,
            rate_per_minute=int(rate_per_minute),
            valid_from=valid_from,
            valid_until=valid_until,
            allowed_ips=_clean_ips(allowed_ips),
            declared_daily_rows=declared_daily_rows,
            needs_assessment=needs_assessment_for(item for item, _d in chosen),
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        audited_save(grant, acting_user=acting_user, reason=gettext_noop("issued"))
        GrantItem.objects.bulk_create(
            GrantItem(grant=grant, item=item, column=item.english_name, delivery=delivery)
            for item, delivery in chosen
        )
    return grant, raw_key


def _ip_allowed(grant: Grant, client_ip: str) -> bool:
    if not grant.allowed_ips:
        return True
    try:
        address = ipaddress.ip_address((client_ip or "").strip())
    except ValueError:
        return False
    for cidr in grant.allowed_ips:
        try:
            if address in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False


def grant_authenticate(raw_key: str, *, client_ip: str) -> Grant:
    """The grant a raw API key belongs to, if it may be used now from `client_ip`; otherwise
    `GrantRefused` with a stable code. The grant comes with its resource and its items."""
    match = _KEY_RE.match((raw_key or "").strip())
    if match is None:
        raise _refuse("key_invalid")
    grant = (
        Grant.objects.select_related("resource", "grantee")
        .prefetch_related("items")
        .filter(key_prefix=match.group(1))
        .first()
    )
    if grant is None or not hmac.compare_digest(grant.key_hash, key_digest(match.group(0))):
        raise _refuse("key_invalid")
    if grant.state == Grant.State.REVOKED:
        raise _refuse("grant_revoked")
    if grant.state == Grant.State.SUSPENDED:
        raise _refuse("grant_suspended")
    now = timezone.now()
    if grant.state == Grant.State.EXPIRED or not (grant.valid_from <= now < grant.valid_until):
        raise _refuse("grant_expired")
    if not _ip_allowed(grant, client_ip):
        raise _refuse("ip_not_allowed")
    if grant.needs_assessment:
        from security.assessments import has_valid_pass

        if not has_valid_pass(ASSESSMENT_KIND, grant.pk):
            raise _refuse("assessment_required")
    return grant


def usage_record(grant: Grant, *, rows: int, calls: int = 1, day: dt.date | None = None) -> None:
    """Count `calls` and `rows` for `grant` today (Asia/Shanghai; or on `day`), in one upsert."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO authorization_grantusage AS u (grant_id, day, calls, rows)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (grant_id, day) DO UPDATE
               SET calls = u.calls + EXCLUDED.calls, rows = u.rows + EXCLUDED.rows
            """,
            [grant.pk, day or timezone.localdate(), int(calls), int(rows)],
        )


def grant_key_install(*, grant: Grant, raw_key: str, acting_user) -> Grant:
    """Give a demo grant a fixed key (settings.DEMO_SUPPLY_KEY, so the README can show a
    working curl line). Refused where demo data is not allowed (production)."""
    if not settings.DEMO_SEED_ALLOWED:
        raise DomainError(_("Fixed keys are for the demo only."))
    match = _KEY_RE.match(raw_key or "")
    if match is None:
        raise DomainError(_("The API key is not valid."), field="raw_key")
    with transaction.atomic():
        grant = Grant.objects.select_for_update().get(pk=grant.pk)
        if Grant.objects.filter(key_prefix=match.group(1)).exclude(pk=grant.pk).exists():
            raise DomainError(_("Another grant already uses this key."), field="raw_key")
        grant.key_prefix, grant.key_hash = match.group(1), key_digest(raw_key)
        grant.key_issued_at = grant.key_collected_at = timezone.now()
        audited_save(grant, acting_user=acting_user, reason=gettext_noop("demo key installed"))
    return grant


# --- people to tell -----------------------------------------------------------------------


def _users(**filters):
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(is_active=True, **filters).distinct())


def data_officers(org_id) -> list:
    return _users(organization_id=org_id, groups__name=Role.AGENCY_ADMIN)


def agency_members(org_id) -> list:
    return _users(organization_id=org_id, groups__name__in=[Role.AGENCY_ADMIN, Role.AGENCY_STAFF])


def city_reviewers() -> list:
    return _users(organization__kind=Organization.Kind.CITY_BUREAU, groups__name=Role.CITY_REVIEWER)


def security_admins() -> list:
    return _users(groups__name=Role.SECURITY_ADMIN)


def _tell(recipients, title, body, url) -> None:
    transaction.on_commit(
        lambda: notify(recipients=recipients, title=str(title), body=str(body), url=url)
    )


# --- share requests -----------------------------------------------------------------------

_TEXT_LIMITS = {
    "scenario": 2000,
    "law_name": 200,
    "law_article": 100,
    "duty": 1000,
    "purpose": 2000,
}
MAX_PERIOD_DAYS = 5 * 366
MAX_DAILY_ROWS = 1_000_000_000


def _text(fields: dict, name: str, *, required: bool, label) -> str:
    value = str(fields.get(name) or "").strip()
    if "\x00" in value:
        raise DomainError(
            _("“%(field)s” contains a character that cannot be stored.") % {"field": label},
            field=name,
        )
    if required and not value:
        raise DomainError(_("Please fill in “%(field)s”.") % {"field": label}, field=name)
    if len(value) > _TEXT_LIMITS[name]:
        raise DomainError(
            _("“%(field)s” is longer than %(n)d characters.")
            % {"field": label, "n": _TEXT_LIMITS[name]},
            field=name,
        )
    return value


def _request_fields(fields: dict) -> dict:
    F = ShareRequest._meta.get_field
    basis = fields.get("basis_kind")
    if basis not in ShareRequest.Basis.values:
        raise DomainError(_("Choose the legal basis of the request."), field="basis_kind")
    cleaned = {
        "basis_kind": basis,
        "scenario": _text(fields, "scenario", required=True, label=F("scenario").verbose_name),
        "purpose": _text(fields, "purpose", required=True, label=F("purpose").verbose_name),
        "law_name": _text(
            fields, "law_name", required=basis == "law", label=F("law_name").verbose_name
        ),
        "law_article": _text(
            fields, "law_article", required=basis == "law", label=F("law_article").verbose_name
        ),
        "duty": _text(fields, "duty", required=basis == "duty", label=F("duty").verbose_name),
    }
    if basis == "law":
        cleaned["duty"] = ""
    else:
        cleaned["law_name"] = cleaned["law_article"] = ""
    start, end = fields.get("period_start"), fields.get("period_end")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise DomainError(_("Give the period the data is needed for."), field="period_start")
    if end < start:
        raise DomainError(_("The period ends before it starts."), field="period_end")
    if end < workdays.today():
        raise DomainError(_("The period has already ended."), field="period_end")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise DomainError(_("The period may be at most five years."), field="period_end")
    rows = fields.get("expected_daily_rows")
    if not isinstance(rows, int) or not 1 <= rows <= MAX_DAILY_ROWS:
        raise DomainError(
            _("The expected volume must be between 1 and 1,000,000,000 rows a day."),
            field="expected_daily_rows",
        )
    cleaned.update(period_start=start, period_end=end, expected_daily_rows=rows)
    return cleaned


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=workdays.SHANGHAI)


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=workdays.SHANGHAI)


def _request_url(request: ShareRequest) -> str:
    return reverse("sharing:request", kwargs={"pk": request.pk})


def _issue_for_request(
    request: ShareRequest,
    deliveries: dict[int, str],
    *,
    acting_user,
    valid_until: dt.datetime | None = None,
    rate_per_minute: int | None = None,
    allowed_ips: Iterable[str] = (),
) -> Grant:
    now = timezone.now()
    start = _start_of_day(request.period_start)
    grant, _raw = grant_issue(
        resource=request.resource,
        grantee=request.requester,
        items=deliveries,
        origin=Grant.Origin.SHARE_REQUEST,
        valid_from=start if start > now else now,
        valid_until=valid_until or _end_of_day(request.period_end),
        rate_per_minute=rate_per_minute or settings.SHARING_DEFAULT_RATE_PER_MINUTE,
        allowed_ips=allowed_ips,
        declared_daily_rows=request.expected_daily_rows,
        request=request,
        acting_user=acting_user,
    )
    # The raw key is dropped: the grantee collects a fresh one on the grant's page, shown to
    # it alone and once (the same way whoever decided).
    Grant.objects.filter(pk=grant.pk).update(key_collected_at=None)
    grant.key_collected_at = None
    for row in request.items.all():
        row.granted = row.item_id in deliveries
        row.delivery = deliveries.get(row.item_id, "")
        row.save(update_fields=["granted", "delivery"])
    return grant


@observe_refusals("sharing.request.create")
def share_request_create(
    *, resource: Resource, item_ids: Iterable[int], fields: dict, acting_user
) -> ShareRequest:
    """A requesting agency asks for `item_ids` of `resource`. By the resource's share type:
    unconditional -> granted at once; not shared -> refused at once with the catalog's stated
    basis; conditional -> waits for the provider's data officer, who has
    SHARING_DAYS_PROVIDER_REPLY working days to decide."""
    if not permissions.may_request(acting_user):
        raise AccessDenied(_("Only staff of a government agency may request shared data."))
    cleaned = _request_fields(fields)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        version = resource.published_version
        if version is None or resource.retired_at is not None:
            raise DomainError(_("This resource is not in the published catalog."), field="resource")
        if resource.provider_id == acting_user.organization_id:
            raise DomainError(
                _("Your agency provides this resource; it needs no share request."),
                field="resource",
            )
        wanted = sorted({int(i) for i in item_ids})
        if not wanted:
            raise DomainError(_("Choose at least one data item."), field="items")
        items = list(version.items.filter(pk__in=wanted).select_related("grade", "version__grade"))
        if len(items) != len(wanted):
            raise DomainError(_("Some chosen items are not items of this resource."), field="items")
        request = ShareRequest(
            resource=resource,
            version=version,
            provider_id=resource.provider_id,
            requester_id=acting_user.organization_id,
            requested_by=acting_user,
            share_type=version.share_type,
            **cleaned,
        )
        if version.share_type == ShareType.CONDITIONAL:
            request.reply_due = workdays.deadline_after(settings.SHARING_DAYS_PROVIDER_REPLY)
        audited_save(request, acting_user=acting_user, reason=gettext_noop("requested"))
        ShareRequestItem.objects.bulk_create(
            ShareRequestItem(request=request, item=item) for item in items
        )
        url = _request_url(request)
        if version.share_type == ShareType.UNCONDITIONAL:
            _issue_for_request(
                request,
                {item.pk: default_delivery(item) for item in items},
                acting_user=acting_user,
            )
            request.decided_at = timezone.now()
            request_workflow.apply(request, "grant_at_once", acting_user=acting_user)
            _tell(
                data_officers(resource.provider_id),
                _("Unconditionally shared data granted: %(code)s") % {"code": resource.code},
                _("%(org)s was granted %(name)s at once.")
                % {"org": request.requester.name, "name": version.name},
                url,
            )
        elif version.share_type == ShareType.NONE:
            basis = version.share_legal_basis.strip() or _("The catalog states no basis.")
            request.refusal_reasons = basis
            request.decided_at = timezone.now()
            request.items.update(granted=False)
            request_workflow.apply(
                request, "refuse_at_once", acting_user=acting_user, comment=basis
            )
        else:
            _tell(
                data_officers(resource.provider_id),
                _("Share request to decide: %(code)s") % {"code": resource.code},
                _("%(org)s asks for %(name)s; please decide by %(due)s.")
                % {
                    "org": request.requester.name,
                    "name": version.name,
                    "due": request.reply_due.astimezone(workdays.SHANGHAI).date().isoformat(),
                },
                url,
            )
    return request


def _locked_request(request: ShareRequest) -> ShareRequest:
    return (
        ShareRequest.objects.select_for_update(of=("self",))
        .select_related("resource", "version", "requester", "provider")
        .get(pk=request.pk)
    )


@observe_refusals("sharing.request.decide", object_arg="request")
def share_request_approve(
    *,
    request: ShareRequest,
    deliveries: dict[int, str | None],
    reasons: str = "",
    valid_until: dt.date | None = None,
    rate_per_minute: int | None = None,
    allowed_ips: Iterable[str] = (),
    acting_user,
) -> Grant:
    """The provider's data officer grants the requested items given a delivery form in
    `deliveries` (item id -> "clear" / "hmac" / "masked", or None: not granted); items left out
    need `reasons`. Issues the grant; the requester collects its key."""
    reasons = _text({"duty": reasons}, "duty", required=False, label=_("Reasons"))
    with transaction.atomic():
        request = _locked_request(request)
        request_workflow.check(request, "approve", acting_user=acting_user)
        asked = set(request.items.values_list("item_id", flat=True))
        granted = {int(k): v for k, v in deliveries.items() if v and int(k) in asked}
        if not granted:
            raise DomainError(
                _("Grant at least one item, or refuse the request with reasons."), field="items"
            )
        if set(granted) != asked and not reasons:
            raise DomainError(
                _("Give the reasons why some requested items are not granted."), field="reasons"
            )
        until = None
        if valid_until is not None:
            if valid_until > request.period_end:
                raise DomainError(
                    _("The grant cannot outlast the period asked for."), field="valid_until"
                )
            until = _end_of_day(valid_until)
        grant = _issue_for_request(
            request,
            granted,
            acting_user=acting_user,
            valid_until=until,
            rate_per_minute=rate_per_minute,
            allowed_ips=allowed_ips,
        )
        request.decided_at = timezone.now()
        request.decided_by = acting_user
        request.refusal_reasons = reasons
        request_workflow.apply(request, "approve", acting_user=acting_user, comment=reasons)
        _tell(
            agency_members(request.requester_id),
            _("Share request granted: %(code)s") % {"code": request.resource.code},
            _("Collect the API key on the grant's page; it is shown once."),
            reverse("sharing:grant", kwargs={"pk": grant.pk}),
        )
    return grant


@observe_refusals("sharing.request.refuse", object_arg="request")
def share_request_refuse(*, request: ShareRequest, reasons: str, acting_user) -> ShareRequest:
    """The provider's data officer refuses a conditional request; reasons are required."""
    reasons = _text({"duty": reasons}, "duty", required=False, label=_("Reasons"))
    if not reasons:
        raise DomainError(_("A refusal must give its reasons."), field="reasons")
    with transaction.atomic():
        request = _locked_request(request)
        request.decided_at = timezone.now()
        request.decided_by = acting_user
        request.refusal_reasons = reasons
        request_workflow.apply(request, "refuse", acting_user=acting_user, comment=reasons)
        request.items.update(granted=False)
        _tell(
            agency_members(request.requester_id),
            _("Share request refused: %(code)s") % {"code": request.resource.code},
            reasons,
            _request_url(request),
        )
    return request


@observe_refusals("sharing.request.withdraw", object_arg="request")
def share_request_withdraw(*, request: ShareRequest, acting_user) -> ShareRequest:
    with transaction.atomic():
        request = _locked_request(request)
        request_workflow.apply(request, "withdraw", acting_user=acting_user)
    return request


@observe_refusals("sharing.request.coordination", object_arg="request")
def share_request_ask_coordination(
    *, request: ShareRequest, note: str, acting_user
) -> ShareRequest:
    """The requester asks the city bureau to coordinate a refused request (Art. 7); the
    supervision chapter takes it up as a dispute."""
    note = _text({"purpose": note}, "purpose", required=False, label=pgettext("sharing", "Why"))
    if not note:
        raise DomainError(_("Say why the bureau should coordinate."), field="note")
    with transaction.atomic():
        request = _locked_request(request)
        request.coordination_note = note
        request_workflow.apply(request, "ask_coordination", acting_user=acting_user, comment=note)
        signals.coordination_asked.send(
            sender=ShareRequest, request=request, note=note, acting_user=acting_user
        )
        _tell(
            city_reviewers(),
            _("Coordination asked on a refused share request: %(code)s")
            % {"code": request.resource.code},
            note,
            _request_url(request),
        )
    return request


def share_requests_flag_overdue(*, now: dt.datetime | None = None) -> int:
    """Flag, once, each pending request whose provider has not replied in time, and tell the
    provider's data officers and the requester (beat, daily)."""
    now = now or timezone.now()
    flagged = 0
    due = ShareRequest.objects.filter(
        state=ShareRequest.State.PENDING, reply_due__lt=now, overdue_flagged_at__isnull=True
    ).select_related("resource")
    for request in due:
        with transaction.atomic():
            updated = ShareRequest.objects.filter(
                pk=request.pk, overdue_flagged_at__isnull=True
            ).update(overdue_flagged_at=now)
            if not updated:
                continue
            flagged += 1
            _tell(
                data_officers(request.provider_id) + [request.requested_by],
                _("Share request overdue: %(code)s") % {"code": request.resource.code},
                _("The provider's reply was due by %(due)s.")
                % {"due": request.reply_due.astimezone(workdays.SHANGHAI).date().isoformat()},
                _request_url(request),
            )
    return flagged


# --- grants -------------------------------------------------------------------------------


def _grant_url(grant: Grant) -> str:
    return reverse("sharing:grant", kwargs={"pk": grant.pk})


def _locked_grant(grant: Grant) -> Grant:
    return (
        Grant.objects.select_for_update(of=("self",))
        .select_related("resource", "grantee")
        .get(pk=grant.pk)
    )


@observe_refusals("sharing.grant.key", object_arg="grant")
def grant_key_rotate(*, grant: Grant, acting_user) -> tuple[Grant, str]:
    """Issue a new key for `grant` to a member of the grantee (the first collection or a
    rotation): the old key stops working at once; the new one is returned to be shown once."""
    with transaction.atomic():
        grant = _locked_grant(grant)
        if not permissions.holds(grant, acting_user):
            raise AccessDenied(_("Only the grantee's staff may collect or rotate its key."))
        if grant.state in (Grant.State.REVOKED, Grant.State.EXPIRED):
            raise DomainError(_("A revoked or expired grant gets no new key."))
        first = grant.key_collected_at is None
        prefix, raw_key = _new_key()
        now = timezone.now()
        grant.key_prefix, grant.key_hash = prefix, key_digest(raw_key)
        grant.key_issued_at = grant.key_collected_at = now
        audited_save(
            grant,
            acting_user=acting_user,
            reason=gettext_noop("API key collected") if first else gettext_noop("API key rotated"),
        )
    return grant, raw_key


def _grant_move(grant: Grant, action: str, *, reason: str, acting_user, title, tell) -> Grant:
    reason = _text({"purpose": reason}, "purpose", required=False, label=_("Reasons"))
    with transaction.atomic():
        grant = _locked_grant(grant)
        grant_workflow.apply(grant, action, acting_user=acting_user, comment=reason)
        _tell(tell(grant), title % {"code": grant.resource.code}, reason, _grant_url(grant))
    return grant


def _both_sides(grant: Grant) -> list:
    return agency_members(grant.grantee_id) + data_officers(grant.resource.provider_id)


@observe_refusals("sharing.grant.suspend", object_arg="grant")
def grant_suspend(*, grant: Grant, reason: str, acting_user) -> Grant:
    return _grant_move(
        grant,
        "suspend",
        reason=reason,
        acting_user=acting_user,
        title=_("Grant suspended: %(code)s"),
        tell=_both_sides,
    )


@observe_refusals("sharing.grant.resume", object_arg="grant")
def grant_resume(*, grant: Grant, reason: str, acting_user) -> Grant:
    return _grant_move(
        grant,
        "resume",
        reason=reason,
        acting_user=acting_user,
        title=_("Grant resumed: %(code)s"),
        tell=_both_sides,
    )


@observe_refusals("sharing.grant.revoke", object_arg="grant")
def grant_revoke(*, grant: Grant, reason: str, acting_user) -> Grant:
    return _grant_move(
        grant,
        "revoke",
        reason=reason,
        acting_user=acting_user,
        title=_("Grant revoked: %(code)s"),
        tell=_both_sides,
    )


@observe_refusals("sharing.grant.renew", object_arg="grant")
def grant_renew(*, grant: Grant, valid_until: dt.date, acting_user) -> Grant:
    """The provider's data officer gives an active or expired grant a new end of validity."""
    with transaction.atomic():
        grant = _locked_grant(grant)
        grant_workflow.check(grant, "renew", acting_user=acting_user)
        until = _end_of_day(valid_until) if isinstance(valid_until, dt.date) else None
        if until is None or until <= max(timezone.now(), grant.valid_until):
            raise DomainError(
                _("The new end must lie after the current end of validity."), field="valid_until"
            )
        if (valid_until - workdays.today()).days > MAX_PERIOD_DAYS:
            raise DomainError(_("A grant may run at most five years."), field="valid_until")
        old = grant.valid_until
        grant.valid_until = until
        grant.reminded_at = None
        grant_workflow.apply(
            grant,
            "renew",
            acting_user=acting_user,
            comment=f"{old.astimezone(workdays.SHANGHAI).date()} → {valid_until}",
        )
        _tell(
            agency_members(grant.grantee_id),
            _("Grant renewed: %(code)s") % {"code": grant.resource.code},
            _("Valid until %(day)s.") % {"day": valid_until.isoformat()},
            _grant_url(grant),
        )
    return grant


@observe_refusals("sharing.grant.review", object_arg="grant")
def grant_review_record(*, grant: Grant, note: str, acting_user) -> Grant:
    """The periodic risk review of a grant (Art. 27): the reviewer looked at its use against
    the declared scenario and volume; a volume flag is cleared with it."""
    if not permissions.may_review_risk(acting_user) and not permissions.provides(
        grant, acting_user
    ):
        raise AccessDenied(_("You may not review this grant."))
    note = _text({"purpose": note}, "purpose", required=False, label=_("Note"))
    if not note:
        raise DomainError(_("Write down what the review found."), field="note")
    with transaction.atomic():
        grant = _locked_grant(grant)
        grant.reviewed_at = timezone.now()
        grant.flagged_at = None
        grant.flag_reason = ""
        audited_save(grant, acting_user=acting_user, reason=note)
    return grant


def grants_expire(*, now: dt.datetime | None = None) -> int:
    """Move grants past their end of validity to expired (beat, daily)."""
    now = now or timezone.now()
    count = 0
    for grant in Grant.objects.filter(
        state__in=[Grant.State.ACTIVE, Grant.State.SUSPENDED], valid_until__lte=now
    ):
        with transaction.atomic():
            grant = _locked_grant(grant)
            if grant.state in (Grant.State.ACTIVE, Grant.State.SUSPENDED):
                grant_workflow.apply(grant, "expire", acting_user=None)
                count += 1
    return count


def grants_remind(*, now: dt.datetime | None = None) -> int:
    """Tell the grantee, once, that a grant ends within SHARING_EXPIRY_REMINDER_DAYS."""
    now = now or timezone.now()
    soon = now + dt.timedelta(days=settings.SHARING_EXPIRY_REMINDER_DAYS)
    count = 0
    for grant in Grant.objects.filter(
        state=Grant.State.ACTIVE, valid_until__gt=now, valid_until__lte=soon, reminded_at=None
    ).select_related("resource"):
        with transaction.atomic():
            if not Grant.objects.filter(pk=grant.pk, reminded_at=None).update(reminded_at=now):
                continue
            count += 1
            _tell(
                agency_members(grant.grantee_id),
                _("Grant ends soon: %(code)s") % {"code": grant.resource.code},
                _("Valid until %(day)s; ask the provider to renew it if you still need it.")
                % {"day": grant.valid_until.astimezone(workdays.SHANGHAI).date().isoformat()},
                _grant_url(grant),
            )
    return count


def grants_volume_check(*, day: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Flag each active grant whose rows on `day` (default: yesterday) exceeded its declared
    daily volume by SHARING_VOLUME_FACTOR, and tell the security administrators and the
    provider's data officers, who may suspend it (Art. 27). Flags a grant once per day."""
    now = now or timezone.now()
    day = day or (workdays.today() - dt.timedelta(days=1))
    factor = float(settings.SHARING_VOLUME_FACTOR)
    over = (
        GrantUsage.objects.filter(
            day=day,
            grant__state=Grant.State.ACTIVE,
            grant__declared_daily_rows__isnull=False,
            rows__gt=F("grant__declared_daily_rows") * factor,
        )
        .filter(Q(grant__flagged_at__isnull=True) | Q(grant__flagged_at__lt=_start_of_day(day)))
        .select_related("grant__resource", "grant__grantee")
    )
    count = 0
    for usage in over:
        grant = usage.grant
        # Stored, so in the portal's language whoever runs the check (beat, a command).
        with translation.override(settings.LANGUAGE_CODE):
            reason = _(
                "%(rows)d rows on %(day)s, %(factor)s× over the declared %(declared)d a day"
            ) % {
                "rows": usage.rows,
                "day": day.isoformat(),
                "factor": f"{usage.rows / max(grant.declared_daily_rows, 1):.1f}",
                "declared": grant.declared_daily_rows,
            }
        with transaction.atomic():
            grant = _locked_grant(grant)
            grant.flagged_at = now
            grant.flag_reason = reason[:300]
            audited_save(grant, acting_user=None, reason=gettext_noop("volume flagged"))
            count += 1
            _tell(
                security_admins() + data_officers(grant.resource.provider_id),
                _("Unusual use of a grant: %(code)s · %(org)s")
                % {"code": grant.resource.code, "org": grant.grantee.name},
                reason,
                _grant_url(grant),
            )
    return count


def sharing_daily() -> dict[str, int]:
    """The daily job (beat "sharing.daily")."""
    return {
        "overdue_requests": share_requests_flag_overdue(),
        "expired_grants": grants_expire(),
        "reminded_grants": grants_remind(),
    }
