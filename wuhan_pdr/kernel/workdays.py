"""Deadlines in Chinese working days (Asia/Shanghai).

Official holidays and make-up working days come from the `chinese-calendar` package. For a
year it does not know yet, working days are Monday to Friday, corrected by the `CalendarDay`
entries an administrator makes; the admin pages warn while such a year is in use. An
administrator's entry also overrides the package for a year it knows.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=1)
def _known_years() -> frozenset[int]:
    years = {d.year for d in chinese_calendar.holidays} | {
        d.year for d in chinese_calendar.workdays
    }
    return frozenset(years)


def calendar_knows(year: int) -> bool:
    """Whether the chinese-calendar package has the official holidays of `year`."""
    return year in _known_years()


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    from .models import CalendarDay

    rows = CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "kind")
    return {d: kind == CalendarDay.Kind.WORKDAY for d, kind in rows}


def _is_working(day: dt.date, overrides: dict[dt.date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
    if calendar_knows(day.year):
        # chinese_calendar.is_workday's own test, without its check of the year on every call
        # (a min() and a max() over every holiday: 30 us a day, 10 ms for a year's calendar).
        return day in chinese_calendar.workdays or (
            day.weekday() < 5 and day not in chinese_calendar.holidays
        )
    return day.weekday() < 5


def is_working_day(day: dt.date) -> bool:
    return _is_working(day, _overrides(day, day))


def today() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date()


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (the start day itself is not counted).

    `add_working_days(friday, 1)` is the next working Monday.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    # A generous window: even the Spring Festival week does not make it run out.
    window_end = start + dt.timedelta(days=days * 2 + 30)
    overrides = _overrides(start, window_end)
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if day > window_end:
            window_end = day + dt.timedelta(days=60)
            overrides |= _overrides(day, window_end)
        if _is_working(day, overrides):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    overrides = _overrides(start, end)
    n, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if _is_working(day, overrides):
            n += 1
    return n


def deadline_after(days: int, *, start: dt.datetime | None = None) -> dt.datetime:
    """The end (23:59:59 Shanghai time) of the `days`-th working day after `start`."""
    start = start or timezone.now()
    day = add_working_days(start.astimezone(SHANGHAI).date(), days)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=SHANGHAI)


def years_needing_entries(*, ahead: int = 1) -> list[int]:
    """Years from now to `ahead` years on that the package does not know and for which no
    holiday has been entered by an administrator: deadlines there count only weekends."""
    from .models import CalendarDay

    this_year = today().year
    missing = []
    for year in range(this_year, this_year + ahead + 1):
        if calendar_knows(year):
            continue
        if not CalendarDay.objects.filter(date__year=year, kind=CalendarDay.Kind.HOLIDAY).exists():
            missing.append(year)
    return missing
