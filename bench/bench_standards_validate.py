"""Issue #4: the standards validation service in bulk.

1,000,000 values of an "administrative division code" column (codes of the real 2,978-value
county-level list, with 1% wrong codes, malformed values and empties mixed in, in a fixed
random order) are validated through `validate_values`:

- against the format `n6` alone (an element with no value domain), and
- against the area code list (an element of format n6 whose value domain is the list,
  imported from tests/data/admin-divisions/areas.csv into the benchmark database with the
  platform's importer),

beside a plain Python loop of set membership over the same values in the same run
(`for i, v in enumerate(values): if v not in codes: bad.append(i)`). Each platform timing
starts from an empty validator cache, so it includes compiling (one query for the codes).
Rounds alternate between the three; the figure uses the median of each. The figure is the
worse of the two ratios platform / loop; target: at most 3.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from pathlib import Path

from django.contrib.auth.models import Group

from catalog.models import CodeList, DataElement
from catalog.standards import validation
from catalog.standards.importers import code_list_import
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.roles import Role

# The repository's copy (tests/data/README.md): nothing here reads beside the repository.
AREAS = Path(__file__).resolve().parents[1] / "tests" / "data" / "admin-divisions" / "areas.csv"
N = 1_000_000
ROUNDS = 7
AT = dt.date(2024, 1, 1)
EFFECTIVE = dt.date(2022, 10, 31)  # the date of the 2022-10 snapshot


def _setup() -> tuple[DataElement, DataElement, list[str]]:
    if not AREAS.is_file():
        raise FileNotFoundError(f"{AREAS} is missing (see tests/data/README.md)")
    user, _ = User.objects.get_or_create(
        username="bench_standards", defaults={"full_name": "基准测试", "is_active": True}
    )
    if user.has_usable_password():
        user.set_unusable_password()  # a benchmark actor, never a login
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=Role.CITY_REVIEWER))
    areas, _ = CodeList.objects.get_or_create(
        identifier="BENCH-GB2260-AREAS",
        defaults={"name": "县级行政区划(基准测试)", "source": "GB/T 2260 (2022-10)"},
    )
    # Idempotent: a second run finds every code unchanged and writes nothing.
    code_list_import(
        code_list=areas,
        rows_source=AREAS,
        effective_date=EFFECTIVE,
        acting_user=user,
        parent_column="cityCode",
    )

    def element(identifier: str, **fields) -> DataElement:
        found = DataElement.objects.filter(identifier=identifier).first()
        if found is None:
            found = DataElement.objects.create(
                identifier=identifier,
                name=f"基准测试{identifier}",
                definition="基准测试用的数据元。",
                data_type="C",
                **fields,
            )
        return found

    # Identifiers of this benchmark's own: another benchmark's element must never stand in.
    with_list = element("BENCH-STD-AREA", format="n6", domain_kind="code_list", code_list=areas)
    if with_list.code_list_id != areas.pk:
        raise AssertionError("BENCH-STD-AREA is bound to another code list")
    format_only = element("BENCH-STD-N6", format="n6")
    codes = list(areas.values.order_by("code").values_list("code", flat=True))
    return with_list, format_only, _values(codes)


def _values(codes: list[str]) -> list[str]:
    """A column as data arrives: 99% good codes, the rest wrong codes, typos and empties."""
    rng = random.Random(20240101)
    known = set(codes)
    wrong = [f"{n:06d}" for n in range(100000, 999999, 7919) if f"{n:06d}" not in known]
    typos = ["42010", "4201O2", "420102 ", " 420102", "42-0102", "４２０１０２", "4201020"]
    values = []
    for _ in range(N):
        r = rng.random()
        if r < 0.99:
            values.append(rng.choice(codes))
        elif r < 0.996:
            values.append(rng.choice(wrong))
        elif r < 0.999:
            values.append(rng.choice(typos))
        else:
            values.append("")
    return values


def _loop(values: list[str], codes: frozenset[str]) -> list[int]:
    bad = []
    for i, v in enumerate(values):
        if v not in codes:
            bad.append(i)
    return bad


def _timed(fn) -> tuple[float, object]:
    validation.clear_cache()
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run() -> list[dict]:
    with_list, format_only, values = _setup()
    codes = frozenset(with_list.code_list.values.values_list("code", flat=True))
    loop_s, list_s, format_s = [], [], []
    for _ in range(ROUNDS):
        t, loop_bad = _timed(lambda: _loop(values, codes))
        loop_s.append(t)
        t, list_bad = _timed(lambda: validation.validate_values(with_list, values, at=AT))
        list_s.append(t)
        t, format_bad = _timed(lambda: validation.validate_values(format_only, values, at=AT))
        format_s.append(t)

    # The platform finds what the loop finds, except empties (valid: nullability is the item's).
    expected = [i for i in loop_bad if values[i] != ""]
    if [i for i, _ in list_bad] != expected:
        raise AssertionError("validate_values disagrees with the set-membership loop")
    malformed = [
        i for i, v in enumerate(values) if v and not (len(v) == 6 and v.isascii() and v.isdigit())
    ]
    if [i for i, _ in format_bad] != malformed:
        raise AssertionError("validate_values (n6) disagrees with a plain format check")

    loop = statistics.median(loop_s)
    code_list = statistics.median(list_s)
    fmt = statistics.median(format_s)
    ratios = {"code_list_ratio": code_list / loop, "format_ratio": fmt / loop}
    return [
        {
            "name": "standards.validate.loop_ratio",
            "value": round(max(ratios.values()), 2),
            "unit": "ratio",
            "target": "<= 3",
            "baseline": round(loop, 3),
            "method": (
                f"validate_values over {N:,} division codes (1% wrong or malformed, 0.1% empty), "
                "against the 2,978-value area code list and against the format n6 alone, each "
                "from an empty validator cache; divided by a plain Python loop of set membership "
                f"over the same values in the same run; the worse of the two, medians of {ROUNDS} "
                "alternating rounds (baseline field: the loop, seconds)"
            ),
            "code_list_ratio": round(ratios["code_list_ratio"], 2),
            "format_ratio": round(ratios["format_ratio"], 2),
            "loop_s": round(loop, 3),
            "code_list_s": round(code_list, 3),
            "format_s": round(fmt, 3),
            "invalid_found": len(list_bad),
        }
    ]
