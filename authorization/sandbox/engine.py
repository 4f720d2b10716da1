"""The aggregate builder's engine: check a query against what the session allows, run it
through the table's `<table>_aggregate` definer function, and release the figures with
suppression and calibrated noise, spending the session's privacy budget.

A query is a form's choice, never SQL: {"measure": count | sum | mean | min | max, "value":
column (not for count), "groups": [up to three columns], "filters": [{"column", "op": eq | in |
range, "value" | "values" | "lo" / "hi"}]}. Groups of fewer than `SANDBOX_MIN_GROUP_SIZE` rows
are suppressed (so are those whose noisy count falls under it), and suppressed groups are
released without their labels (a label alone can give a person away: "the one person of this
age lives in this district"), only as a count of suppressed groups.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aggregation.datastore import read_functions_current, read_functions_refresh
from catalog.models import Resource
from security import audit
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.errors import DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save

from . import noise, selectors
from .functions import aggregate_call
from .models import SandboxQuery, SandboxSession

MEASURES = ("count", "sum", "mean", "min", "max")
MAX_GROUPS_CHOSEN = 3
MAX_FILTERS = 5
MAX_IN_VALUES = 50
MAX_VALUE_LENGTH = 200
EPSILON_CHOICES = (0.1, 0.25, 0.5, 1.0)


class QueryRefused(DomainError):
    """A query the sandbox does not run (its message names the field)."""


def measure_labels() -> dict[str, str]:
    return {
        "count": _("Count of rows"),
        "sum": pgettext("sandbox", "Sum"),
        "mean": pgettext("sandbox", "Mean"),
        "min": pgettext("sandbox", "Minimum"),
        "max": pgettext("sandbox", "Maximum"),
    }


def _text(value, *, field: str) -> str:
    value = "" if value is None else str(value)
    if "\x00" in value:
        raise QueryRefused(_("Null characters are not allowed."), field=field)
    if len(value) > MAX_VALUE_LENGTH:
        raise QueryRefused(_("At most %(n)d characters.") % {"n": MAX_VALUE_LENGTH}, field=field)
    return value


def _bound(item: selectors.SandboxItem, value, *, field: str) -> str | None:
    """A range bound as text the column's type takes, or None when empty."""
    value = _text(value, field=field).strip()
    if not value:
        return None
    if item.numeric:
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise QueryRefused(_("“%(item)s”: give a number.") % {"item": item.label}, field=field)
        return str(number)
    try:
        if item.data_type == "T":
            dt.datetime.fromisoformat(value)
        else:
            dt.date.fromisoformat(value)
    except ValueError:
        raise QueryRefused(
            _("“%(item)s”: give a date as YYYY-MM-DD.") % {"item": item.label}, field=field
        ) from None
    return value


