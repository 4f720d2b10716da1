"""The supply API's refusals: a stable `code` (clients switch on it), an HTTP status and a
message in the portal's language. A refusal never tells whether something the grant does not
cover exists: a resource outside the grant answers as a missing one, a field outside the grant
as an unknown one."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.errors import DomainError

# code -> (status, message)
ERRORS = {
    "key_missing": (
        401,
        _("Give the grant's API key: Authorization: Bearer <key> or X-API-Key: <key>."),
    ),
    "not_found": (404, _("No resource with this id is available to this key.")),
    "no_data": (404, _("The resource has no data to supply yet.")),
    "field_not_granted": (
        400,
        _("The fields parameter names a field this grant does not hold."),
    ),
    "no_fields": (400, _("This grant holds no field of the resource's current data.")),
    "limit_invalid": (400, _("limit must be a whole number from 1 to 5000.")),
    "format_invalid": (400, _("format must be json or csv.")),
    "cursor_invalid": (
        400,
        _("The cursor is not valid for this key and resource now; start from the first page."),
    ),
    "changed_since_invalid": (
        400,
        _("changed_since must be an ISO 8601 date or date-time, e.g. 2026-03-01T08:00:00+08:00."),
    ),
    "changed_since_unavailable": (
        400,
        _(
            "changed_since needs an update-flag field that this grant holds in clear; "
            "load the rows in full instead."
        ),
    ),
    "changed_since_too_old": (
        400,
        _("Too many rows were deleted since changed_since; load the rows in full instead."),
    ),
    "rate_limited": (429, _("Too many calls with this key: try again in %(wait)d seconds.")),
    "unavailable": (
        503,
        _("The rows cannot be read now; try again later or tell the platform's operators."),
    ),
}


class SupplyError(DomainError):
    def __init__(self, code: str, *, field: str | None = None, wait: int | None = None):
        status, message = ERRORS[code]
        if wait is not None:
            message = message % {"wait": wait}
        super().__init__(message, field=field, code=code)
        self.status = status
        self.wait = wait
