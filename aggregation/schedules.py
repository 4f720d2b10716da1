"""When scheduled channels run, and the planned downtime windows they skip (Art. 10, 16)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from catalog.models import UpdateCycle

from .models import Channel, DowntimeReport, Schedule

# A channel with no schedule of its own runs as often as its resource is updated.
_FROM_CYCLE = {
    UpdateCycle.REALTIME: Schedule.HOURLY,
    UpdateCycle.DAILY: Schedule.DAILY,
    UpdateCycle.WEEKLY: Schedule.WEEKLY,
    UpdateCycle.MONTHLY: Schedule.MONTHLY,
    UpdateCycle.QUARTERLY: Schedule.MONTHLY,
    UpdateCycle.YEARLY: Schedule.MONTHLY,
    UpdateCycle.IRREGULAR: Schedule.DAILY,
}
_STEP = {
    Schedule.HOURLY: dt.timedelta(hours=1),
    Schedule.DAILY: dt.timedelta(days=1),
    Schedule.WEEKLY: dt.timedelta(days=7),
    Schedule.MONTHLY: dt.timedelta(days=30),
}


def effective_schedule(channel: Channel) -> str:
    if channel.schedule:
        return channel.schedule
    version = channel.resource.published_version
    cycle = version.update_cycle if version is not None else UpdateCycle.DAILY
    return _FROM_CYCLE.get(cycle, Schedule.DAILY)


def next_run_after(channel: Channel, now: dt.datetime) -> dt.datetime | None:
    """The next scheduled run of a pull or extraction channel; None for the others and for
    manual ones. Daily and slower runs start at 02:00 Shanghai time, outside office hours."""
    from .models import ChannelKind

    if channel.kind not in (ChannelKind.API_PULL, ChannelKind.DB_EXTRACT):
        return None
    schedule = effective_schedule(channel)
    if schedule == Schedule.MANUAL:
        return None
    step = _STEP[schedule]
    if schedule == Schedule.HOURLY:
        return (now + step).replace(minute=0, second=0, microsecond=0)
    local = timezone.localtime(now)
    first = local.replace(hour=2, minute=0, second=0, microsecond=0)
    if first <= local:
        first += dt.timedelta(days=1)
    if schedule != Schedule.DAILY:
        first = first + step - dt.timedelta(days=1)
    return first


def planned_windows(information_system_id, *, at: dt.datetime):
    return DowntimeReport.objects.filter(
        ~Q(kind=DowntimeReport.Kind.OUTAGE),
        information_system_id=information_system_id,
        cancelled_at__isnull=True,
        starts_at__lte=at,
        ends_at__gt=at,
    )


def in_planned_window(channel: Channel, at: dt.datetime) -> DowntimeReport | None:
    """The planned downtime window of the channel's system covering `at`, if any."""
    if channel.information_system_id is None:
        return None
    return planned_windows(channel.information_system_id, at=at).order_by("ends_at").last()
