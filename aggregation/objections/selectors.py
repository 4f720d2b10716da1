"""Reads of objections, restricted to what the user may see, with what the lists show
selected in the same query (a list's query count does not grow with its rows)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from security.masking import Mask, mask_row, mask_value
from wuhan_pdr.kernel.workflow import events_described

from ..datastore import table_columns
from ..models import DatastoreTable, Objection
from ..selectors import masked_columns
from .permissions import is_bureau, is_provider_worker, objections_visible_q, row_rights
from .workflows import OPEN_STATES, objection_workflow

SCOPES = ("mine", "bureau", "provider")


def scope_allowed(user, scope: str) -> bool:
    if scope == "mine":
        return bool(getattr(user, "is_authenticated", False) and user.is_active)
    if scope == "bureau":
        return is_bureau(user)
    if scope == "provider":
        return is_provider_worker(user)
    return False


def objection_list(
    user,
    *,
    scope: str,
    state: str = "",
    kind: str = "",
    agency=None,
    overdue: bool = False,
    q: str = "",
) -> QuerySet[Objection]:
    """The objections of one list: `mine` (filed by the user), `bureau` (all, for the city
    bureau) or `provider` (about the user's agency's resources)."""
    qs = Objection.objects.filter(objections_visible_q(user)).select_related(
        "resource__provider", "resource__published_version", "requester__organization"
    )
    if scope == "mine":
        qs = qs.filter(requester_id=user.pk)
    elif scope == "provider":
        qs = qs.filter(resource__provider_id=user.organization_id)
    elif scope != "bureau":
        return qs.none()
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if agency is not None:
        qs = qs.filter(resource__provider=agency)
    if overdue:
        qs = qs.filter(state__in=OPEN_STATES, step_deadline__lt=timezone.now())
    q = (q or "").strip()
    if q:
        cond = (
            Q(description__icontains=q)
            | Q(resource__published_version__name__icontains=q)
            | Q(resource__code__icontains=q)
        )
        if q.lstrip("#").isdigit() and len(q) < 12:
            cond |= Q(pk=int(q.lstrip("#")))
        qs = qs.filter(cond)
    return qs.order_by("-created_at", "-pk")


def open_objections(user, *, states, provider_only: bool = False) -> QuerySet[Objection]:
    qs = Objection.objects.filter(objections_visible_q(user), state__in=states)
    if provider_only:
        qs = qs.filter(resource__provider_id=user.organization_id)
    return qs.select_related("resource__published_version").order_by("step_deadline", "pk")


def objection_events(objection: Objection):
    return events_described(objection, objection_workflow)


def objection_history(objection: Objection):
    return objection.history.select_related("history_user").order_by("-history_date")[:30]


def _table(objection: Objection) -> DatastoreTable:
    """The resource's table (an unsaved one when it has none: the masking reads the
    published items only)."""
    table = DatastoreTable.objects.filter(resource=objection.resource).first()
    return table if table is not None else DatastoreTable(resource=objection.resource)


def _key_names(objection: Objection, table: DatastoreTable) -> list[str] | None:
    data = objection.changed_rows or {}
    if data.get("columns") and data.get("key_positions"):
        return [data["columns"][i] for i in data["key_positions"]]
    if table.pk is not None:
        return [c.name for c in table_columns(table) if c.key]
    return None


# Keys whose columns are no longer known: nothing of them is told.
STRICTEST = Mask("replace")


def row_keys_shown(objection: Objection, user) -> list[str]:
    """The keys of the rows objected to as `user` may see them: a key column that is masked
    is masked here too, for everyone (the preview's rule). Keys whose columns are no longer
    known are masked whole."""
    if not objection.row_keys:
        return []
    table = _table(objection)
    masked = masked_columns(table)
    names = _key_names(objection, table)
    shown = []
    for key in objection.row_keys:
        if names is None or len(names) != len(key):
            shown.append(", ".join(mask_value(v, STRICTEST) for v in key))
        else:
            shown.append(", ".join(mask_row(names, key, masked)))
    return shown


def changed_rows_table(objection: Objection, user) -> dict | None:
    """The objected rows before (at filing) and after (at the provider's report), paired by
    key, with the cells that changed marked; None when the objection names no rows or
    `user` may not see the resource's rows.

    Of each row `user` sees the columns `row_rights` allows (the provider and the overseers:
    all), with the masked columns masked by the one masking function."""
    data = objection.changed_rows or {}
    if not objection.row_keys or not data.get("columns"):
        return None
    table = _table(objection)
    rights = row_rights(user, objection.resource, table=table if table.pk else None)
    if not rights.sees_rows:
        return None
    names = data["columns"]
    labels = data.get("labels") or names
    shown = [i for i, n in enumerate(names) if rights.columns is None or n in rights.columns]
    masked = masked_columns(table)
    positions = data.get("key_positions") or []
    before = {tuple(r[i] for i in positions): r for r in data.get("before") or []}
    after = {tuple(r[i] for i in positions): r for r in data.get("after") or []}
    reported = bool(data.get("after_at"))
    keys = row_keys_shown(objection, user)
    rows = []
    for key, key_text in zip(objection.row_keys, keys, strict=True):
        b, a = before.get(tuple(key)), after.get(tuple(key))
        # Snapshots taken through the table's read function hold masked columns masked
        # already (`before_masked`); masking them again is never less masked.
        b_shown = mask_row(names, b, masked) if b else None
        a_shown = mask_row(names, a, masked) if a else None
        cells = []
        for i in shown:
            old = b[i] if b else None
            new = a[i] if a else None
            cells.append(
                {
                    "before": b_shown[i] if b_shown else None,
                    "after": a_shown[i] if a_shown else None,
                    "changed": reported and old != new,
                }
            )
        rows.append(
            {
                "key": key_text,
                "cells": cells,
                "deleted": reported and b is not None and a is None,
                "added": reported and b is None and a is not None,
            }
        )
    return {
        "columns": [labels[i] for i in shown],
        "rows": rows,
        "reported": reported,
        "before_at": data.get("before_at"),
        "after_at": data.get("after_at"),
    }
