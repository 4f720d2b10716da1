"""Which rules a resource gets, and how each one becomes SQL.

Derived rules come from the published version's items and their data elements:

- completeness: an item that may not be empty -> `not_null` (empty text counts as missing);
- normativeness: an element's format (`c..50`, `n8`, `an..20`, `YYYYMMDD`...) -> `format`
  (a PostgreSQL regular expression plus a length check); an element's pattern -> `format`
  with the pattern; an element whose value domain is a code list -> `code_list` (membership
  of the values valid today, joined to `catalog_codevalue`);
- accuracy: key items -> `unique_key`; a table without a key -> `duplicate_rows`;
- consistency: an item bound to the same data element as the single key item of another
  published resource with data -> `reference` (the value must exist there);
- timeliness: `freshness` (the last good batch within the update cycle) and, when there is
  an update flag, `future_flag`;
- accessibility and stability: `reachable` and `success_rate` when the resource has channels.

Custom rules come from the constrained builder: a column of the table, an operator from
`OPERATORS`, a value, joined by AND or OR. Identifiers are checked against the table's
columns and quoted; values are always SQL parameters, cast to the column's type.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg import sql

from catalog.datatypes import DataType
from catalog.models import DataItem, Resource, UpdateCycle
from catalog.standards.validation import parse_format
from wuhan_pdr.kernel.errors import DomainError

from ..datastore import Column, columns_for
from ..models import DatastoreTable, Dimension, QualityRule

K = QualityRule.Kind

DIMENSION_OF = {
    K.NOT_NULL: Dimension.COMPLETENESS,
    K.FORMAT: Dimension.NORMATIVE,
    K.CODE_LIST: Dimension.NORMATIVE,
    K.UNIQUE_KEY: Dimension.ACCURACY,
    K.DUPLICATE_ROWS: Dimension.ACCURACY,
    K.RANGE: Dimension.ACCURACY,
    K.REFERENCE: Dimension.CONSISTENCY,
    K.FRESHNESS: Dimension.TIMELINESS,
    K.FUTURE_FLAG: Dimension.TIMELINESS,
    K.REACHABLE: Dimension.ACCESSIBILITY,
    K.SUCCESS_RATE: Dimension.STABILITY,
    K.CUSTOM: Dimension.ACCURACY,
}
# Kinds evaluated per row inside the one scan of the table.
ROW_KINDS = frozenset(
    {K.NOT_NULL, K.FORMAT, K.CODE_LIST, K.RANGE, K.REFERENCE, K.FUTURE_FLAG, K.CUSTOM}
)
# Kinds that group the table (one statement for all of them).
GROUP_KINDS = frozenset({K.UNIQUE_KEY, K.DUPLICATE_ROWS})
TABLE_KINDS = frozenset({K.FRESHNESS, K.REACHABLE, K.SUCCESS_RATE})

# Freshness: how old the last good batch may be, per update cycle (irregular: not checked).
MAX_AGE: dict[str, dt.timedelta] = {
    UpdateCycle.REALTIME: dt.timedelta(days=1),
    UpdateCycle.DAILY: dt.timedelta(days=1, hours=12),
    UpdateCycle.WEEKLY: dt.timedelta(days=8),
    UpdateCycle.MONTHLY: dt.timedelta(days=32),
    UpdateCycle.QUARTERLY: dt.timedelta(days=93),
    UpdateCycle.YEARLY: dt.timedelta(days=367),
}
SUCCESS_THRESHOLD = 0.95
SUCCESS_WINDOW_DAYS = 30
PG_REPEAT_MAX = 255  # PostgreSQL's largest {m,n} bound

TEXT_TYPES = ("varchar", "text", "char")


def is_text(column: Column) -> bool:
    return column.type.startswith(TEXT_TYPES)


def base_type(column: Column) -> str:
    """The SQL type a value compared with the column is cast to (our own type strings)."""
    t = column.type
    if t.startswith(TEXT_TYPES):
        return "text"
    if t.startswith("numeric"):
        return "numeric"
    return t


# --- derivation --------------------------------------------------------------------------------


@dataclass
class RuleSpec:
    """A derived rule before it is stored; `signature` identifies it across syncs."""

    kind: str
    name: str
    column: str = ""
    params: dict = field(default_factory=dict)
    enabled: bool = True

    @property
    def signature(self) -> tuple:
        return (self.kind, self.column)

    @property
    def dimension(self) -> str:
        return DIMENSION_OF[self.kind]


def format_check(fmt: str) -> dict | None:
    """Parameters of a format rule for an element format: {"regex", "min", "max"} (None when
    the format says nothing a typed column does not already say)."""
    try:
        spec = parse_format(fmt)
    except DomainError:
        return None
    if spec.kind == "temporal":
        tokens = {
            "YYYY": "[0-9]{4}",
            "MM": "[0-9]{2}",
            "DD": "[0-9]{2}",
            "hh": "[0-9]{2}",
            "mm": "[0-9]{2}",
            "ss": "[0-9]{2}",
        }
        out, pos = [], 0
        for m in re.finditer("|".join(tokens), spec.text):
            out.append(re.escape(spec.text[pos : m.start()]))
            out.append(tokens[m.group()])
            pos = m.end()
        out.append(re.escape(spec.text[pos:]))
        return {"format": fmt, "regex": "^" + "".join(out) + "$"}
    params: dict = {"format": fmt, "min": spec.min_length, "max": spec.max_length}
    if spec.kind == "n" and spec.scale is not None:
        # digits, an optional point with at most `scale` decimals; the length counts digits
        params["regex"] = r"^-?[0-9]+(\.[0-9]{1," + str(max(spec.scale, 1)) + "})?$"
        params["digits"] = True
    elif spec.kind != "c":
        params["regex"] = {"n": "^[0-9]*$", "a": "^[A-Za-z]*$", "an": "^[0-9A-Za-z]*$"}[spec.kind]
    return params


def pg_pattern(pattern: str) -> str | None:
    """An element's (Python) pattern as a PostgreSQL full-match regex, or None if PostgreSQL
    cannot compile it."""
    body = re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(", pattern)
    regex = f"^(?:{body})$"
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT '' ~ %s", [regex])
    except Exception:
        return None
    return regex


def _referenced(item: DataItem, resource: Resource) -> dict | None:
    """Another published resource with data whose single key item binds to the same data
    element (any version) as `item`."""
    element = item.element
    if element is None:
        return None
    keys = (
        DataItem.objects.filter(
            is_key=True,
            element__identifier=element.identifier,
            version__resource__published_version=F("version"),
        )
        .exclude(version__resource=resource)
        .select_related("version__resource")
    )
    for key in keys:
        other = key.version.resource
        if DataItem.objects.filter(version_id=key.version_id, is_key=True).count() != 1:
            continue
        table = DatastoreTable.objects.filter(resource=other).first()
        if table is None:
            continue
        # the key's column name in the other table
        other_cols = [Column.from_dict(d) for d in table.columns]
        match = next((c for c in other_cols if c.item == key.name and c.key), None)
        if match is not None:
            return {"resource": other.pk, "resource_code": other.code, "column": match.name}
    return None


def derive(resource: Resource) -> list[RuleSpec]:
    """The rules the published items and elements of `resource` call for."""
    version = resource.published_version
    if version is None:
        return []
    items = list(
        DataItem.objects.filter(version=version)
        .select_related("element", "element__code_list")
        .order_by("position")
    )
    columns = columns_for(items)
    by_item = {c.item: c for c in columns}
    specs: list[RuleSpec] = []
    for item in items:
        col = by_item[item.name]
        if not item.nullable or item.is_key:
            specs.append(
                RuleSpec(K.NOT_NULL, _("%(item)s is filled in") % {"item": item.name}, col.name)
            )
        element = item.element
        if element is not None:
            if is_text(col) or item.data_type in (DataType.I, DataType.N):
                params = format_check(element.format)
                if params:
                    specs.append(
                        RuleSpec(
                            K.FORMAT,
                            _("%(item)s has the format %(format)s")
                            % {"item": item.name, "format": element.format},
                            col.name,
                            params,
                        )
                    )
            if element.domain_kind == element.DomainKind.PATTERN and element.pattern:
                regex = pg_pattern(element.pattern)
                specs.append(
                    RuleSpec(
                        K.FORMAT,
                        _("%(item)s matches the pattern of %(element)s")
                        % {"item": item.name, "element": element.name},
                        col.name,
                        {"pattern": element.pattern, "regex": regex or ""},
                        enabled=regex is not None,
                    )
                )
                specs[-1].params["of_pattern"] = True
            if element.domain_kind == element.DomainKind.CODE_LIST and element.code_list_id:
                specs.append(
                    RuleSpec(
                        K.CODE_LIST,
                        _("%(item)s is a code of %(list)s")
                        % {"item": item.name, "list": element.code_list.name},
                        col.name,
                        {"code_list": element.code_list_id},
                    )
                )
            if not item.is_key:
                ref = _referenced(item, resource)
                if ref is not None:
                    specs.append(
                        RuleSpec(
                            K.REFERENCE,
                            _("%(item)s exists in %(resource)s")
                            % {"item": item.name, "resource": ref["resource_code"]},
                            col.name,
                            ref,
                        )
                    )
        if item.is_update_flag and item.data_type in (DataType.D, DataType.T):
            specs.append(
                RuleSpec(
                    K.FUTURE_FLAG,
                    _("%(item)s is not in the future") % {"item": item.name},
                    col.name,
                )
            )
    keys = [c.name for c in columns if c.key]
    if keys:
        specs.append(RuleSpec(K.UNIQUE_KEY, _("The key is unique"), "", {"columns": keys}))
    else:
        specs.append(
            RuleSpec(
                K.DUPLICATE_ROWS,
                _("No two rows are the same"),
                "",
                {"columns": [c.name for c in columns]},
            )
        )
    if version.update_cycle in MAX_AGE:
        specs.append(
            RuleSpec(
                K.FRESHNESS,
                _("Updated within the update cycle (%(cycle)s)")
                % {"cycle": version.get_update_cycle_display()},
                "",
                {
                    "cycle": version.update_cycle,
                    "max_age_hours": MAX_AGE[version.update_cycle].total_seconds() // 3600,
                },
            )
        )
    if resource.channels.exists():
        specs.append(RuleSpec(K.REACHABLE, _("The channels are reachable")))
        specs.append(
            RuleSpec(
                K.SUCCESS_RATE,
                _("Batches succeed (outside reported downtime)"),
                "",
                {"threshold": SUCCESS_THRESHOLD, "days": SUCCESS_WINDOW_DAYS},
            )
        )
    return specs


# --- the custom rule builder -----------------------------------------------------------------

OPERATORS = {
    "eq": gettext_lazy("equals"),
    "ne": gettext_lazy("does not equal"),
    "lt": gettext_lazy("is less than"),
    "le": gettext_lazy("is at most"),
    "gt": gettext_lazy("is greater than"),
    "ge": gettext_lazy("is at least"),
    "in": gettext_lazy("is one of (comma-separated)"),
    "not_in": gettext_lazy("is none of (comma-separated)"),
    "contains": gettext_lazy("contains"),
    "starts_with": gettext_lazy("starts with"),
    "matches": gettext_lazy("matches the regular expression"),
    "is_null": gettext_lazy("is empty"),
    "not_null": gettext_lazy("is not empty"),
}
NO_VALUE = {"is_null", "not_null"}
TEXT_ONLY = {"contains", "starts_with", "matches"}
COMPARE = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
MAX_CONDITIONS = 10


def _column(columns: list[Column], name: str) -> Column:
    for c in columns:
        if c.name == name:
            return c
    raise DomainError(
        _("“%(column)s” is not a column of this table.") % {"column": name}, field="column"
    )


def _check_cast(value, type_: str, field_name: str) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql.SQL("SELECT CAST(%s AS {})").format(sql.SQL(type_)), [value])
    except Exception:
        raise DomainError(
            _("“%(value)s” is not a value of this column's type.") % {"value": value},
            field=field_name,
        ) from None


def clean_conditions(columns: list[Column], conditions: list[dict], join: str) -> dict:
    """Check a builder's conditions against the table; returns the rule's params."""
    if join not in ("and", "or"):
        raise DomainError(_("Join the conditions with AND or OR."), field="join")
    cleaned = []
    for cond in conditions:
        name, op = (cond.get("column") or "").strip(), cond.get("op") or ""
        if not name:
            continue
        col = _column(columns, name)
        if op not in OPERATORS:
            raise DomainError(_("Choose an operator from the list."), field="op")
        value = cond.get("value")
        value = "" if value is None else str(value).strip()
        if op in NO_VALUE:
            value = ""
        elif value == "":
            raise DomainError(_("Give a value for “%(column)s”.") % {"column": name}, field="value")
        elif op in TEXT_ONLY:
            if op == "matches" and pg_pattern(value) is None:
                raise DomainError(_("This regular expression is not valid."), field="value")
        elif op in ("in", "not_in"):
            for part in value.split(","):
                _check_cast(part.strip(), base_type(col), "value")
        else:
            _check_cast(value, base_type(col), "value")
        cleaned.append({"column": name, "op": op, "value": value})
    if not cleaned:
        raise DomainError(_("Give at least one condition."), field="column")
    if len(cleaned) > MAX_CONDITIONS:
        raise DomainError(_("At most %(n)d conditions.") % {"n": MAX_CONDITIONS}, field="column")
    return {"conditions": cleaned, "join": join}


def clean_range(columns: list[Column], column: str, low: str, high: str) -> dict:
    col = _column(columns, column)
    if col.type.startswith(TEXT_TYPES) or col.type in ("boolean", "bytea"):
        raise DomainError(_("A range needs a number, date or time column."), field="column")
    low, high = (low or "").strip(), (high or "").strip()
    if not low and not high:
        raise DomainError(_("Give a lowest or a highest value."), field="min")
    if low:
        _check_cast(low, base_type(col), "min")
    if high:
        _check_cast(high, base_type(col), "max")
    if low and high:
        with connection.cursor() as cur:
            cur.execute(
                sql.SQL("SELECT CAST(%s AS {0}) > CAST(%s AS {0})").format(sql.SQL(base_type(col))),
                [low, high],
            )
            if cur.fetchone()[0]:
                # every row would fail such a rule
                raise DomainError(_("The highest value is below the lowest value."), field="max")
    return {"min": low or None, "max": high or None}


def rule_description(rule: QualityRule, columns: dict[str, Column]) -> str:
    """What a custom or range rule checks, in words ("" for derived rules: their name says
    it). `columns` maps column names to columns (for the items' names)."""

    def label(name: str) -> str:
        col = columns.get(name)
        return col.item if col is not None else name

    p = rule.params or {}
    if rule.kind == K.RANGE and not rule.derived:
        low, high = p.get("min"), p.get("max")
        if low not in (None, "") and high not in (None, ""):
            return _("%(column)s from %(min)s to %(max)s") % {
                "column": label(rule.column),
                "min": low,
                "max": high,
            }
        if low not in (None, ""):
            return _("%(column)s at least %(min)s") % {"column": label(rule.column), "min": low}
        return _("%(column)s at most %(max)s") % {"column": label(rule.column), "max": high}
    if rule.kind == K.CUSTOM:
        parts = []
        for cond in p.get("conditions", []):
            op = cond.get("op")
            text = f"{label(cond.get('column', ''))} {OPERATORS.get(op, op)}"
            if op not in NO_VALUE:
                text += f" “{cond.get('value', '')}”"
            parts.append(text)
        joiner = _(" or ") if p.get("join") == "or" else _(" and ")
        return joiner.join(parts)
    return ""


# --- SQL of the per-row rules -----------------------------------------------------------------


@dataclass
class RowCheck:
    """A per-row rule as SQL: `fails` is true for a failing row of alias `t`; `join` (with
    `join_params`) is a LEFT JOIN it needs, aliased `alias`."""

    rule: QualityRule
    fails: sql.Composable
    params: list
    join: sql.Composable | None = None
    join_params: list = field(default_factory=list)


def _cast_param(col: Column) -> sql.Composable:
    return sql.SQL("CAST(%s AS {})").format(sql.SQL(base_type(col)))


def _condition(col: Column, op: str, value: str) -> tuple[sql.Composable, list]:
    ref = sql.SQL("t.{}").format(sql.Identifier(col.name))
    if op == "is_null":
        if is_text(col):
            return sql.SQL("({0} IS NULL OR btrim({0}) = '')").format(ref), []
        return sql.SQL("{} IS NULL").format(ref), []
    if op == "not_null":
        if is_text(col):
            return sql.SQL("({0} IS NOT NULL AND btrim({0}) <> '')").format(ref), []
        return sql.SQL("{} IS NOT NULL").format(ref), []
    if op in COMPARE:
        return sql.SQL("{} {} {}").format(ref, sql.SQL(COMPARE[op]), _cast_param(col)), [value]
    if op in ("in", "not_in"):
        parts = [p.strip() for p in value.split(",")]
        return (
            sql.SQL("{} {} ({})").format(
                ref,
                sql.SQL("IN" if op == "in" else "NOT IN"),
                sql.SQL(", ").join([_cast_param(col)] * len(parts)),
            ),
            parts,
        )
    text = sql.SQL("{}::text").format(ref)
    if op == "contains":
        return sql.SQL("strpos({}, %s) > 0").format(text), [value]
    if op == "starts_with":
        return sql.SQL("left({}, char_length(%s)) = %s").format(text), [value, value]
    if op == "matches":
        return sql.SQL("{} ~ %s").format(text), [value]
    raise DomainError(_("Choose an operator from the list."), field="op")


def row_check(
    rule: QualityRule, columns: list[Column], *, today: dt.date, now, n: int
) -> RowCheck | None:
    """The SQL of a per-row rule, or None if the table no longer has what it needs."""
    by_name = {c.name: c for c in columns}
    p = rule.params or {}
    if rule.kind == K.CUSTOM:
        parts, params = [], []
        for cond in p.get("conditions", []):
            col = by_name.get(cond.get("column"))
            if col is None or cond.get("op") not in OPERATORS:
                return None
            part, part_params = _condition(col, cond["op"], cond.get("value", ""))
            parts.append(part)
            params += part_params
        if not parts:
            return None
        joined = sql.SQL(" OR " if p.get("join") == "or" else " AND ").join(parts)
        return RowCheck(rule, sql.SQL("NOT coalesce(({}), false)").format(joined), params)
    col = by_name.get(rule.column)
    if col is None:
        return None
    ref = sql.SQL("t.{}").format(sql.Identifier(col.name))
    if rule.kind == K.NOT_NULL:
        fails, params = _condition(col, "is_null", "")
        return RowCheck(rule, fails, params)
    if rule.kind == K.FORMAT:
        text = sql.SQL("{}::text").format(ref)
        checks, params = [], []
        if p.get("regex"):
            checks.append(sql.SQL("{} !~ %s").format(text))
            params.append(p["regex"])
        elif p.get("of_pattern"):
            return None
        if p.get("max"):
            measured = (
                sql.SQL("char_length(translate({}, '-.', ''))").format(text)
                if p.get("digits")
                else sql.SQL("char_length({})").format(text)
            )
            checks.append(sql.SQL("{} NOT BETWEEN %s AND %s").format(measured))
            params += [int(p.get("min") or 0), int(p["max"])]
        if not checks:
            return None
        inner = sql.SQL(" OR ").join(checks)
        blank = sql.SQL(" AND btrim({}) <> ''").format(ref) if is_text(col) else sql.SQL("")
        return RowCheck(
            rule, sql.SQL("({} IS NOT NULL{} AND ({}))").format(ref, blank, inner), params
        )
    if rule.kind == K.RANGE:
        checks, params = [], []
        if p.get("min") not in (None, ""):
            checks.append(sql.SQL("{} < {}").format(ref, _cast_param(col)))
            params.append(p["min"])
        if p.get("max") not in (None, ""):
            checks.append(sql.SQL("{} > {}").format(ref, _cast_param(col)))
            params.append(p["max"])
        if not checks:
            return None
        return RowCheck(rule, sql.SQL("({})").format(sql.SQL(" OR ").join(checks)), params)
    if rule.kind == K.FUTURE_FLAG:
        cast = "date" if col.type == "date" else "timestamp"
        return RowCheck(
            rule,
            sql.SQL("{} > CAST(%s AS {})").format(ref, sql.SQL(cast)),
            [today if cast == "date" else now.replace(tzinfo=None)],
        )
    alias = sql.Identifier(f"j{n}")
    if rule.kind == K.CODE_LIST:
        join = sql.SQL(
            "LEFT JOIN (SELECT DISTINCT code AS v FROM catalog_codevalue WHERE code_list_id = %s"
            " AND (valid_from IS NULL OR valid_from <= %s)"
            " AND (valid_to IS NULL OR valid_to >= %s)) {a} ON {a}.v = {r}::text"
        ).format(a=alias, r=ref)
        fails = sql.SQL("({r} IS NOT NULL AND {a}.v IS NULL)").format(r=ref, a=alias)
        if is_text(col):
            fails = sql.SQL("({r} IS NOT NULL AND btrim({r}) <> '' AND {a}.v IS NULL)").format(
                r=ref, a=alias
            )
        return RowCheck(rule, fails, [], join, [int(p["code_list"]), today, today])
    if rule.kind == K.REFERENCE:
        other = DatastoreTable.objects.filter(resource_id=p.get("resource")).first()
        if other is None or p.get("column") not in {d["name"] for d in other.columns}:
            return None
        from ..datastore import qualified

        other_col = sql.Identifier(p["column"])
        join = sql.SQL(
            "LEFT JOIN (SELECT DISTINCT {c}::text AS v FROM {tbl} WHERE {c} IS NOT NULL) {a}"
            " ON {a}.v = {r}::text"
        ).format(c=other_col, tbl=qualified(other), a=alias, r=ref)
        fails = sql.SQL("({r} IS NOT NULL AND {a}.v IS NULL)").format(r=ref, a=alias)
        return RowCheck(rule, fails, [], join, [])
    return None