def check_spec(session: SandboxSession, resource: Resource, spec: dict) -> dict:
    """The query as the function will run it, or QueryRefused naming the field."""
    items = {i.column: i for i in selectors.sandbox_items(resource)}
    measure = spec.get("measure")
    if measure not in MEASURES:
        raise QueryRefused(_("Choose a measure."), field="measure")
    value = spec.get("value") or None
    lo = hi = None
    if measure != "count":
        item = items.get(value)
        if item is None or not item.numeric or item.masked:
            raise QueryRefused(_("Choose a numeric item to measure."), field="value")
        if measure in ("min", "max") and item.identifying:
            raise QueryRefused(
                _("The minimum and maximum are not offered on an identifying item."),
                field="measure",
            )
        found = selectors.session_bounds(session, resource.pk, value)
        if found is None:
            raise QueryRefused(
                _("“%(item)s” has no clamping bounds in this session: only counts are offered.")
                % {"item": item.label},
                field="value",
            )
        lo, hi = found
    else:
        value = None
    groups = [g for g in spec.get("groups") or [] if g]
    if len(groups) > MAX_GROUPS_CHOSEN:
        raise QueryRefused(
            _("Group by at most %(n)d items.") % {"n": MAX_GROUPS_CHOSEN}, field="groups"
        )
    if len(set(groups)) != len(groups):
        raise QueryRefused(_("Group by each item once."), field="groups")
    for g in groups:
        if g not in items or not items[g].groupable:
            raise QueryRefused(_("This item cannot be grouped by."), field="groups")
    filters: list[tuple[str, str, str]] = []
    shown_filters = []
    chosen = spec.get("filters") or []
    if len(chosen) > MAX_FILTERS:
        raise QueryRefused(_("At most %(n)d filters.") % {"n": MAX_FILTERS}, field="filters")
    for f in chosen:
        column, op = f.get("column"), f.get("op")
        item = items.get(column)
        if item is None or not item.groupable:
            raise QueryRefused(_("This item cannot be filtered on."), field="filters")
        if op == "eq":
            v = _text(f.get("value"), field="filters")
            filters.append((column, "eq", v))
            shown_filters.append({"column": column, "op": "eq", "value": v})
        elif op == "in":
            values = [_text(v, field="filters") for v in f.get("values") or []]
            values = [v for v in dict.fromkeys(values) if v != ""]
            if not values:
                raise QueryRefused(
                    _("“%(item)s”: give at least one value.") % {"item": item.label},
                    field="filters",
                )
            if len(values) > MAX_IN_VALUES:
                raise QueryRefused(
                    _("At most %(n)d values in one filter.") % {"n": MAX_IN_VALUES},
                    field="filters",
                )
            filters.append((column, "in", json.dumps(values, ensure_ascii=False)))
            shown_filters.append({"column": column, "op": "in", "values": values})
        elif op == "range":
            if not item.rangeable:
                raise QueryRefused(
                    _("“%(item)s” takes no range: filter it by values.") % {"item": item.label},
                    field="filters",
                )
            low = _bound(item, f.get("lo"), field="filters")
            high = _bound(item, f.get("hi"), field="filters")
            if low is None and high is None:
                raise QueryRefused(
                    _("“%(item)s”: give a lower or an upper bound.") % {"item": item.label},
                    field="filters",
                )
            if low is not None:
                filters.append((column, "ge", low))
            if high is not None:
                filters.append((column, "le", high))
            shown_filters.append({"column": column, "op": "range", "lo": low, "hi": high})
        else:
            raise QueryRefused(_("Choose how to filter."), field="filters")
    if value is not None:
        filters.append((value, "set", ""))
    return {
        "measure": measure,
        "value": value,
        "groups": groups,
        "filters": filters,
        "shown_filters": shown_filters,
        "lo": lo,
        "hi": hi,
    }


def _refused_by_database(exc: DatabaseError) -> QueryRefused:
    state = getattr(exc.__cause__, "sqlstate", None) or getattr(exc, "sqlstate", None)
    if state == "57014":
        return QueryRefused(
            _("The query took too long and was stopped: add filters or group by fewer items.")
        )
    if state == "54000":
        return QueryRefused(
            _("The query gives too many groups or rows: add filters or group by fewer items."),
            field="groups",
        )
    if state in ("22P02", "22007", "22008", "22003", "22021"):
        return QueryRefused(_("A filter value does not fit its item."), field="filters")
    if state == "42883":
        return QueryRefused(
            _("The sandbox of this resource is not ready yet: ask the platform's administrators.")
        )
    return QueryRefused(_("The query could not run. Change it and try again."))


def _release(checked: dict, found: list[tuple], epsilon: float) -> dict:
    """The released table: noisy figures of the groups large enough, suppressed ones counted."""
    minimum = int(getattr(settings, "SANDBOX_MIN_GROUP_SIZE", 10))
    measure = checked["measure"]
    lo, hi = checked["lo"], checked["hi"]
    eps_count = epsilon if measure == "count" else epsilon / 2
    eps_measure = epsilon / 2
    width = len(checked["groups"])
    rows, suppressed = [], 0
    for g1, g2, g3, n, _m, v in found:
        labels = [g1, g2, g3][:width]
        if n < minimum:
            suppressed += 1
            continue
        count = noisy_n = noise.noisy_count(n, eps_count)
        if noisy_n < minimum:
            suppressed += 1
            continue
        figure = None
        if measure in ("sum", "mean"):
            total = noise.noisy_sum(float(v or 0), eps_measure, lo, hi)
            if measure == "sum":
                figure = round(total, 2)
            else:
                figure = round(min(max(total / max(noisy_n, 1), lo), hi), 2)
        elif measure in ("min", "max"):
            figure = round(noise.noisy_extreme(float(v), eps_measure, lo, hi), 2)
        rows.append([*["" if x is None else x for x in labels], count, figure])
    scales = {"count": noise.count_scale(eps_count)}
    if measure in ("sum", "mean"):
        scales["measure"] = noise.sum_scale(eps_measure, lo, hi)
    elif measure in ("min", "max"):
        scales["measure"] = noise.extreme_scale(eps_measure, lo, hi)
    return {
        "groups": checked["groups"],
        "measure": measure,
        "value": checked["value"],
        "rows": rows,
        "suppressed": suppressed,
        "min_group": minimum,
        "scales": scales,
    }


