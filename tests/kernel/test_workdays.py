"""Chinese working days: official holidays and make-up days, and an administrator's entries."""

import datetime as dt

import chinese_calendar
import pytest

from wuhan_pdr.kernel import workdays
from wuhan_pdr.kernel.models import CalendarDay

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    "day", ["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-06", "2025-10-08"]
)
def test_national_day_2025_is_a_holiday(day):
    assert workdays.is_working_day(D(day)) is False


@pytest.mark.parametrize("day", ["2025-09-28", "2025-10-11"])
def test_national_day_2025_make_up_weekend_days_are_working_days(day):
    assert D(day).weekday() >= 5
    assert workdays.is_working_day(D(day)) is True


@pytest.mark.parametrize("day", ["2026-02-15", "2026-02-17", "2026-02-20", "2026-02-23"])
def test_spring_festival_2026_is_a_holiday(day):
    assert workdays.is_working_day(D(day)) is False


@pytest.mark.parametrize("day", ["2026-02-14", "2026-02-28"])
def test_spring_festival_2026_make_up_saturdays_are_working_days(day):
    assert workdays.is_working_day(D(day)) is True


def test_next_working_day_after_a_friday_is_monday():
    assert workdays.add_working_days(D("2025-03-07"), 1) == D("2025-03-10")
    assert workdays.add_working_days(D("2025-03-07"), 5) == D("2025-03-14")


def test_zero_working_days_is_the_start_day():
    assert workdays.add_working_days(D("2025-03-08"), 0) == D("2025-03-08")


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        workdays.add_working_days(D("2025-03-07"), -1)


def test_adding_working_days_skips_national_day():
    # Tuesday 30 September 2025 -> 1-8 October are off -> Thursday 9 October.
    assert workdays.add_working_days(D("2025-09-30"), 1) == D("2025-10-09")
    # 9, 10 (Fri), 11 (make-up Saturday), 13 (Mon).
    assert workdays.add_working_days(D("2025-09-30"), 4) == D("2025-10-13")


def test_adding_working_days_counts_a_make_up_sunday():
    # Friday 26 September 2025 -> Sunday 28 September is a working day.
    assert workdays.add_working_days(D("2025-09-26"), 1) == D("2025-09-28")


def test_adding_working_days_over_spring_festival_2026():
    # Friday 13 February -> make-up Saturday 14th -> holiday 15th-23rd -> Tuesday 24th.
    assert workdays.add_working_days(D("2026-02-13"), 1) == D("2026-02-14")
    assert workdays.add_working_days(D("2026-02-13"), 2) == D("2026-02-24")


def test_working_days_between_counts_after_start_up_to_end():
    assert workdays.working_days_between(D("2025-09-30"), D("2025-10-09")) == 1
    assert workdays.working_days_between(D("2025-03-07"), D("2025-03-14")) == 5
    assert workdays.working_days_between(D("2025-03-14"), D("2025-03-07")) == 0


def test_deadline_is_end_of_the_working_day_in_shanghai():
    start = dt.datetime(2025, 9, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    deadline = workdays.deadline_after(1, start=start)
    assert deadline == dt.datetime(2025, 10, 9, 23, 59, 59, tzinfo=workdays.SHANGHAI)


def test_deadline_uses_the_shanghai_date_not_the_utc_date():
    # 20:00 UTC on Friday 7 March is already Saturday 8 March in Shanghai.
    start = dt.datetime(2025, 3, 7, 20, 0, tzinfo=dt.UTC)
    assert workdays.deadline_after(1, start=start).date() == D("2025-03-10")


def test_unknown_year_counts_weekends_only_until_a_holiday_is_entered():
    assert not workdays.calendar_knows(2027)
    # Thursday 31 December 2026 -> Friday 1 January 2027 (weekends only in 2027).
    assert workdays.add_working_days(D("2026-12-31"), 1) == D("2027-01-01")
    assert workdays.is_working_day(D("2027-01-02")) is False  # Saturday

    CalendarDay.objects.create(date=D("2027-01-01"), kind=CalendarDay.Kind.HOLIDAY, name="元旦")

    assert workdays.is_working_day(D("2027-01-01")) is False
    assert workdays.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")


def test_make_up_workday_entered_for_an_unknown_year_counts():
    saturday = D("2027-02-06")
    assert workdays.is_working_day(saturday) is False
    CalendarDay.objects.create(date=saturday, kind=CalendarDay.Kind.WORKDAY, name="调休")
    assert workdays.is_working_day(saturday) is True
    assert workdays.add_working_days(D("2027-02-05"), 1) == saturday


def test_administrator_entry_overrides_the_package_in_a_known_year():
    assert workdays.is_working_day(D("2025-10-08")) is False
    assert workdays.is_working_day(D("2025-03-10")) is True

    CalendarDay.objects.create(date=D("2025-10-08"), kind=CalendarDay.Kind.WORKDAY)
    CalendarDay.objects.create(date=D("2025-03-10"), kind=CalendarDay.Kind.HOLIDAY)

    assert workdays.is_working_day(D("2025-10-08")) is True
    assert workdays.is_working_day(D("2025-03-10")) is False
    assert workdays.add_working_days(D("2025-09-30"), 1) == D("2025-10-08")
    assert workdays.add_working_days(D("2025-03-07"), 1) == D("2025-03-11")


def test_a_long_closure_beyond_the_first_window_is_still_skipped():
    # Three months of entered holidays outlast the window the first override query covers.
    closed = [D("2027-01-02") + dt.timedelta(days=i) for i in range(89)]  # to 31 March
    CalendarDay.objects.bulk_create(
        CalendarDay(date=d, kind=CalendarDay.Kind.HOLIDAY) for d in closed
    )
    assert closed[-1] == D("2027-03-31")
    # Thursday 1 and Friday 2 April 2027 are the first working days after it.
    assert workdays.add_working_days(D("2027-01-01"), 2) == D("2027-04-02")
    assert workdays.working_days_between(D("2027-01-01"), D("2027-04-02")) == 2


def _expected_missing_years(this_year):
    known = {d.year for d in chinese_calendar.holidays}
    return [y for y in (this_year, this_year + 1) if y not in known]


def test_years_needing_entries_reports_next_unknown_year():
    this_year = workdays.today().year
    expected = _expected_missing_years(this_year)
    assert workdays.years_needing_entries() == expected
    if this_year == 2026:
        assert expected == [2027]


def test_years_needing_entries_drops_a_year_once_a_holiday_is_entered():
    # The first year the package does not know, however new the package is: look far enough
    # ahead to reach it, so the test never has a reason to skip.
    this_year = workdays.today().year
    year = max({d.year for d in chinese_calendar.holidays} | {this_year - 1}) + 1
    ahead = year - this_year

    # A make-up working day alone does not count as entering the year's holidays.
    CalendarDay.objects.create(date=dt.date(year, 2, 6), kind=CalendarDay.Kind.WORKDAY)
    assert year in workdays.years_needing_entries(ahead=ahead)

    CalendarDay.objects.create(date=dt.date(year, 1, 1), kind=CalendarDay.Kind.HOLIDAY)
    assert year not in workdays.years_needing_entries(ahead=ahead)


def test_today_is_the_date_in_shanghai():
    from django.utils import timezone

    assert workdays.today() == timezone.now().astimezone(workdays.SHANGHAI).date()
