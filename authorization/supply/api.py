"""The unified data supply API (统一供数, Art. 17), under /api/v1/supply/.

    GET /api/v1/supply/<resource>/rows/        a page of rows (JSON; `format=csv`: every row, CSV)
    GET /api/v1/supply/<resource>/rows.csv     every row as CSV, streamed
    GET /api/v1/supply/<resource>/count/       how many rows (with `changed_since`: changed)

`<resource>` is the resource's id, or its code with "/" written as "-". The caller gives a
grant's API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`); the grant must be for
this resource (another resource answers as a missing one: a key tells nothing of resources it
does not cover). Rows come through the table's supply function (`functions.py`), each granted
field in its delivery form, and only granted fields. Every call is throttled per grant
(`throttle.py`), recorded in the audit log with its row count and counted in the grant's daily
usage. Every refusal is JSON {"code": stable code, "detail": message} (`errors.py`).
"""

from __future__ import annotations

import json
import re

from django.db import DatabaseError, transaction
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.response import Response
from rest_framework.views import APIView

from authorization.sharing.services import GrantRefused, grant_authenticate, usage_record
from security import audit
from wuhan_pdr.kernel.cursors import CursorRefused
from wuhan_pdr.kernel.throttling import client_ip

from . import selectors
from .errors import SupplyError
from .throttle import take_call

KEY_HEADER = "HTTP_X_API_KEY"
DIGITS = re.compile(r"^[0-9]{1,9}$")