@observe_refusals("sandbox.query", object_arg="session")
def query_run(
    *,
    session: SandboxSession,
    resource: Resource,
    spec: dict,
    epsilon: float | None = None,
    acting_user: User,
) -> SandboxQuery:
    """Run one aggregate query in an approved, current session of `acting_user`, spend
    `epsilon` of its budget and keep the released table. Refused (QueryRefused, nothing
    spent) when the session is not current, the budget would be overspent, or the query asks
    what the builder does not offer. Every query is recorded in the audit log with its
    parameters, the budget spent and the rows it aggregated; a refused one with its reason."""
    epsilon = float(epsilon if epsilon is not None else settings.SANDBOX_QUERY_EPSILON)
    if not math.isfinite(epsilon) or epsilon <= 0 or epsilon > max(EPSILON_CHOICES):
        raise QueryRefused(_("Choose the privacy budget of the query."), field="epsilon")
    with transaction.atomic():
        session = SandboxSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
        if session.requester_id != acting_user.pk or not session.is_current:
            raise QueryRefused(_("This session is not open for queries."))
        if not session.resources.filter(pk=resource.pk).exists():
            raise QueryRefused(_("Choose a resource of this session."), field="resource")
        if epsilon > session.epsilon_left + 1e-9:
            raise QueryRefused(
                _(
                    "The session's privacy budget is spent: %(left)s of %(total)s is left, the "
                    "query needs %(need)s. Ask the provider for a new session."
                )
                % {
                    "left": f"{session.epsilon_left:g}",
                    "total": f"{session.epsilon_total:g}",
                    "need": f"{epsilon:g}",
                },
                field="epsilon",
            )
        table = selectors.sandbox_table(resource)
        if table is None:
            raise QueryRefused(_("This resource holds no data on the platform."))
        checked = check_spec(session, resource, spec)
        max_rows = int(settings.SANDBOX_MAX_ROWS)
        if table.row_count and table.row_count > max_rows:
            raise QueryRefused(_("This resource is too large for the sandbox."))
        if not read_functions_current(table):
            # Made before the sandbox's function existed: remake them where this process may.
            with contextlib.suppress(Exception), transaction.atomic():
                read_functions_refresh(table)
        try:
            with transaction.atomic():
                found = aggregate_call(
                    schema=table.schema,
                    table=table.table_name,
                    measure="sum" if checked["measure"] == "mean" else checked["measure"],
                    value=checked["value"],
                    groups=checked["groups"],
                    filters=checked["filters"],
                    lo=checked["lo"],
                    hi=checked["hi"],
                    max_groups=int(settings.SANDBOX_MAX_GROUPS),
                    max_rows=max_rows,
                    timeout_ms=int(settings.SANDBOX_STATEMENT_TIMEOUT_MS),
                )
        except DatabaseError as exc:
            raise _refused_by_database(exc) from exc
        result = _release(checked, found, epsilon)
        scanned = sum(r[3] for r in found)
        session.epsilon_spent = round(session.epsilon_spent + epsilon, 9)
        audited_save(session, acting_user=acting_user, reason="sandbox query")
        shown = {
            "measure": checked["measure"],
            "value": checked["value"],
            "groups": checked["groups"],
            "filters": checked["shown_filters"],
        }
        query = SandboxQuery.objects.create(
            session=session,
            resource=resource,
            user=acting_user,
            spec=shown,
            epsilon=epsilon,
            result=result,
        )
        audit.record(
            "sandbox.query",
            actor=acting_user,
            obj=query,
            details={
                "session": session.pk,
                "resource": resource.pk,
                "query": shown,
                "epsilon": epsilon,
                "epsilon_spent": session.epsilon_spent,
                "rows": scanned,
                "groups_released": len(result["rows"]),
                "groups_suppressed": result["suppressed"],
            },
        )
        return query
