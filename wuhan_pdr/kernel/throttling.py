"""API throttling, and the client's address behind the HTTPS proxy.

Every API view is throttled (settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]): signed-in
users per user, anonymous callers per address, push channels per channel (scope `ingest`,
a higher rate: a front-end machine sends many chunks). Rates come from
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (environment: API_THROTTLE_*); the counters live
in the Django cache, which is Redis, so every web process shares them. A refused request is
answered 429 with `Retry-After` and a message in the portal's language (`api_exception_handler`).

`client_ip` is the one answer to "who is calling" for throttling and for django-axes: the
connection's address, unless the platform sits behind `TRUSTED_PROXY_COUNT` proxies, each of
which appends the address it received the request from to X-Forwarded-For. Then the address
the outermost trusted proxy saw (the n-th from the right) is the client; whatever stands to
its left was written by the client itself and is ignored, so nobody can pick their own bucket.
"""

from __future__ import annotations

import ipaddress
import time

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from rest_framework import throttling
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The calling client's address (see the module's docstring)."""
    meta = getattr(request, "META", {})
    remote = _address(meta.get("REMOTE_ADDR"))
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    hops = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return remote
    # Fewer hops than proxies (a proxy that did not append): the left-most one, as DRF does.
    return _address(hops[-min(count, len(hops))]) or remote


class _SettingsRate:
    """Rates read when the throttle is built, not when DRF was imported, so that a changed
    setting (a deployment's environment, a test) takes effect; counters in the default
    cache (Redis)."""

    cache = caches["default"]

    def get_rate(self):
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        try:
            return rates[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"no throttle rate for scope {self.scope!r}") from None

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class AnonRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """Anonymous callers, per client address (scope `anon`)."""


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    """Signed-in users (session or token), per user (scope `user`)."""


class IngestRateThrottle(_SettingsRate, throttling.SimpleRateThrottle):
    """The push API, per channel (its token authenticates a channel, not a user): scope
    `ingest`."""

    scope = "ingest"

    def get_cache_key(self, request, view):
        channel_id = getattr(request.auth, "pk", None)
        ident = f"channel-{channel_id}" if channel_id else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def api_exception_handler(exc, context):
    """DRF's handler, with a throttled request answered in the portal's language:
    {"detail": ..., "code": "throttled", "wait": seconds} and Retry-After."""
    from rest_framework.views import exception_handler  # imports this module's throttles

    if isinstance(exc, Throttled):
        wait = int(exc.wait or 1)
        response = exception_handler(exc, context)
        if response is not None:
            response.data = {
                "detail": _("Too many requests: try again in %(wait)d seconds.") % {"wait": wait},
                "code": "throttled",
                "wait": wait,
            }
        return response
    return exception_handler(exc, context)


def count_in_window(key: str, *, seconds: int = 3600, now: float | None = None) -> tuple[int, str]:
    """Count one more event under `key` in the current fixed window of `seconds` (clock-aligned),
    in the default cache (Redis), so every web process counts together; an atomic INCR, so two
    requests at once cannot both take the last slot. Returns the count so far and the window's
    key (for `cache.decr` when the event is given back). For page forms outside DRF (objections,
    the verification page's server-side hash)."""
    from django.core.cache import cache

    window = int((time.time() if now is None else now) // seconds)
    window_key = f"{key}:{window}"
    cache.add(window_key, 0, timeout=seconds + 60)
    try:
        count = cache.incr(window_key)
    except ValueError:  # expired between add and incr
        cache.add(window_key, 1, timeout=seconds + 60)
        count = 1
    return count, window_key
