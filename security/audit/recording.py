"""Writing the audit log: `record()`, the one function, and the refusals observed.

An entry is built once: its canonical JSON (sorted keys, no spaces, UTF-8) is appended to the
kernel ledger's log "audit" and its SHA-256 kept on the searchable `AuditEvent` row. Both
inserts happen in the caller's transaction, so a successful action and its record commit or
roll back together.

A *refused* action rolls its transaction back, and a record written inside it would go with
it. So refusals are observed (`wuhan_pdr.kernel.errors.refusal_observed`, raised by the
`observe_refusals` decorator around services and `access_*` helpers, and by
`Workflow.apply`) and recorded only after the transaction has unwound: in a request by
`AuditMiddleware` once the view has returned (requests are not atomic), elsewhere at once by
the decorator, which sits outside the service's `transaction.atomic`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import hashlib
import json
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone

from wuhan_pdr.kernel import ledger
from wuhan_pdr.kernel.prepared import execute_prepared
from wuhan_pdr.kernel.throttling import client_ip

OUTCOMES = ("success", "refused", "failure")
LEDGER_LOG = "audit"

_request: contextvars.ContextVar = contextvars.ContextVar("audit_request", default=None)
_pending: contextvars.ContextVar = contextvars.ContextVar("audit_pending", default=None)


def _json_default(value):
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str)
    if isinstance(value, models.Model):
        return f"{value._meta.label_lower}:{value.pk}"
    return str(value)


_SCALARS = (str, int, float, bool, type(None))


def _is_plain(value) -> bool:
    """JSON data already (str keys; str, int, float, bool, None, lists and dicts of them)."""
    if isinstance(value, _SCALARS):
        return not isinstance(value, float) or value == value and abs(value) != float("inf")
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(type(k) is str and _is_plain(v) for k, v in value.items())
    return False


def _plain(details) -> dict:
    """`details` as JSON-safe data (the same value the ledger's bytes carry)."""
    if not details:
        return {}
    if _is_plain(details):
        return details
    return json.loads(json.dumps(details, default=_json_default, ensure_ascii=False))


def canonical_entry(fields: dict) -> bytes:
    """The entry's bytes as the ledger hashes them (its canonical JSON)."""
    return ledger.canonical_json(fields)


def _object_fields(obj) -> tuple[str, str, str]:
    """(type, id, label) of `obj`: a model instance, a (model or label, pk[, label]) tuple,
    or a string naming a thing that is not a row (a setting, a page)."""
    if obj is None:
        return "", "", ""
    if isinstance(obj, models.Model):
        return obj._meta.label_lower, str(obj.pk or ""), str(obj)[:200]
    if isinstance(obj, (tuple, list)):
        kind, pk, *rest = obj
        if isinstance(kind, type) and issubclass(kind, models.Model):
            kind = kind._meta.label_lower
        return str(kind)[:100], str(pk)[:64], (str(rest[0]) if rest else "")[:200]
    return "", "", str(obj)[:200]


def current_request():
    return _request.get()


def record(
    action: str,
    *,
    actor=None,
    request=None,
    obj=None,
    outcome: str = "success",
    details: dict | None = None,
    organization=None,
):
    """Record `action` in the audit log and return its `AuditEvent`.

    `actor` is the user who acted (default: the request's user) or, for an attempt naming
    no account, the name given; `request` (default: the current one) gives the address and
    user agent; `obj` what was acted on (see `_object_fields`); `outcome` is "success",
    "refused" or "failure"; `details` a small JSON-able dict (row counts, changed fields,
    the reason of a refusal). Runs in the caller's transaction.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    if request is None:
        request = _request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if getattr(user, "is_authenticated", False):
            actor = user
    actor_id, actor_label = None, ""
    if isinstance(actor, str):
        actor_label = actor[:150]
    elif actor is not None and getattr(actor, "pk", None):
        actor_id, actor_label = actor.pk, actor.get_username()[:150]
    if organization is None and actor_id is not None:
        organization_id = getattr(actor, "organization_id", None)
    else:
        organization_id = getattr(organization, "pk", organization)
    ip, agent = None, ""
    if request is not None:
        ip = client_ip(request)
        agent = str(getattr(request, "META", {}).get("HTTP_USER_AGENT", ""))[:300]
    object_type, object_id, object_label = _object_fields(obj)
    occurred_at = timezone.now()
    details = _plain(details)
    entry = canonical_entry(
        {
            "v": 1,
            "time": occurred_at.isoformat(),
            "actor": actor_id,
            "actor_name": actor_label,
            "organization": organization_id,
            "ip": ip,
            "user_agent": agent,
            "action": action,
            "object": {"type": object_type, "id": object_id, "label": object_label},
            "outcome": outcome,
            "details": details,
        }
    )
    entry_sha256 = hashlib.sha256(entry).hexdigest()
    action = action[:80]
    # The leaf and the row in one statement (one round trip, atomic by itself, in the
    # caller's transaction when there is one), prepared once per database session.
    with connection.cursor() as cur:
        execute_prepared(
            cur,
            "security_audit_record",
            _record_statement(),
            _RECORD_TYPES,
            [
                *ledger.append_params(LEDGER_LOG, entry),
                occurred_at,
                actor_id,
                actor_label,
                organization_id,
                ip,
                agent,
                action,
                object_type,
                object_id,
                object_label,
                outcome,
                json.dumps(details, ensure_ascii=False),
                entry_sha256,
            ],
        )
        pk, leaf_id = cur.fetchone()
    # The row as the ORM would load it, without Model.__init__ (a third of the function's
    # own time): every concrete field set, the instance saved.
    event = _new_event()
    event.__dict__.update(
        id=pk,
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_label=actor_label,
        organization_id=organization_id,
        ip=ip,
        user_agent=agent,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        outcome=outcome,
        details=details,
        entry_sha256=entry_sha256,
        leaf_id=leaf_id,
    )
    return event


# The searchable row's columns and their types ($5 ...; $1 .. $4 are the ledger append's).
_RECORD_COLUMNS = (
    ("occurred_at", "timestamptz"),
    ("actor_id", "bigint"),
    ("actor_label", "text"),
    ("organization_id", "bigint"),
    ("ip", "inet"),
    ("user_agent", "text"),
    ("action", "text"),
    ("object_type", "text"),
    ("object_id", "text"),
    ("object_label", "text"),
    ("outcome", "text"),
    ("details", "jsonb"),
    ("entry_sha256", "text"),
)
_RECORD_TYPES = (*ledger.APPEND_TYPES, *(t for _c, t in _RECORD_COLUMNS))


@functools.cache
def _record_statement() -> str:
    from .models import AuditEvent

    ctes, types = ledger.append_ctes()
    first = len(types) + 1
    columns = ", ".join(c for c, _t in _RECORD_COLUMNS)
    values = ", ".join(f"${first + i}" for i in range(len(_RECORD_COLUMNS)))
    return (
        f"WITH {ctes}, event AS (INSERT INTO {AuditEvent._meta.db_table} ({columns}, leaf_id)"  # noqa: S608
        f" SELECT {values}, id FROM leaf RETURNING id, leaf_id)"
        " SELECT id, leaf_id FROM event"
    )


def _new_event():
    from django.db.models.base import ModelState

    from .models import AuditEvent

    event = AuditEvent.__new__(AuditEvent)
    state = event._state = ModelState()
    state.adding, state.db = False, connection.alias
    return event


# --- refusals ---------------------------------------------------------------------------------


def _refusal_details(exc, details) -> dict:
    out = {"reason": str(exc)[:500] if str(exc) else type(exc).__name__}
    out["error"] = type(exc).__name__
    if details:
        out.update(details)
    return out


def _resolve(obj):
    """A (model, pk) pair of an `access_*` refusal: whether the object exists tells the
    auditor "forbidden" from "missing" (the user saw 404 for both)."""
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], type | str):
        model, pk = obj
        if isinstance(model, str):
            from django.apps import apps

            model = apps.get_model(model)
        try:
            found = model._default_manager.filter(pk=pk).first()
        except (ValueError, TypeError, ValidationError):
            found = None  # a malformed key: nothing of that kind exists
        if found is not None:
            return found, {"exists": True}
        return (model, pk), {"exists": False}
    return obj, {}


def observe_refusal(exc, *, action, actor=None, obj=None, details=None) -> None:
    """The kernel's refusal observer: record now, or at the end of the request."""
    if getattr(exc, "_audit_recorded", False):
        return
    pending = _pending.get()
    if pending is not None:
        # Keep the first (innermost, most precise) observation of this exception.
        if not any(item[0] is exc for item in pending):
            pending.append((exc, action, actor, obj, details))
        return
    _record_refusal(exc, action=action, actor=actor, obj=obj, details=details)


def _record_refusal(exc, *, action, actor, obj, details) -> None:
    exc._audit_recorded = True
    obj, found = _resolve(obj)
    actor = actor if getattr(actor, "is_authenticated", False) else None
    record(
        action,
        actor=actor,
        obj=obj,
        outcome="refused",
        details=_refusal_details(exc, {**found, **(details or {})}),
    )


class AuditMiddleware:
    """Makes the request known to `record()` (address, user agent, actor for signal
    receivers) and records the refusals observed during the request once the view has
    returned, outside any transaction the view opened (ATOMIC_REQUESTS is off)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_token = _request.set(request)
        pending_token = _pending.set([])
        try:
            response = self.get_response(request)
        finally:
            pending = _pending.get() or []
            _pending.reset(pending_token)
            try:
                for exc, action, actor, obj, details in pending:
                    _record_refusal(exc, action=action, actor=actor, obj=obj, details=details)
            finally:
                _request.reset(request_token)
        return response
