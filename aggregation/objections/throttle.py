"""How many objections one user may file: `OBJECTION_FILINGS_PER_HOUR` (default 10) in each
clock hour, counted in the Django cache (Redis), so that every web process counts together.

A slot is taken before the objection is written (an atomic INCR: two requests at once cannot
both take the last one) and given back when the filing is refused for another reason, so a
mistyped form does not use up the hour.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.throttling import count_in_window

WINDOW_SECONDS = 3600
DEFAULT_PER_HOUR = 10


def filings_per_hour() -> int:
    return int(getattr(settings, "OBJECTION_FILINGS_PER_HOUR", DEFAULT_PER_HOUR))


def _key(user) -> str:
    # Ids are reused after a database is emptied (tests, a re-seeded demo): the account's
    # creation time tells two accounts with the same id apart.
    joined = int(user.date_joined.timestamp() * 1_000_000) if user.date_joined else 0
    return f"objections:filed:{user.pk}:{joined}"


def take_filing_slot(user, *, now: float | None = None) -> str:
    """Count one filing of `user` in the current hour; the key to give it back with, or
    DomainError (code `rate_limited`) when the hour's limit is reached."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    limit = filings_per_hour()
    count, key = count_in_window(_key(user), seconds=WINDOW_SECONDS, now=now)
    if count > limit:
        cache.decr(key)
        reset = dt.datetime.fromtimestamp((window + 1) * WINDOW_SECONDS, tz=dt.UTC)
        raise DomainError(
            _(
                "You have filed %(n)d objections in this hour, the most allowed. You can "
                "file again from %(time)s."
            )
            % {"n": limit, "time": timezone.localtime(reset).strftime("%H:%M")},
            code="rate_limited",
        )
    return key


def give_back_filing_slot(key: str) -> None:
    with contextlib.suppress(ValueError):
        cache.decr(key)