def raw_key(request) -> str:
    """The key given with the call: `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    parts = get_authorization_header(request).split()
    if len(parts) == 2 and parts[0].lower() == b"bearer":
        try:
            return parts[1].decode("ascii")
        except UnicodeDecodeError:
            return "?"
    return (request.META.get(KEY_HEADER) or "").strip()


class GrantKeyAuthentication(BaseAuthentication):
    """The grant of the key given (`request.auth`); refusals are `GrantRefused` or
    `SupplyError`, answered by `SupplyView.handle_exception`."""

    def authenticate(self, request):
        key = raw_key(request)
        if not key:
            raise SupplyError("key_missing")
        grant = grant_authenticate(key, client_ip=client_ip(request) or "")
        return (None, grant)

    def authenticate_header(self, request):
        return 'Bearer realm="supply"'


class GrantKeyScheme(OpenApiAuthenticationExtension):
    target_class = GrantKeyAuthentication
    name = "grantKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The API key of a grant (授权凭证), shown once when it is issued; "
            "also accepted as the header X-API-Key.",
        }


class SupplyErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable: key_missing, key_invalid, grant_expired, grant_revoked, "
        "grant_suspended, ip_not_allowed, assessment_required, not_found, no_data, "
        "field_not_granted, no_fields, limit_invalid, format_invalid, cursor_invalid, "
        "changed_since_invalid, changed_since_unavailable, changed_since_too_old, "
        "rate_limited, unavailable"
    )
    detail = serializers.CharField(help_text="What went wrong, in the portal's language")
    field = serializers.CharField(required=False, help_text="The parameter at fault")
    wait = serializers.IntegerField(required=False, help_text="Seconds to wait (429)")


class RowsPageSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    fields = serializers.ListField(child=serializers.CharField())
    forms = serializers.DictField(
        child=serializers.ChoiceField(choices=["clear", "hmac", "masked"]),
        help_text="The delivery form of each field",
    )
    count = serializers.IntegerField(help_text="Rows on this page")
    next = serializers.CharField(
        allow_null=True, help_text="The cursor of the next page, or null on the last page"
    )
    rows = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField(allow_null=True)),
        help_text="One object per row: field -> value as text (PostgreSQL's text form), or null",
    )
    deleted = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="With changed_since, on the first page: the keys removed since then "
        "(key fields in their forms, and deleted_at). Apply them before the rows.",
    )


class CountSerializer(serializers.Serializer):
    resource = serializers.IntegerField()
    count = serializers.IntegerField()


RESOURCE_PARAM = OpenApiParameter(
    "resource",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The resource's id, or its code with '/' written as '-'",
)
FIELDS_PARAM = OpenApiParameter(
    "fields",
    OpenApiTypes.STR,
    description="Comma-separated field (column) names, a subset of the grant's; default: all",
)
CHANGED_PARAM = OpenApiParameter(
    "changed_since",
    OpenApiTypes.DATETIME,
    description="Only rows whose update flag is not older (ISO 8601; without an offset, "
    "Beijing time), and on the first page the keys deleted since. Needs the update-flag "
    "field in clear.",
)
LIMIT_PARAM = OpenApiParameter(
    "limit", OpenApiTypes.INT, description="Rows per page, 1-5000 (default 1000)"
)
CURSOR_PARAM = OpenApiParameter(
    "cursor", OpenApiTypes.STR, description="`next` of the previous page (same key, same fields)"
)
FORMAT_PARAM = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: every row, streamed"
)
ERROR_MEANINGS = {
    400: "A parameter is not accepted (`code`, `field`)",
    401: "No key, an unknown key (key_missing, key_invalid) or a grant outside its validity "
    "(grant_expired)",
    403: "The grant is revoked, suspended, needs an assessment, or this address may not use it",
    404: "No such resource for this key, or no data yet",
    429: "Over the grant's calls per minute; Retry-After says when to call again",
}


def _errors(*codes: int) -> dict:
    return {
        code: OpenApiResponse(SupplyErrorSerializer, description=ERROR_MEANINGS[code])
        for code in codes
    }


def error_response(exc) -> Response:
    body = {"code": exc.code, "detail": str(exc.message)}
    if getattr(exc, "field", None):
        body["field"] = exc.field
    response = Response(body, status=exc.status)
    if getattr(exc, "wait", None):
        body["wait"] = exc.wait
        response["Retry-After"] = str(exc.wait)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="supply"'
    return response


class SupplyView(APIView):
    authentication_classes = [GrantKeyAuthentication]
    permission_classes: list = []
    throttle_classes: list = []
    action_name = "supply.rows"

    def perform_content_negotiation(self, request, force=False):
        # `format` is this API's own parameter (json or csv), not DRF's renderer override.
        return super().perform_content_negotiation(request, force=True)

    def handle_exception(self, exc):
        if isinstance(exc, CursorRefused):
            exc = SupplyError("cursor_invalid", field="cursor")
        if isinstance(exc, GrantRefused | SupplyError):
            grant = getattr(self.request, "_supply_grant", None)
            audit.record(
                self.action_name,
                actor=_actor(self.request, grant),
                request=self.request,
                obj=getattr(self.request, "_supply_resource", None),
                outcome="refused",
                details={"code": exc.code, "rows": 0},
                organization=getattr(grant, "grantee_id", None),
            )
            return error_response(exc)
        return super().handle_exception(exc)

    def begin(self, request, resource: str):
        """The grant (authenticated, throttled), its resource's table and the plan of fields."""
        grant = request.auth
        request._supply_grant = grant
        take_call(grant)
        found = selectors.resource_lookup(resource)
        if found is None or found.pk != grant.resource_id:
            raise SupplyError("not_found")
        request._supply_resource = found
        table = selectors.supply_table(found)
        if table is None:
            raise SupplyError("no_data")
        fields = [f.strip() for f in request.query_params.get("fields", "").split(",")]
        plan = selectors.supply_plan(grant, table, [f for f in fields if f])
        changed = selectors.parse_changed_since(request.query_params.get("changed_since"), plan)
        return grant, found, plan, changed

    def done(self, request, grant, resource, plan, *, rows: int, **details) -> None:
        audit.record(
            self.action_name,
            actor=_actor(request, grant),
            request=request,
            obj=resource,
            details={"grant": grant.pk, "rows": rows, "fields": plan.fields, **details},
            organization=grant.grantee_id,
        )
        usage_record(grant, rows=rows)


def _actor(request, grant) -> str:
    if grant is not None:
        return f"grant:{grant.key_prefix}"
    key = raw_key(request)
    return f"grant:{key[4:16]}" if key.startswith("pdr_") else "grant:?"


