"""Reads of registration.evidence."""

from __future__ import annotations

import re
import uuid

from django.db.models import Q

from catalog.permissions import FILER_ROLES
from wuhan_pdr.accounts.roles import Role, has_role

from .models import Deposit

DIGEST = re.compile(r"^[0-9a-f]{64}$")


def normalize_digest(text: str | None) -> str | None:
    """A SHA-256 digest in lower-case hex, or None (spaces and a `sha256:` prefix allowed)."""
    value = (text or "").strip().lower()[:100]
    if value.startswith("sha256:"):
        value = value[7:].strip()
    value = value.split()[0] if value.split() else ""
    return value if DIGEST.match(value) else None


def parse_public_id(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID((text or "").strip()[:40])
    except (ValueError, AttributeError):
        return None


def _public():
    return Deposit.objects.filter(state=Deposit.State.DONE).select_related(
        "holder", "resource__published_version"
    )


def deposits_for_digest(digest: str, *, limit: int = 20):
    """Finished deposits whose data or metadata has this digest (the primary lookup)."""
    return list(
        _public()
        .filter(Q(data_sha256=digest) | Q(metadata_sha256=digest))
        .order_by("deposited_at", "pk")[:limit]
    )


def public_deposit(public_id) -> Deposit | None:
    public_id = parse_public_id(str(public_id)) if public_id is not None else None
    if public_id is None:
        return None
    return _public().filter(public_id=public_id).first()


_CODE_CHARS = re.compile(r"[A-Z0-9-]+")


def deposit_for_code(code: str) -> Deposit | None:
    """The deposit a registration code currently rests on (a change replaces it), found through
    the registration's foreign key, so this package does not import the procedure's."""
    code = (code or "").strip().upper()
    # A code is letters, digits and dashes (REGISTRATION_CODE_FORMAT); anything else, a NUL
    # byte included, names no registration and never reaches the database.
    if not code or len(code) > 40 or not _CODE_CHARS.fullmatch(code):
        return None
    return _public().filter(registrations__code=code).order_by("-created_at", "-id").first()


def public_registrations_for(deposits) -> dict[int, list]:
    """Deposit id -> the registrations resting on it (their current deposit) that anyone may
    see: those of the public register (in notice, registered, cancelled), by code. One query,
    through the registration's foreign key (this package does not import the procedure's)."""
    ids = {d.pk for d in deposits if d is not None}
    if not ids:
        return {}
    registration = Deposit._meta.get_field("registrations").related_model
    found: dict[int, list] = {pk: [] for pk in ids}
    rows = (
        registration.objects.filter(deposit_id__in=ids, state__in=registration.PUBLIC_STATES)
        .only("public_id", "code", "state", "name", "deposit_id")
        .order_by("code", "pk")
    )
    for row in rows:
        found[row.deposit_id].append(row)
    return found


def deposits_visible_q(user) -> Q:
    """The holder's staff (filers, operators), the registration body, auditors."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if has_role(user, Role.AUDITOR, Role.REGISTRAR):
        return Q()
    if user.organization_id and has_role(user, *FILER_ROLES, Role.OPERATOR):
        return Q(holder_id=user.organization_id)
    return Q(pk__in=[])


def deposits_visible_to(user, *, query: str = "", state: str = "", kind: str = ""):
    qs = Deposit.objects.filter(deposits_visible_q(user)).select_related(
        "holder", "resource__published_version"
    )
    if state in Deposit.State.values:
        qs = qs.filter(state=state)
    if kind in Deposit.Kind.values:
        qs = qs.filter(kind=kind)
    query = (query or "").strip()[:100]
    if query:
        digest = normalize_digest(query)
        if digest:
            qs = qs.filter(Q(data_sha256=digest) | Q(metadata_sha256=digest))
        else:
            qs = qs.filter(
                Q(title__icontains=query)
                | Q(resource__code__icontains=query)
                | Q(resource__published_version__name__icontains=query)
            )
    return qs.order_by("-created_at", "-pk")


def resources_for_deposit(user):
    """Resources the user may deposit: those its agency provides, with loaded data."""
    from catalog.models import Resource

    if not (user.organization_id and has_role(user, *FILER_ROLES)):
        return Resource.objects.none()
    return (
        Resource.objects.filter(
            provider_id=user.organization_id,
            datastore__last_loaded_at__isnull=False,
            published_version__isnull=False,
        )
        .select_related("published_version")
        .order_by("code")
    )


def source_choices(user):
    return _public().order_by("-deposited_at")[:200]
