"""The one masking path: every stored value shown to a person passes through here.

A masking rule is data (`security.masking_rules.MaskingRule`, chosen per data element and per
catalog item); what this module reads of it is a `Mask`: a method and its parameters, free of
the database. Each method is written twice and the two must agree on every value:

- in SQL (`mask_expression`, `masked_select`): the data preview, objections, impact counts and
  the zones' SECURITY DEFINER functions select rows already masked, so a clear value of a
  masked column never reaches Python;
- in Python (`mask_value`, `mask_row`): values shown outside SQL (a stored snapshot, a sample
  value quoted in a message).

Both work on the value's text as PostgreSQL writes it (`pg_text`): a date is `2024-05-06`, a
boolean `true`, a double `1e+20`. NULL stays NULL. The methods:

- `replace`: the whole value becomes the rule's replacement text (default `***`);
- `keep_ends`: the first `first` and last `last` characters stay, the rest becomes `*`, at most
  `max_stars` of them (so the length of a long value is not told); a value no longer than
  `first + last` becomes all `*` (capped likewise). `keep_ends(1, 1)` is the masking the portal
  had before rules existed;
- `middle`: the middle third becomes `*` (one per character); a value shorter than 3 all `*`;
- `hmac`: hex HMAC-SHA256 of the text under `MASKING_HMAC_KEY` (pgcrypto `hmac()`): equal
  values stay equal, so joins still work, but nothing of the value is told;
- `year` / `month`: a date (or a text beginning `YYYY-MM`) as `YYYY` / `YYYY-MM`; any other
  text becomes the replacement;
- `district`: an address becomes the first Wuhan district it names (`WUHAN_DISTRICTS`), or the
  replacement where it names none;
- `round`: a number rounded half away from zero to `digits` decimal places (negative: tens,
  hundreds, ...) or, where `multiple` is set, to the nearest multiple of it; a text that is no
  number becomes the replacement.

The keyed hash may be stored (decision "stored-keyed-hash"): a datastore table carries, beside
each column whose rule is `hmac`, a companion column (`stored_hash_column`) filled when the
rows are written, with the hex HMAC of the value's text under the key whose
`key_fingerprint` the caller records. `mask_expression(..., stored=StoredHash(ref, fp))` then
reads the companion, but only when the key the statement masks with has that fingerprint
(checked once per statement); under any other key it computes the hash as before. So a rotated
key or a companion not yet filled is never wrong, only as slow as the live hash.

A masked column is never a sort key nor a filter (an HMAC compared with a chosen value would
be an oracle): the read functions of `security.zones` keyset by unmasked key columns (a table
with a masked key pages in storage order) and the callers seal the cursors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac as _hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from psycopg import sql

REPLACE = "replace"
KEEP_ENDS = "keep_ends"
MIDDLE = "middle"
HMAC = "hmac"
YEAR = "year"
MONTH = "month"
DISTRICT = "district"
ROUND = "round"
METHODS = (REPLACE, KEEP_ENDS, MIDDLE, HMAC, YEAR, MONTH, DISTRICT, ROUND)

STAR = "*"
DEFAULT_REPLACEMENT = "***"

# Wuhan's thirteen districts (GB/T 2260, 4201xx); an address is masked to the first it names.
WUHAN_DISTRICTS = (
    "江岸区",
    "江汉区",
    "硚口区",
    "汉阳区",
    "武昌区",
    "青山区",
    "洪山区",
    "东西湖区",
    "汉南区",
    "蔡甸区",
    "江夏区",
    "黄陂区",
    "新洲区",
)
_DISTRICT_PATTERN = "(" + "|".join(WUHAN_DISTRICTS) + ")"
_DISTRICT_RE = re.compile(_DISTRICT_PATTERN)
# [0-9], never \d: both sides must read the same digits (Python's \d takes any Unicode digit).
_YEAR_PATTERN = "^[0-9]{4}"
_MONTH_PATTERN = "^[0-9]{4}-[0-9]{2}"
# A number in text: bounded, so the cast to numeric never fails (nor takes long).
_NUMBER_PATTERN = "^-?[0-9]{1,30}([.][0-9]{1,30})?([eE][-+]?[0-9]{1,2})?$"
_YEAR_RE = re.compile(_YEAR_PATTERN)
_MONTH_RE = re.compile(_MONTH_PATTERN)
_NUMBER_RE = re.compile(_NUMBER_PATTERN)

DATE_TYPES = ("date", "timestamp", "timestamp without time zone")
NUMBER_TYPES = ("numeric", "double precision", "integer", "bigint", "smallint", "real")


@dataclass(frozen=True)
class Mask:
    """A masking method and its parameters (what the SQL and Python twins read of a rule)."""

    method: str = KEEP_ENDS
    first: int = 1
    last: int = 1
    max_stars: int = 8
    replacement: str = DEFAULT_REPLACEMENT
    digits: int = 0
    multiple: Decimal | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown masking method {self.method!r}")
        if self.first < 0 or self.last < 0 or self.max_stars < 1:
            raise ValueError("first and last must be >= 0, max_stars >= 1")
        if self.multiple is not None:
            object.__setattr__(self, "multiple", Decimal(str(self.multiple)))
            if self.multiple <= 0:
                raise ValueError("multiple must be positive")


DEFAULT_MASK = Mask()  # first and last character, at most eight stars: the portal's old masking


def as_mask(rule) -> Mask | None:
    """`rule` as a `Mask`: a Mask, anything with a `.mask` (a MaskingRule), or None."""
    if rule is None or isinstance(rule, Mask):
        return rule
    mask = getattr(rule, "mask", None)
    if isinstance(mask, Mask):
        return mask
    raise TypeError(f"not a masking rule: {rule!r}")


def hmac_key() -> str:
    """The key of the `hmac` method (settings.MASKING_HMAC_KEY)."""
    from django.conf import settings

    return settings.MASKING_HMAC_KEY


# --- the stored keyed hash ---------------------------------------------------------------

STORED_HASH_PREFIX = "_hmac_"
# What the key's fingerprint is the HMAC of (not a value any column holds a hash of).
_FINGERPRINT_LABEL = "wuhan-pdr masking key fingerprint 1"


def stored_hash_column(name: str) -> str:
    """The companion column holding the keyed hash of column `name`. Data columns start with
    a letter (aggregation's column rule), so a name starting with `_` is never one; a long
    name is cut and made unique by a digest (PostgreSQL keeps 63 bytes of an identifier)."""
    full = STORED_HASH_PREFIX + name
    if len(full.encode()) <= 63:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{STORED_HASH_PREFIX}{name[:40]}_{digest}"


def key_fingerprint(key: str | None = None) -> str:
    """What identifies the masking key without telling it: hex HMAC-SHA256 of a fixed label
    under the key (the key itself is long and random in production, settings refuse less).
    The same as `key_fingerprint_sql` computes."""
    secret = (key if key is not None else hmac_key()).encode()
    return _hmac.new(secret, _FINGERPRINT_LABEL.encode(), hashlib.sha256).hexdigest()


def key_fingerprint_sql(key_sql: sql.Composable) -> sql.Composable:
    return sql.SQL("encode(public.hmac({}, {}::text, 'sha256'), 'hex')").format(
        _lit(_FINGERPRINT_LABEL), key_sql
    )


class KeyedHasher:
    """The `hmac` method in Python for many values under one key: the key's inner and outer
    digests are computed once and copied per value (a third of `hmac.digest`'s time). Gives
    what `mask_value(text, Mask(HMAC))` and the SQL give for the same text."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: str | None = None):
        secret = (key if key is not None else hmac_key()).encode()
        if len(secret) > 64:
            secret = hashlib.sha256(secret).digest()
        secret = secret.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        inner = self._inner.copy()
        inner.update(text.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@dataclass(frozen=True)
class StoredHash:
    """A column's keyed hash stored beside it: `ref` the companion column as SQL, `fingerprint`
    the key (`key_fingerprint`) every row of it was filled under."""

    ref: sql.Composable
    fingerprint: str


def keyed_hash_sql(
    column: sql.Composable, *, sql_type: str | None = None, key_sql: sql.Composable
) -> sql.Composable:
    """The hex HMAC-SHA256 of the column's text under `key_sql` (what a load stores)."""
    return mask_expression(column, Mask(HMAC), sql_type=sql_type, hmac_key_sql=key_sql)


# --- the Python twin ----------------------------------------------------------------------


def pg_text(value) -> str | None:
    """`value` as PostgreSQL's text output writes it (what `value::text` gives in SQL)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"
        return format(value, "f")
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        text = f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value:%H:%M:%S}"
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        if value.tzinfo is not None:
            raise ValueError("timestamps with time zone are not masked by text")
        return text
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def _float_text(value: float) -> str:
    """A double as PostgreSQL 12+ writes it: the shortest exact digits, in exponent form when
    the decimal exponent is below -4 or at least 15."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits_s = "".join(map(str, digits))
    point = len(digits_s) + exponent  # decimal exponent + 1
    neg = "-" if sign else ""
    if -4 < point <= 15:
        if exponent >= 0:
            return neg + digits_s + "0" * exponent
        if point > 0:
            return neg + digits_s[:point] + "." + digits_s[point:]
        return neg + "0." + "0" * (-point) + digits_s
    mantissa = digits_s[0] + ("." + digits_s[1:] if len(digits_s) > 1 else "")
    e = point - 1
    return f"{neg}{mantissa}e{'-' if e < 0 else '+'}{abs(e):02d}"


def mask_value(value, rule=DEFAULT_MASK, *, key: str | None = None) -> str | None:
    """`value` as it may be shown under `rule` (a Mask or MaskingRule); None stays None.
    Agrees with `mask_expression` on the same value."""
    mask = as_mask(rule)
    if mask is None:
        return value
    if value is None:
        return None
    method = mask.method
    if method in (YEAR, MONTH) and isinstance(value, dt.date):
        if method == YEAR:
            return f"{value.year:04d}"
        return f"{value.year:04d}-{value.month:02d}"
    text = pg_text(value)
    if method == REPLACE:
        return mask.replacement
    if method == KEEP_ENDS:
        n = len(text)
        if n <= mask.first + mask.last:
            return STAR * min(n, mask.max_stars)
        tail = text[n - mask.last :] if mask.last else ""
        return text[: mask.first] + STAR * min(n - mask.first - mask.last, mask.max_stars) + tail
    if method == MIDDLE:
        n = len(text)
        if n < 3:
            return STAR * n
        k = n // 3
        return text[:k] + STAR * (n - 2 * k) + text[n - k :]
    if method == HMAC:
        secret = (key if key is not None else hmac_key()).encode()
        return _hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()
    if method == YEAR:
        m = _YEAR_RE.match(text)
        return m.group(0) if m else mask.replacement
    if method == MONTH:
        m = _MONTH_RE.match(text)
        return m.group(0) if m else mask.replacement
    if method == DISTRICT:
        m = _DISTRICT_RE.search(text)
        return m.group(0) if m else mask.replacement
    if method == ROUND:
        if text in ("NaN", "Infinity", "-Infinity"):
            return mask.replacement
        if isinstance(value, float):
            # PostgreSQL casts a double to numeric with 15 significant digits
            number = Decimal(format(value, ".15g"))
        elif (isinstance(value, Decimal | int) and not isinstance(value, bool)) or _NUMBER_RE.match(
            text
        ):
            number = Decimal(text)
        else:
            return mask.replacement
        if mask.multiple is not None:
            rounded = (number / mask.multiple).quantize(Decimal(1), ROUND_HALF_UP) * mask.multiple
        else:
            rounded = number.quantize(Decimal(1).scaleb(-mask.digits), ROUND_HALF_UP)
        if rounded == 0:
            rounded = abs(rounded)
        return format(rounded, "f")
    raise ValueError(method)  # pragma: no cover


def mask_row(
    names: Sequence[str],
    row: Iterable,
    masked: set[str] | frozenset[str] | Mapping[str, object],
    *,
    key: str | None = None,
) -> list:
    """One row (values in the order of `names`) with the masked columns masked: `masked` maps
    a column to its rule, or is a set of columns masked by the default rule."""
    rules = masked if isinstance(masked, Mapping) else dict.fromkeys(masked, DEFAULT_MASK)
    return [
        mask_value(v, rules[n], key=key) if rules.get(n) is not None else v
        for n, v in zip(names, row, strict=False)
    ]


# --- the SQL builder ----------------------------------------------------------------------


def _lit(value) -> sql.Literal:
    return sql.Literal(value)


def mask_expression(
    column: sql.Composable,
    rule,
    *,
    sql_type: str | None = None,
    hmac_key_sql: sql.Composable | None = None,
    stored: StoredHash | None = None,
) -> sql.Composable:
    """The SQL expression of `column` (an identifier or any expression) masked by `rule`, a
    text (or NULL). `sql_type` is the column's type (e.g. `date`, `numeric(18,2)`; unknown
    or None: read as `::text`). `hmac_key_sql` is the key of the `hmac` method as SQL (default:
    settings.MASKING_HMAC_KEY as a literal; a definer function passes its argument).
    `stored`: the column's keyed hash stored beside it (used by the `hmac` method only, and
    only where `hmac_key_sql` is the key it was stored under)."""
    mask = as_mask(rule)
    if mask is None:
        return column
    base_type = (sql_type or "").split("(")[0].strip().lower()
    method = mask.method
    if method in (YEAR, MONTH) and base_type in DATE_TYPES:
        return _date_part_sql(column, method)
    if base_type in ("text", "varchar", "character varying"):
        v = column
    else:
        v = sql.SQL("({})::text").format(column)
    if method == REPLACE:
        return sql.SQL("CASE WHEN {} IS NULL THEN NULL ELSE {}::text END").format(
            column, _lit(mask.replacement)
        )
    if method == KEEP_ENDS:
        # The stars are cut from a literal of `max_stars` of them (`left` of it: at most that
        # many, none for 0): one call where `repeat(least(...))` took two.
        n = sql.SQL("char_length({})").format(v)
        stars = _lit(STAR * mask.max_stars)
        short = sql.SQL("left({}, {})").format(stars, n)
        parts = []
        if mask.first:
            parts.append(sql.SQL("left({}, {})").format(v, _lit(mask.first)))
        parts.append(sql.SQL("left({}, {} - {})").format(stars, n, _lit(mask.first + mask.last)))
        if mask.last:
            parts.append(sql.SQL("right({}, {})").format(v, _lit(mask.last)))
        return sql.SQL("CASE WHEN {} <= {} THEN {} ELSE {} END").format(
            n, _lit(mask.first + mask.last), short, sql.SQL(" || ").join(parts)
        )
    if method == MIDDLE:
        n = sql.SQL("char_length({})").format(v)
        return sql.SQL(
            "CASE WHEN {n} < 3 THEN repeat('*', {n}) ELSE left({v}, {n} / 3)"
            " || repeat('*', {n} - 2 * ({n} / 3)) || right({v}, {n} / 3) END"
        ).format(n=n, v=v)
    if method == HMAC:
        key_sql = hmac_key_sql if hmac_key_sql is not None else _lit(hmac_key())
        live = sql.SQL("encode(public.hmac({}, {}::text, 'sha256'), 'hex')").format(v, key_sql)
        if stored is None:
            return live
        # The key check is an uncorrelated subquery: one InitPlan, computed once a statement.
        return sql.SQL("CASE WHEN (SELECT {} = {}) THEN {} ELSE {} END").format(
            key_fingerprint_sql(key_sql), _lit(stored.fingerprint), stored.ref, live
        )
    if method == DISTRICT:
        return _district_sql(v, mask)
    if method in (YEAR, MONTH):
        pattern = {YEAR: _YEAR_PATTERN, MONTH: _MONTH_PATTERN}[method]
        return sql.SQL(
            "CASE WHEN {v} IS NULL THEN NULL ELSE coalesce(substring({v} from {p}), {r}::text) END"
        ).format(v=v, p=_lit(pattern), r=_lit(mask.replacement))
    if method == ROUND:
        if base_type in NUMBER_TYPES:
            number = sql.SQL("({})::numeric").format(column)
            guard = sql.SQL("{}::text IN ('NaN', 'Infinity', '-Infinity')").format(column)
        else:
            number = sql.SQL("({})::numeric").format(v)
            guard = sql.SQL("{} IS NULL OR {} !~ {}").format(v, v, _lit(_NUMBER_PATTERN))
        if mask.multiple is not None:
            m = sql.SQL("{}::numeric").format(_lit(str(mask.multiple)))
            rounded = sql.SQL("round({} / {}) * {}").format(number, m, m)
        else:
            rounded = sql.SQL("round({}, {})").format(number, _lit(mask.digits))
        return sql.SQL(
            "CASE WHEN {c} IS NULL THEN NULL WHEN {g} THEN {r}::text ELSE ({x})::text END"
        ).format(c=column, g=guard, r=_lit(mask.replacement), x=rounded)
    raise ValueError(method)  # pragma: no cover


# The session writes dates as ISO (`YYYY-MM-DD`, the default and what psycopg reads): asked
# once per query (an uncorrelated subquery is an InitPlan), not once per row.
_ISO_DATES = sql.SQL("(SELECT current_setting('DateStyle') LIKE 'ISO%')")


def _date_part_sql(column: sql.Composable, method: str) -> sql.Composable:
    """A date's (or timestamp's) year or year-month. Where the session writes dates as ISO
    and the year has four digits (AD 1-9999, every date Python can hold), that is the first
    4 or 7 characters of its text, which the plain SELECT writes anyway; `to_char` (as dear
    as the read of the column) only for any other date or date style. Same text either way."""
    fmt, width = ("YYYY", 4) if method == YEAR else ("YYYY-MM", 7)
    return sql.SQL(
        "CASE WHEN {iso} AND {c} >= '0001-01-01' AND {c} < '10000-01-01'"
        " THEN left(({c})::text, {w}) ELSE to_char({c}, {f}) END"
    ).format(iso=_ISO_DATES, c=column, w=_lit(width), f=_lit(fmt))


_THREE = tuple(d for d in WUHAN_DISTRICTS if len(d) == 3)
_FOUR = tuple(d for d in WUHAN_DISTRICTS if len(d) == 4)


def _district_sql(v: sql.Composable, mask: Mask) -> sql.Composable:
    """The first district an address names. Every district name ends in 区 and has no other
    区, so a district that ends at the first 区 is the leftmost one: the three characters
    ending there are cut once (`strpos`, `substr`) and compared in a simple CASE (its operand
    is evaluated once); the four-character district is tried next, and only where neither
    ends there does the regular expression run (the Python twin's `re.search`, which finds
    the same). No 区 at all: no district."""
    first = sql.SQL("strpos({}, '区')").format(v)
    three = sql.SQL("substr({}, {} - 2, 3)").format(v, first)
    four = sql.SQL("substr({}, {} - 3, 4)").format(v, first)
    return sql.SQL(
        "CASE WHEN {v} IS NULL THEN NULL ELSE CASE {three} {threes} ELSE CASE"
        " WHEN {first} = 0 THEN {r}::text"
        " WHEN {four} IN ({fours}) THEN {four}"
        " ELSE coalesce(substring({v} from {p}), {r}::text) END END END"
    ).format(
        v=v,
        first=first,
        r=_lit(mask.replacement),
        three=three,
        threes=sql.SQL(" ").join(
            sql.SQL("WHEN {d} THEN {d}").format(d=sql.SQL("{}::text").format(_lit(d)))
            for d in _THREE
        ),
        four=four,
        fours=sql.SQL(", ").join(_lit(d) for d in _FOUR),
        p=_lit(_DISTRICT_PATTERN),
    )


def masked_select(
    columns: Sequence,
    rules: Mapping[str, object],
    *,
    qualifier: str | None = None,
    hmac_key_sql: sql.Composable | None = None,
    stored: Mapping[str, str] | None = None,
) -> sql.Composed:
    """The select list `<expr> AS "col", ...` for `columns` (names, or objects with `.name`
    and `.type` such as aggregation's datastore `Column`), each masked by `rules[name]` (a
    Mask or MaskingRule; a column without rule, or with None, is selected plain). `qualifier`
    prefixes the column references (a table alias). `stored` maps a column whose keyed hash
    the table stores (`stored_hash_column`) to the fingerprint of the key it was stored
    under: its `hmac` rule reads the stored hash where the key is that one."""
    out = []
    for col in columns:
        name = col if isinstance(col, str) else col.name
        sql_type = None if isinstance(col, str) else getattr(col, "type", None)
        ref = sql.Identifier(qualifier, name) if qualifier else sql.Identifier(name)
        rule = rules.get(name)
        if rule is None:
            out.append(
                ref if not qualifier else sql.SQL("{} AS {}").format(ref, sql.Identifier(name))
            )
            continue
        fingerprint = (stored or {}).get(name)
        kept = None
        if fingerprint:
            companion = stored_hash_column(name)
            kept = StoredHash(
                ref=sql.Identifier(qualifier, companion)
                if qualifier
                else sql.Identifier(companion),
                fingerprint=fingerprint,
            )
        expr = mask_expression(ref, rule, sql_type=sql_type, hmac_key_sql=hmac_key_sql, stored=kept)
        out.append(sql.SQL("{} AS {}").format(expr, sql.Identifier(name)))
    return sql.SQL(", ").join(out)