def _limit(request) -> int:
    value = request.query_params.get("limit", "")
    if not value:
        return selectors.DEFAULT_LIMIT
    if not DIGITS.match(value) or not 1 <= int(value) <= selectors.MAX_LIMIT:
        raise SupplyError("limit_invalid", field="limit")
    return int(value)


class RowsView(SupplyView):
    @extend_schema(
        operation_id="supply_rows",
        summary="Rows of a granted resource (统一供数)",
        description="A keyset page of the resource's rows: only the grant's fields, each in "
        "its delivery form (clear, hmac: hex HMAC-SHA256 under a key of the grantee "
        "organization, masked: the item's masking rule). Follow `next` until it is null. "
        "Pages are in key order when the grant holds every key field in clear, otherwise in "
        "storage order. With format=csv, every row (from the first) is streamed as CSV.",
        parameters=[
            RESOURCE_PARAM,
            FIELDS_PARAM,
            LIMIT_PARAM,
            CURSOR_PARAM,
            CHANGED_PARAM,
            FORMAT_PARAM,
        ],
        responses={
            200: OpenApiResponse(
                RowsPageSerializer, description="A page (JSON) or every row (text/csv)"
            ),
            **_errors(400, 401, 403, 404, 429),
        },
        tags=["supply"],
    )
    def get(self, request, resource: str, csv: bool = False):
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise SupplyError("format_invalid", field="format")
        grant, found, plan, changed = self.begin(request, resource)
        if csv or fmt == "csv":
            return self.csv_response(request, grant, found, plan, changed)
        limit = _limit(request)
        try:
            with transaction.atomic():
                page = selectors.rows_page(
                    plan,
                    grant,
                    cursor=request.query_params.get("cursor", ""),
                    limit=limit,
                    changed_since=changed,
                )
        except DatabaseError:
            raise SupplyError("unavailable") from None
        self.done(request, grant, found, plan, rows=page.rows, deleted=page.deleted_rows)
        forms = dict(zip(plan.names, plan.forms, strict=True))
        head = {
            "resource": found.pk,
            "fields": plan.fields,
            "forms": {f: forms[f] for f in plan.fields},
            "count": page.rows,
            "next": page.next_cursor,
        }
        # The rows (and deleted keys) are JSON text made by PostgreSQL: spliced in, not parsed.
        text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
        parts = [text, ',"rows":', page.body]
        if page.deleted is not None:
            parts += [',"deleted":', page.deleted]
        parts.append("}")
        return HttpResponse("".join(parts), content_type="application/json; charset=utf-8")

    def csv_response(self, request, grant, found, plan, changed):
        chunks = selectors.csv_chunks(plan, grant, changed_since=changed)
        view = self

        def stream():
            rows = 0
            try:
                for text, count in chunks:
                    rows += count
                    yield text.encode("utf-8")
            finally:
                view.done(request, grant, found, plan, rows=rows, format="csv")

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{selectors.resource_slug(found)}.csv"'
        )
        return response


class RowsCsvView(RowsView):
    @extend_schema(
        operation_id="supply_rows_csv",
        summary="Every row of a granted resource as CSV",
        description="The same rows as /rows/ (fields, changed_since), from the first, "
        "streamed as CSV (RFC 4180, UTF-8, a header line of field names).",
        parameters=[RESOURCE_PARAM, FIELDS_PARAM, CHANGED_PARAM],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV"),
            **_errors(400, 401, 403, 404, 429),
        },
        tags=["supply"],
    )
    def get(self, request, resource: str):
        return super().get(request, resource, csv=True)


class CountView(SupplyView):
    action_name = "supply.count"

    @extend_schema(
        operation_id="supply_count",
        summary="How many rows a granted resource has",
        parameters=[RESOURCE_PARAM, CHANGED_PARAM],
        responses={200: CountSerializer, **_errors(400, 401, 403, 404, 429)},
        tags=["supply"],
    )
    def get(self, request, resource: str):
        grant, found, plan, changed = self.begin(request, resource)
        try:
            with transaction.atomic():
                count = selectors.rows_count(plan, changed_since=changed)
        except DatabaseError:
            raise SupplyError("unavailable") from None
        self.done(request, grant, found, plan, rows=0, counted=count)
        return Response({"resource": found.pk, "count": count})
