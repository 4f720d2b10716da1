"""Does a value satisfy a data element's format and value domain at a given date?

The one validation service other apps call (quality rules, aggregation, change-request impact):

    check = compile_validator(element, at=date(2024, 1, 1))
    check("420102")                       # None: valid
    check("42010X")                       # "Must be exactly 6 digits."
    validate_values(element, values)      # [(index, message), ...] for the invalid ones
    validate_value(element, value)        # one value

Formats follow the GB/T 19488.1 / GB/T 18391 notation of representations:

    c10 / c..50 / c2..50     characters (any), exactly 10 / at most 50 / 2 to 50
    n8 / n..12 / n2..12      ASCII digits only, counted the same way
    n..12,2                  a decimal of at most 12 digits, at most 2 after the point; an
                             optional leading minus sign and the point are not counted
    a..20 / an..18           ASCII letters / ASCII letters and digits
    YYYY-MM-DD, YYYYMMDD, YYYY-MM-DDThh:mm:ss, hh:mm:ss (and a few more GB/T 7408 forms, see
    TEMPORAL_FORMATS): real calendar dates and times
    (kind letters are case-insensitive: C..50 is c..50)

Lengths count characters (code points), not bytes: "武汉市" is 3 characters.

Rules, in the order they are checked: format, checksum (python-stdnum: GB 11643 citizen ID
numbers, GB 32100 credit codes), value domain (membership of the code list's values valid
at `at`, or a full match of the pattern). The empty value (and None) is valid: whether an
item may be empty is the item's business (`DataItem.nullable`), not the element's. Values are
checked as given: surrounding spaces make a value invalid. Non-string values are checked as
their `str()`.

A compiled validator is a plain object: the checks are specialised Python (len, str.isdigit,
one precompiled regex where that is simplest), the code list is a frozenset, the pattern one
compiled regex. Compiled validators are cached in this process (a small LRU) per element
content, code-list state and date, so validating a million values costs no query per value.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from wuhan_pdr.kernel.errors import DomainError

__all__ = [
    "CompiledValidator",
    "FormatSpec",
    "clear_cache",
    "compile_validator",
    "describe_format",
    "format_is_valid",
    "parse_format",
    "pattern_is_valid",
    "validate_value",
    "validate_values",
]

MAX_LENGTH = 100_000  # a format longer than this is a typo, not a representation

# kind (an before a), optional "min..", or "..", then max, then ",scale" (numbers only)
_LENGTH_FORMAT = re.compile(
    r"(?P<kind>an|a|n|c)(?:(?P<min>[0-9]+)?(?P<dots>\.\.))?(?P<max>[0-9]+)(?:,(?P<scale>[0-9]+))?",
    re.IGNORECASE,
)

# GB/T 7408 (ISO 8601) forms in use in Chinese data standards.
TEMPORAL_FORMATS = (
    "YYYY",
    "YYYY-MM",
    "YYYYMM",
    "YYYY-MM-DD",
    "YYYYMMDD",
    "YYYY-MM-DDThh:mm:ss",
    "YYYY-MM-DD hh:mm:ss",
    "YYYYMMDDhhmmss",
    "YYYYMMDDThhmmss",
    "hh:mm:ss",
    "hhmmss",
    "hh:mm",
)
_TOKENS = {
    "YYYY": "(?P<Y>[0-9]{4})",
    "MM": "(?P<M>[0-9]{2})",
    "DD": "(?P<D>[0-9]{2})",
    "hh": "(?P<h>[0-9]{2})",
    "mm": "(?P<m>[0-9]{2})",
    "ss": "(?P<s>[0-9]{2})",
}
_TOKEN_RE = re.compile("|".join(_TOKENS))


@dataclass(frozen=True)
class FormatSpec:
    """A parsed format: `kind` is c, n, a, an or "temporal"; lengths count characters (for
    n: digits); `scale` is the most digits after the point (None: an integer)."""

    text: str
    kind: str
    min_length: int = 0
    max_length: int | None = None
    scale: int | None = None


def parse_format(fmt: str) -> FormatSpec:
    """The parsed format, or a DomainError naming it when it is not one we know."""
    text = (fmt or "").strip()
    if text in TEMPORAL_FORMATS:
        return FormatSpec(text=text, kind="temporal")
    m = _LENGTH_FORMAT.fullmatch(text)
    if m is None:
        raise DomainError(
            _(
                "Unknown format “%(format)s”: use c..50, c10, n8, n..12, n..12,2, an..18, a..20, "
                "YYYY-MM-DD, YYYYMMDD, YYYY-MM-DDThh:mm:ss or hh:mm:ss."
            )
            % {"format": fmt},
            field="format",
            code="unknown_format",
        )
    kind = m["kind"].lower()
    high = int(m["max"])
    low = (int(m["min"]) if m["min"] else 0) if m["dots"] else high
    scale = int(m["scale"]) if m["scale"] is not None else None
    if (
        high < 1
        or high > MAX_LENGTH
        or low > high
        or (scale is not None and (kind != "n" or scale > high))
    ):
        raise DomainError(
            _("Unknown format “%(format)s”: its lengths do not make sense.") % {"format": fmt},
            field="format",
            code="unknown_format",
        )
    return FormatSpec(text=text, kind=kind, min_length=low, max_length=high, scale=scale)


def format_is_valid(fmt: str) -> bool:
    """Whether `fmt` is a format we can check (for forms)."""
    try:
        parse_format(fmt)
    except DomainError:
        return False
    return True


def pattern_is_valid(pattern: str) -> bool:
    """Whether `pattern` compiles as a (Python) regular expression."""
    try:
        re.compile(pattern)
    except (re.error, TypeError, RecursionError):
        return False
    return True


def _what(spec: FormatSpec) -> str:
    """What a value of this format is, as the end of a sentence ("Must be ...")."""
    if spec.kind == "temporal":
        return _("a date or time written as %(format)s") % {"format": spec.text}
    low, high = spec.min_length, spec.max_length
    if spec.kind == "n" and spec.scale is not None:
        if low == high:
            return _(
                "a number of exactly %(n)d digits, at most %(scale)d after the decimal point"
            ) % {
                "n": high,
                "scale": spec.scale,
            }
        return _("a number of at most %(n)d digits, at most %(scale)d after the decimal point") % {
            "n": high,
            "scale": spec.scale,
        }
    if spec.kind == "n":
        if low == high:
            return _("exactly %(n)d digits") % {"n": high}
        if low:
            return _("%(min)d to %(max)d digits") % {"min": low, "max": high}
        return _("at most %(n)d digits") % {"n": high}
    if spec.kind == "a":
        if low == high:
            return _("exactly %(n)d letters") % {"n": high}
        if low:
            return _("%(min)d to %(max)d letters") % {"min": low, "max": high}
        return _("at most %(n)d letters") % {"n": high}
    if spec.kind == "an":
        if low == high:
            return _("exactly %(n)d letters or digits") % {"n": high}
        if low:
            return _("%(min)d to %(max)d letters or digits") % {"min": low, "max": high}
        return _("at most %(n)d letters or digits") % {"n": high}
    if low == high:
        return _("exactly %(n)d characters") % {"n": high}
    if low:
        return _("%(min)d to %(max)d characters") % {"min": low, "max": high}
    return _("at most %(n)d characters") % {"n": high}


def describe_format(fmt: str) -> str:
    """A human description of a format ("at most 50 characters"), for pages and forms."""
    return _what(parse_format(fmt))


# --- compiled format checks -----------------------------------------------------------------
# Each returns True when the (non-empty, str) value has the format.


def _length_ok(low: int, high: int) -> Callable[[str], bool]:
    if low == high:
        return lambda v: len(v) == high
    if low <= 1:
        return lambda v: len(v) <= high
    return lambda v: low <= len(v) <= high


def _format_check(spec: FormatSpec) -> Callable[[str], bool]:
    low, high = spec.min_length, spec.max_length or 0
    if spec.kind == "c":
        return _length_ok(low, high)
    if spec.kind == "n" and spec.scale is None:
        if low == high:
            return lambda v: len(v) == high and v.isdigit() and v.isascii()
        return lambda v: low <= len(v) <= high and v.isdigit() and v.isascii()
    if spec.kind == "a":
        if low == high:
            return lambda v: len(v) == high and v.isalpha() and v.isascii()
        return lambda v: low <= len(v) <= high and v.isalpha() and v.isascii()
    if spec.kind == "an":
        if low == high:
            return lambda v: len(v) == high and v.isalnum() and v.isascii()
        return lambda v: low <= len(v) <= high and v.isalnum() and v.isascii()
    if spec.kind == "n":  # a decimal
        rx = re.compile(_format_regex(spec))
        fullmatch = rx.fullmatch
        return lambda v: fullmatch(v) is not None
    rx = re.compile(_format_regex(spec))
    fullmatch = rx.fullmatch

    def temporal(v: str) -> bool:
        m = fullmatch(v)
        if m is None:
            return False
        parts = m.groupdict()
        try:
            if parts.get("Y"):
                dt.date(int(parts["Y"]), int(parts.get("M") or 1), int(parts.get("D") or 1))
            if parts.get("h"):
                dt.time(int(parts["h"]), int(parts.get("m") or 0), int(parts.get("s") or 0))
        except ValueError:
            return False
        return True

    return temporal


_STRICT_TOKENS = {
    "YYYY": "(?!0000)[0-9]{4}",
    "MM": "(?:0[1-9]|1[0-2])",
    "DD": "(?:0[1-9]|1[0-9]|2[0-8])",  # 29-31 depend on the month: checked one by one
    "hh": "(?:[01][0-9]|2[0-3])",
    "mm": "[0-5][0-9]",
    "ss": "[0-5][0-9]",
}


def _format_regex(spec: FormatSpec, *, strict: bool = False) -> str:
    """A regex (without anchors) that a value of the format fully matches. Exact for
    character-class formats and decimals. For dates and times it checks the shape only, or
    with `strict` it matches only values that are surely valid (days 29 to 31 excluded)."""
    low, high = spec.min_length, spec.max_length or 0
    if spec.kind == "temporal":
        tokens = _STRICT_TOKENS if strict else _TOKENS
        out, pos = [], 0
        for m in _TOKEN_RE.finditer(spec.text):
            out.append(re.escape(spec.text[pos : m.start()]))
            out.append(tokens[m.group()])
            pos = m.end()
        out.append(re.escape(spec.text[pos:]))
        return "".join(out)
    count = f"{{{high}}}" if low == high else f"{{{max(low, 1)},{high}}}"
    if spec.kind == "n" and spec.scale is not None:
        # The total digit count decides: integer digits + fraction digits within [low, high].
        branches = []
        for frac in range(0, spec.scale + 1):
            ints_high = high - frac
            ints_low = max(low - frac, 1)
            if ints_high < 1 or ints_low > ints_high:
                continue
            ints = f"[0-9]{{{ints_low},{ints_high}}}"
            branches.append(ints if frac == 0 else f"{ints}\\.[0-9]{{{frac}}}")
        return "-?(?:" + "|".join(branches) + ")"
    klass = {"n": "[0-9]", "a": "[A-Za-z]", "an": "[0-9A-Za-z]", "c": "."}[spec.kind]
    return klass + count


# --- checksums (python-stdnum) --------------------------------------------------------------


def _check_ric(value: str) -> str | None:
    if value != ric.compact(value):
        return _("Write the ID number without spaces, with a capital X.")
    try:
        ric.validate(value)
    except stdnum_errors.InvalidChecksum:
        return _("The check digit of this citizen ID number is wrong.")
    except stdnum_errors.InvalidComponent:
        return _("This citizen ID number has no valid birth date or region code.")
    except stdnum_errors.ValidationError:
        return _("This is not a valid citizen ID number (18 characters, GB 11643).")
    return None


def _check_uscc(value: str) -> str | None:
    if value != uscc.compact(value):
        return _("Write the credit code without spaces, in capital letters.")
    try:
        uscc.validate(value)
    except stdnum_errors.InvalidChecksum:
        return _("The check character of this unified social credit code is wrong.")
    except stdnum_errors.ValidationError:
        return _("This is not a valid unified social credit code (18 characters, GB 32100).")
    return None


CHECKSUMS: dict[str, Callable[[str], str | None]] = {"cn_ric": _check_ric, "cn_uscc": _check_uscc}


# --- the compiled validator -----------------------------------------------------------------

_CHUNK = 65_536  # values joined per regex pass in bulk


class CompiledValidator:
    """Checks one value (`validator(value) -> None | message`) or many (`.bulk(values)`).

    `.bulk` first finds the values that may be invalid with one cheap pass that is exact
    for the case at hand (set membership for a code list, lengths for `c`, one regex over the
    joined values for digit and letter formats), then explains those one by one."""

    def __init__(
        self,
        *,
        spec: FormatSpec,
        checksum: str = "",
        codes: frozenset[str] | None = None,
        code_list_name: str = "",
        pattern: re.Pattern | None = None,
        at: dt.date,
    ):
        self.spec = spec
        self.at = at
        self.checksum = checksum
        self.codes = codes
        self.pattern = pattern
        self._code_list_name = code_list_name
        self._format_ok = _format_check(spec)
        self._checksum = CHECKSUMS[checksum] if checksum else None
        self._pattern_match = pattern.fullmatch if pattern is not None else None
        self._message_cache: dict[str, dict[str, str]] = {}
        # The valid non-empty strings, when they can be listed: the codes that also pass the
        # format and checksum. Membership then decides alone.
        self.accepted: frozenset[str] | None = None
        if codes is not None:
            self.accepted = frozenset(
                [c for c in codes if self._explain(c, None, domain=False) is None] + [""]
            )
        self._good_lines = None
        if codes is None and pattern is None and not checksum and spec.kind != "c":
            # A run of lines each empty or surely valid, taken whole (see _bad_lines).
            self._good_lines = re.compile(rf"(?:(?:{_format_regex(spec, strict=True)})?\n)*+")

    def __call__(self, value) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            value = str(value)
        if value == "":
            return None
        return self._explain(value, self._messages())

    def _messages(self) -> dict[str, str]:
        """The messages in the active language, made once per language (gettext per
        invalid value would cost more than the checks)."""
        language = translation.get_language() or ""
        messages = self._message_cache.get(language)
        if messages is None:
            messages = {
                "format": _("Must be %(what)s.") % {"what": _what(self.spec)},
                "code": _("“%(value)s” is not a code of %(code_list)s valid on %(date)s.")
                % {
                    "value": "\x00",  # put in per value (PostgreSQL text never holds NUL)
                    "code_list": self._code_list_name,
                    "date": self.at.isoformat(),
                },
                "pattern": _("Does not match the pattern of this data element."),
            }
            self._message_cache[language] = messages
        return messages

    def _explain(
        self, value: str, messages: dict[str, str] | None, *, domain: bool = True
    ) -> str | None:
        """Why the non-empty string `value` is invalid (None: it is valid). With `messages`
        None, any reason is "invalid" (used to list the valid codes quickly)."""
        if not self._format_ok(value):
            return messages["format"] if messages else "invalid"
        if self._checksum is not None:
            reason = self._checksum(value)
            if reason:
                return reason
        if domain:
            if self.codes is not None and value not in self.codes:
                return messages["code"].replace("\x00", value[:50])
            if self._pattern_match is not None and self._pattern_match(value) is None:
                return messages["pattern"]
        return None

    def bulk(self, values: Sequence | Iterable) -> list[tuple[int, str]]:
        """(index, message) for every invalid value, in order."""
        if not isinstance(values, Sequence):
            values = list(values)
        try:
            candidates = self._candidates(values)
        except TypeError:  # a value that is not a string: check them all one by one
            candidates = range(len(values))
        messages = self._messages()
        explain = self._explain
        out = []
        for i in candidates:
            value = values[i]
            if value is None:
                continue
            if not isinstance(value, str):
                value = str(value)
            if value:
                message = explain(value, messages)
                if message is not None:
                    out.append((i, message))
        return out

    def _candidates(self, values: Sequence) -> Iterable[int]:
        """Indices of the values that may be invalid; every invalid one is among them."""
        if self.accepted is not None:
            accepted = self.accepted
            return [i for i, v in enumerate(values) if v not in accepted]
        if self.pattern is None and not self.checksum:
            spec = self.spec
            if spec.kind == "c":
                low, high = max(spec.min_length, 1), spec.max_length
                if not values or (
                    max(map(len, values)) <= high and (low <= 1 or min(map(len, values)) >= low)
                ):
                    return []  # the usual case, found in C
                return [i for i, n in enumerate(map(len, values)) if n > high or 0 < n < low]
            if self._good_lines is not None:
                return self._bad_lines(values)
        return range(len(values))

    def _bad_lines(self, values: Sequence) -> list[int]:
        """The values joined by newlines, chunk by chunk; one regex skips each run of good
        lines in C, and every place it stops at is a line that may be invalid. A chunk with a
        value holding a newline itself is checked value by value."""
        match = self._good_lines.match
        out: list[int] = []
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            text = "\n".join(chunk) + "\n"
            if text.count("\n") != len(chunk):
                out.extend(range(start, start + len(chunk)))
                continue
            end, pos, line = len(text), 0, start
            while True:
                stop = match(text, pos).end()
                if stop >= end:
                    break
                line += text.count("\n", pos, stop)
                out.append(line)
                pos = text.index("\n", stop) + 1
                line += 1
        return out


# --- compiling elements, with a small per-process cache -------------------------------------

_CACHE_SIZE = 64
_CACHE_SECONDS = 300  # a code list changed outside the importer is seen after this at most
_cache: OrderedDict[tuple, tuple[float, CompiledValidator]] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every compiled validator of this process (tests, after bulk changes)."""
    with _lock:
        _cache.clear()


