"""Rate limits of the interop endpoints: the open-data API's rate (scope `open_data`,
API_THROTTLE_OPEN_DATA) per client address, in a bucket of their own, with DRF's throttle
(counters in Redis) applied to plain Django views."""

from __future__ import annotations

import functools

from django.http import JsonResponse
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.throttling import AnonRateThrottle, client_ip


class InteropThrottle(AnonRateThrottle):
    scope = "open_data"

    def get_cache_key(self, request, view):
        ident = client_ip(request) or "unknown"
        return self.cache_format % {"scope": "interop", "ident": ident}


def too_many(wait: int, *, ckan: bool = False) -> JsonResponse:
    message = _("Too many requests: try again in %(wait)d seconds.") % {"wait": wait}
    if ckan:
        body = {
            "help": "",
            "success": False,
            "error": {"__type": "Throttled", "message": message},
        }
    else:
        body = {"detail": message, "code": "throttled", "wait": wait}
    response = JsonResponse(body, status=429, json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = str(wait)
    return response


def throttled(view=None, *, ckan: bool = False):
    """Refuse a request over the rate with 429 and Retry-After."""

    def wrap(func):
        @functools.wraps(func)
        def inner(request, *args, **kwargs):
            throttle = InteropThrottle()
            if not throttle.allow_request(request, None):
                return too_many(int(throttle.wait() or 1), ckan=ckan)
            return func(request, *args, **kwargs)

        return inner

    return wrap(view) if view is not None else wrap
