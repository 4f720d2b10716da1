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

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.models import DataItem, Resource
from security.models import Grade
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.history import audited_save

from .models import Delivery, Grant, GrantItem

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
    """The delivery form an item gets unless the provider chooses another: masked when its
    grade requires masking outside its zone, in clear otherwise."""
    return Delivery.MASKED if effective_grade(item).masking_required else Delivery.CLEAR


def needs_assessment_for(items: Iterable[DataItem]) -> bool:
    """Grants to items of the grades kept in a storage zone (the higher grades) need a passed
    security assessment before their first call (Art. 27)."""
    return any(effective_grade(item).storage_zone != Grade.Zone.GENERAL for item in items)


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
            rate_per_minute=int(rate_per_minute),
            valid_from=valid_from,
            valid_until=valid_until,
            allowed_ips=_clean_ips(allowed_ips),
            declared_daily_rows=declared_daily_rows,
            needs_assessment=needs_assessment_for(item for item, _d in chosen),
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        audited_save(grant, acting_user=acting_user, reason="issued")
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


def usage_record(grant: Grant, *, rows: int, calls: int = 1) -> None:
    """Count `calls` and `rows` for `grant` today (Asia/Shanghai), in one upsert."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO authorization_grantusage AS u (grant_id, day, calls, rows)
            VALUES (%s, %s, %s, %s)
            ON CONFLICT (grant_id, day) DO UPDATE
               SET calls = u.calls + EXCLUDED.calls, rows = u.rows + EXCLUDED.rows
            """,
            [grant.pk, timezone.localdate(), int(calls), int(rows)],
        )