def _today() -> dt.date:
    return timezone.localdate()


def compile_validator(element, *, at: dt.date | None = None) -> CompiledValidator:
    """The validator of `element` (a DataElement, saved or not) for values of date `at`
    (default: today in Asia/Shanghai). Raises DomainError for an unknown format, a bad
    pattern, or a value domain that names no code list or pattern."""
    at = at or _today()
    domain = element.domain_kind or "none"
    code_list = element.code_list if domain == "code_list" and element.code_list_id else None
    key = (
        element.pk,
        element.version,
        element.format,
        domain,
        element.code_list_id if domain == "code_list" else None,
        code_list.updated_at if code_list is not None else None,
        element.pattern if domain == "pattern" else "",
        element.checksum or "",
        at,
    )
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < _CACHE_SECONDS:
            _cache.move_to_end(key)
            return hit[1]
    validator = _compile(element, domain=domain, code_list=code_list, at=at)
    with _lock:
        _cache[key] = (now, validator)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return validator


def _compile(element, *, domain: str, code_list, at: dt.date) -> CompiledValidator:
    from django.db.models import Q

    from .models import CodeValue

    spec = parse_format(element.format)
    checksum = element.checksum or ""
    if checksum and checksum not in CHECKSUMS:
        raise DomainError(
            _("Unknown checksum rule “%(rule)s”.") % {"rule": checksum}, field="checksum"
        )
    codes = None
    pattern = None
    name = ""
    if domain == "code_list":
        if code_list is None:
            raise DomainError(
                _("The value domain is a code list, but no code list is chosen."), field="code_list"
            )
        codes = frozenset(
            CodeValue.objects.filter(code_list_id=code_list.pk)
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at))
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=at))
            .values_list("code", flat=True)
        )
        name = code_list.name
    elif domain == "pattern":
        if not element.pattern:
            raise DomainError(
                _("The value domain is a pattern, but the pattern is empty."), field="pattern"
            )
        try:
            pattern = re.compile(element.pattern)
        except (re.error, RecursionError) as exc:
            raise DomainError(
                _("The pattern is not a valid regular expression: %(error)s") % {"error": exc},
                field="pattern",
            ) from exc
    return CompiledValidator(
        spec=spec, checksum=checksum, codes=codes, code_list_name=name, pattern=pattern, at=at
    )


def validate_value(element, value, at: dt.date | None = None) -> str | None:
    """None when `value` satisfies `element` at `at`, else a short message."""
    return compile_validator(element, at=at)(value)


def validate_values(
    element, values: Iterable, *, at: dt.date | None = None
) -> list[tuple[int, str]]:
    """(index, message) for each value of `values` that does not satisfy `element` at `at`."""
    return compile_validator(element, at=at).bulk(values)
