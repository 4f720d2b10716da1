"""Per-grant rate limit of the supply API: `Grant.rate_per_minute` calls per clock minute,
counted in Redis (the Django cache, shared by every web process). A call over the limit is
refused with `rate_limited` (429) and `Retry-After`: the seconds until the minute ends."""

from __future__ import annotations

import time

from django.core.cache import cache

from .errors import SupplyError

WINDOW = 60


def _key(grant, window: int) -> str:
    # The key prefix tells a grant from another with a reused id (an emptied database).
    return f"supply:rate:{grant.pk}:{grant.key_prefix}:{window}"


def take_call(grant, *, now: float | None = None) -> None:
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    key = _key(grant, window)
    limit = max(int(grant.rate_per_minute or 0), 0)
    cache.add(key, 0, timeout=WINDOW + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=WINDOW + 5)
        count = 1
    if count > limit:
        wait = max(1, int((window + 1) * WINDOW - now + 0.999))
        raise SupplyError("rate_limited", wait=wait)
