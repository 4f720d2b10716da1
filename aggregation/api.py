"""The ingestion API of push channels (前置机推送), under /api/v1/ingest/.

A front-end machine authenticates with its channel's token (`Authorization: Bearer <token>`),
opens a batch under its own batch id, sends the rows in numbered JSON chunks and commits:

    POST /api/v1/ingest/batches/                      {"batch_id": "...", "mode": "full"}
    PUT  /api/v1/ingest/batches/<id>/chunks/<n>/      [{"column or item name": value}, ...]
    POST /api/v1/ingest/batches/<id>/commit/          {"chunks": N}
    GET  /api/v1/ingest/batches/<id>/

`<id>` is the platform's batch id (`id` in the answers) or the sender's own `batch_id`.

Every step may be repeated safely (see push.py). Errors answer {"detail": message, "code":
code, ...} with 400 (bad request), 401 (no or bad token), 403 (channel not active), 404 (no
such batch for this token), 409 (conflict), 413 (chunk too large). Bodies are read and parsed
here, within size limits, so that no input can reach the database unchecked.
"""

from __future__ import annotations

import json
import uuid

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.throttling import IngestRateThrottle

from . import push
from .models import Batch, Channel
from .services import batch_progress, channel_for_token

SMALL_BODY = 64 * 1024  # open and commit bodies


# --- Authentication ------------------------------------------------------------------------


class ChannelTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`: the push channel the token was issued for becomes
    `request.auth`. No session: these endpoints need no CSRF token."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Give the token as: Authorization: Bearer <token>."))
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("The token is not valid.")) from None
        channel = channel_for_token(token)
        if channel is None:
            raise AuthenticationFailed(_("The token is not valid."))
        return (AnonymousUser(), channel)

    def authenticate_header(self, request):
        return 'Bearer realm="ingest"'


class ChannelTokenScheme(OpenApiAuthenticationExtension):
    target_class = ChannelTokenAuthentication
    name = "channelToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The push token of the channel (issued once on the channel page).",
        }


class ActiveChannel(BasePermission):
    def has_permission(self, request, view):
        channel = request.auth
        if not isinstance(channel, Channel):
            return False
        if channel.state != Channel.State.ACTIVE:
            raise PermissionDenied(
                _("The channel is not active; ask the data provider to activate it.")
            )
        return True


# --- Schema ----------------------------------------------------------------------------------


class BatchOpenSerializer(serializers.Serializer):
    batch_id = serializers.CharField(
        max_length=push.MAX_BATCH_ID, help_text="The sender's own id of this batch"
    )
    mode = serializers.ChoiceField(
        choices=Batch.Mode.choices,
        required=False,
        help_text="full: replace all rows. Default: incremental when the resource has an "
        "update flag and keys, else full.",
    )


class BatchCommitSerializer(serializers.Serializer):
    chunks = serializers.IntegerField(
        min_value=1, max_value=push.MAX_CHUNKS, help_text="Number of chunks sent (1..N)"
    )


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class IngestBatchSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The platform's batch id")
    batch_id = serializers.CharField(source="external_id", help_text="The sender's batch id")
    channel = serializers.IntegerField(source="channel_id")
    mode = serializers.ChoiceField(choices=Batch.Mode.choices)
    status = serializers.ChoiceField(
        choices=Batch.Status.choices,
        help_text="open: receiving chunks; pending/running: loading; succeeded or failed",
    )
    chunks_received = serializers.IntegerField()
    rows_received = serializers.IntegerField()
    rows_inserted = serializers.IntegerField()
    rows_updated = serializers.IntegerField()
    rows_rejected = serializers.IntegerField()
    bytes_received = serializers.IntegerField()
    progress = serializers.IntegerField(help_text="0-100 while loading")
    error = serializers.CharField(allow_blank=True)
    row_errors = RowErrorSerializer(many=True, help_text="The first bad rows (at most 100)")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ChunkReceiptSerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    chunk = serializers.IntegerField()
    rows = serializers.IntegerField()
    digest = serializers.CharField(help_text="sha256 of the rows in canonical JSON")
    status = serializers.ChoiceField(choices=["received", "already received"])


class IngestErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    missing = serializers.ListField(child=serializers.IntegerField(), required=False)
    chunk = serializers.IntegerField(required=False)
    row = serializers.IntegerField(required=False)


CHUNK_BODY = {
    "application/json": {
        "type": "array",
        "minItems": 1,
        "maxItems": push.MAX_CHUNK_ROWS,
        "description": "Rows: objects whose keys are column names or item names.",
        "items": {
            "type": "object",
            "additionalProperties": {
                "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
                "nullable": True,
            },
        },
    }
}


ERROR_MEANINGS = {
    400: "Bad request: `detail` names the problem (and `chunk`, `row` or `missing` where it "
    "applies); sending the same again gives the same answer",
    401: "No token, or not a valid token (issue one on the channel's page)",
    403: "The channel is not active (suspended, or waiting for its security assessment)",
    404: "No such batch for this token",
    409: "Conflict with what was sent before (e.g. a chunk number reused with other rows, or "
    "a batch already committed)",
    413: "The body is too large (see `detail` for the limit)",
}


def _errors(*codes: int) -> dict:
    return {
        code: OpenApiResponse(IngestErrorSerializer, description=ERROR_MEANINGS[code])
        for code in codes
    }


BATCH_ID_PARAM = OpenApiParameter(
    "batch_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The batch: your own `batch_id` (as sent when opening it) or the platform's "
    "`id` from the answers.",
)
NUMBER_PARAM = OpenApiParameter(
    "number",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description=f"The chunk's number: 1, 2, 3 ... without gaps; at most {push.MAX_CHUNK_ROWS} "
    "rows a chunk.",
)
OPEN_EXAMPLE = OpenApiExample(
    "Full reload", value={"batch_id": "20250301-001", "mode": "full"}, request_only=True
)
CHUNK_EXAMPLE = OpenApiExample(
    "Two rows",
    description="Keyed by column names or by item names.",
    value=[
        {"tyshxydm": "51420100MJ0000001X", "zzmc": "武汉市示例社会组织"},
        {"统一社会信用代码": "51420100MJ0000002X", "社会组织名称": "武汉市示例协会"},
    ],
    request_only=True,
)
COMMIT_EXAMPLE = OpenApiExample("Three chunks", value={"chunks": 3}, request_only=True)


# --- Helpers ---------------------------------------------------------------------------------


class BadBody(Exception):
    def __init__(self, message: str, status: int = 400, code: str = "bad_json"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def _refuse_constant(name):
    raise ValueError(_("%(name)s is not a JSON number") % {"name": name})


def read_json(request, limit: int):
    """The request body parsed as JSON, at most `limit` bytes; BadBody names the problem."""
    declared = _content_length(request)
    if declared > limit:
        raise BadBody(_("The body is larger than %(mb)s.") % {"mb": _size(limit)}, 413, "too_large")
    stream = request.stream
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise BadBody(_("The body is larger than %(mb)s.") % {"mb": _size(limit)}, 413, "too_large")
    if not raw.strip():
        raise BadBody(_("The body is empty; send JSON."), code="empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadBody(
            _("The body is not UTF-8 text (byte %(pos)d).") % {"pos": exc.start + 1}
        ) from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise BadBody(
            _("The body is not valid JSON: %(error)s at line %(line)d, column %(column)d.")
            % {"error": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from None
    except RecursionError:
        raise BadBody(_("The body is not valid JSON: nested too deeply.")) from None
    except ValueError as exc:  # NaN/Infinity, integers too long to read
        raise BadBody(
            _("The body is not valid JSON: %(error)s") % {"error": str(exc)[:200]}
        ) from None


def _content_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _error(message, status_code: int, code: str = "invalid", **extra) -> Response:
    return Response({"detail": str(message), "code": code, **extra}, status=status_code)


def _refused(exc: DomainError) -> Response:
    if isinstance(exc, push.PushRefused):
        return _error(exc.message, exc.status, exc.code, **exc.extra)
    return _error(exc.message, 400, exc.code or "invalid")


def _batch_or_none(channel: Channel, batch_id: str) -> Batch | None:
    """The channel's batch named in the URL: by the platform's id (`id` in the answers) or by
    the sender's own `batch_id`, so that a front-end machine needs to keep only its own id."""
    try:
        pk = uuid.UUID(str(batch_id))
    except ValueError:
        pk = None
    if pk is not None:
        batch = Batch.objects.filter(pk=pk, channel=channel).first()
        if batch is not None:
            return batch
    if not batch_id or len(batch_id) > push.MAX_BATCH_ID:
        return None
    return Batch.objects.filter(channel=channel, external_id=batch_id).first()


def _not_found() -> Response:
    return _error(_("No such batch."), 404, "not_found")


def batch_data(batch: Batch) -> dict:
    batch.refresh_from_db()
    data = {
        "id": batch.pk,
        "external_id": batch.external_id,
        "channel_id": batch.channel_id,
        "mode": batch.mode,
        "status": batch.status,
        "chunks_received": push.push_batch_chunk_count(batch),
        "rows_received": batch.rows_received,
        "rows_inserted": batch.rows_inserted,
        "rows_updated": batch.rows_updated,
        "rows_rejected": batch.rows_rejected,
        "bytes_received": batch.bytes_received,
        "progress": batch_progress(batch),
        "error": batch.error,
        "row_errors": [
            {"row": e.get("row"), "column": e.get("column") or "", "message": e.get("message")}
            for e in (batch.row_errors or [])[:100]
        ],
        "created_at": batch.created_at,
        "started_at": batch.started_at,
        "finished_at": batch.finished_at,
    }
    return IngestBatchSerializer(data).data


class IngestView(APIView):
    authentication_classes = [ChannelTokenAuthentication]
    permission_classes = [ActiveChannel]
    # Per channel, at the `ingest` rate (a front-end machine sends many chunks).
    throttle_classes = [IngestRateThrottle]


# --- Views -----------------------------------------------------------------------------------


class BatchOpen(IngestView):
    @extend_schema(
        operation_id="ingest_batch_open",
        tags=["ingest"],
        description=(
            "Step 1 of 3. Open a batch under your own `batch_id`; then send its rows in "
            "numbered chunks (`PUT .../batches/{batch_id}/chunks/{number}/`) and commit it "
            "(`POST .../batches/{batch_id}/commit/`). Every step may be repeated safely. "
            "Authenticate with the channel's push token: `Authorization: Bearer <token>`."
        ),
        request=BatchOpenSerializer,
        examples=[OPEN_EXAMPLE],
        responses={
            201: OpenApiResponse(IngestBatchSerializer, "The batch was opened"),
            200: OpenApiResponse(IngestBatchSerializer, "The batch was opened before"),
            **_errors(400, 401, 403, 409),
        },
    )
    def post(self, request):
        """Open a batch under the sender's own batch id (again: the same batch, 200)."""
        try:
            body = read_json(request, SMALL_BODY)
        except BadBody as exc:
            return _error(exc.message, exc.status, exc.code)
        if not isinstance(body, dict):
            return _error(_('Send a JSON object: {"batch_id": "..."}.'), 400, "not_an_object")
        try:
            batch, created = push.push_batch_open(
                channel=request.auth, batch_id=body.get("batch_id"), mode=body.get("mode")
            )
        except DomainError as exc:
            return _refused(exc)
        response = Response(batch_data(batch), status=201 if created else 200)
        response["Location"] = reverse("api:ingest-batch", args=[batch.pk])
        return response


class BatchDetail(IngestView):
    @extend_schema(
        operation_id="ingest_batch_status",
        tags=["ingest"],
        parameters=[BATCH_ID_PARAM],
        responses={200: IngestBatchSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request, batch_id: str):
        """A batch's status and counts."""
        batch = _batch_or_none(request.auth, batch_id)
        if batch is None:
            return _not_found()
        return Response(batch_data(batch))


class ChunkPut(IngestView):
    @extend_schema(
        operation_id="ingest_chunk_put",
        tags=["ingest"],
        description=(
            "Step 2 of 3. Send chunk `number` of an open batch: a JSON list of row objects "
            "whose keys are the resource's column names or item names. Sending the same chunk "
            "again is harmless (200); other rows under a used number are refused (409)."
        ),
        parameters=[BATCH_ID_PARAM, NUMBER_PARAM],
        request=CHUNK_BODY,
        examples=[CHUNK_EXAMPLE],
        responses={
            201: OpenApiResponse(ChunkReceiptSerializer, "The chunk was stored"),
            200: OpenApiResponse(ChunkReceiptSerializer, "The same chunk was received before"),
            **_errors(400, 401, 403, 404, 409, 413),
        },
    )
    def put(self, request, batch_id: str, number: str):
        """Send chunk `number` (1, 2, ...) of an open batch: a JSON list of row objects."""
        batch = _batch_or_none(request.auth, batch_id)
        if batch is None:
            return _not_found()
        if not (number.isascii() and number.isdigit()) or len(number) > 9:
            return _error(_("The chunk number is a whole number from 1."), 400, "number")
        try:
            rows = read_json(request, push.MAX_CHUNK_BYTES)
        except BadBody as exc:
            return _error(exc.message, exc.status, exc.code)
        try:
            receipt = push.push_chunk_put(
                channel=request.auth,
                batch=batch,
                number=int(number),
                rows=rows,
                size=_content_length(request),
            )
        except DomainError as exc:
            return _refused(exc)
        chunk = receipt.chunk
        data = {
            "batch": batch.pk,
            "chunk": chunk.number,
            "rows": chunk.row_count if receipt.created else len(rows),
            "digest": chunk.digest,
            "status": "received" if receipt.created else "already received",
        }
        return Response(ChunkReceiptSerializer(data).data, status=201 if receipt.created else 200)


class BatchCommit(IngestView):
    @extend_schema(
        operation_id="ingest_batch_commit",
        tags=["ingest"],
        description=(
            "Step 3 of 3. Close the batch after its last chunk and queue the load; follow it "
            "with `GET .../batches/{batch_id}/` until `status` is `succeeded` or `failed`. "
            "Refused (400, with `missing`) while chunks are missing; committing again answers "
            "the same."
        ),
        parameters=[BATCH_ID_PARAM],
        request=BatchCommitSerializer,
        examples=[COMMIT_EXAMPLE],
        responses={
            202: OpenApiResponse(IngestBatchSerializer, "Queued for loading (or queued before)"),
            **_errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request, batch_id: str):
        """Close the batch after its last chunk and queue the load. Refused (400, with
        `missing`) while chunks are missing; committing again answers the same."""
        batch = _batch_or_none(request.auth, batch_id)
        if batch is None:
            return _not_found()
        try:
            body = read_json(request, SMALL_BODY)
        except BadBody as exc:
            return _error(exc.message, exc.status, exc.code)
        if not isinstance(body, dict):
            return _error(_('Send a JSON object: {"chunks": N}.'), 400, "not_an_object")
        try:
            batch, _queued = push.push_batch_commit(
                channel=request.auth, batch=batch, chunks=body.get("chunks")
            )
        except DomainError as exc:
            return _refused(exc)
        return Response(batch_data(batch), status=status.HTTP_202_ACCEPTED)
