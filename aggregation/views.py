"""The aggregation pages: channels and their batches, the data preview, the aggregation
board (Art. 15) and the downtime status page (Art. 10).

Objects come from permissions.access_* (404 for missing and forbidden alike); each form calls
one service and redirects; a service's refusal is shown on the form.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.models import Resource
from security import audit
from security.assessments import has_valid_pass
from security.assessments.selectors import current_assessment
from wuhan_pdr.kernel import sealed_files
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.forms import add_domain_error

from . import selectors, services
from .forms import (
    BoardFilterForm,
    ChannelFilterForm,
    ChannelForm,
    ConfirmForm,
    DowntimeFilterForm,
    DowntimeForm,
    ResourceChoiceForm,
    RunForm,
    UploadForm,
    ZoneMoveForm,
)
from .models import Batch, Channel, ChannelKind
from .permissions import (
    access_batch,
    access_channel,
    access_downtime,
    can_report_downtime,
    can_work_channel,
    is_security_admin,
    sees_all_channels,
    works_for,
)

PAGE_SIZE = 20
BATCH_PAGE_SIZE = 15
ERROR_PAGE_SIZE = 50
B = Batch.Status
ACTIVE_BATCH = (B.OPEN, B.PENDING, B.RUNNING)


def _may_use_channels(user) -> bool:
    return sees_all_channels(user) or works_for(user, user.organization_id)


# --- channels -------------------------------------------------------------------------------


@login_required
def channel_list(request):
    user = request.user
    if not _may_use_channels(user):
        raise Http404
    agencies = selectors.agencies_with_channels() if sees_all_channels(user) else None
    form = ChannelFilterForm(request.GET or None, agencies=agencies)
    qs = selectors.channel_list(user, **form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(B.choices)
    for c in page.object_list:
        c.last_status_label = labels.get(c.last_status, "")
    return render(
        request,
        "aggregation/channel_list.html",
        {
            "form": form,
            "page_obj": page,
            "can_create": works_for(user, user.organization_id),
            "show_channels": True,
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


def _resource_for_create(request) -> Resource | None:
    raw = request.GET.get("resource") or request.POST.get("resource") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    resource = selectors.resources_for_channel(request.user).filter(pk=int(raw)).first()
    if resource is None:
        raise Http404
    return resource


@login_required
def channel_create(request):
    user = request.user
    if not works_for(user, user.organization_id):
        raise Http404
    resource = _resource_for_create(request)
    if resource is None:
        # First step: choose one of the agency's published resources.
        resources = selectors.resources_for_channel(user)
        return render(
            request,
            "aggregation/channel_choose_resource.html",
            {"form": ResourceChoiceForm(resources=resources), "has_resources": resources.exists()},
        )
    form = ChannelForm(
        request.POST or None,
        resource=resource,
        initial={"name": resource.published_version.name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.channel_create(
                resource=resource,
                kind=form.cleaned_data["kind"],
                acting_user=user,
                **form.service_fields(),
            )
            secret = form.cleaned_data.get("secret")
            if secret and channel.kind in (ChannelKind.API_PULL, ChannelKind.DB_EXTRACT):
                channel = services.channel_update(channel=channel, secret=secret, acting_user=user)
        except DomainError as exc:
            form.add_config_error(exc.field, str(exc.message))
        else:
            messages.success(
                request,
                _("Channel set up. A security administrator signs it off before it is activated."),
            )
            return redirect("aggregation:channel-detail", pk=channel.pk)
    return render(
        request,
        "aggregation/channel_form.html",
        {"form": form, "resource": resource, "channel": None},
    )


@login_required
def channel_edit(request, pk: int):
    channel = access_channel(request.user, pk)
    if not can_work_channel(request.user, channel):
        raise Http404
    form = ChannelForm(request.POST or None, resource=channel.resource, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.channel_update(
                channel=channel,
                acting_user=request.user,
                secret=form.cleaned_data.get("secret") or None,
                **form.service_fields(),
            )
        except DomainError as exc:
            form.add_config_error(exc.field, str(exc.message))
        else:
            if channel.state == Channel.State.SUSPENDED and not has_valid_pass(
                services.ASSESSMENT_KIND, channel.pk
            ):
                messages.warning(
                    request,
                    _(
                        "Saved. The source settings changed, so the channel waits for a new "
                        "security assessment."
                    ),
                )
            else:
                messages.success(request, _("Saved."))
            return redirect("aggregation:channel-detail", pk=channel.pk)
    return render(
        request,
        "aggregation/channel_form.html",
        {"form": form, "resource": channel.resource, "channel": channel},
    )


CHANNEL_ACTIONS = ("upload", "activate", "suspend", "token", "run", "confirm", "zone_confirm")


@login_required
def channel_detail(request, pk: int):
    """The channel's page, and the actions on it (each a POST with `action`: one service)."""
    user = request.user
    channel = access_channel(user, pk)
    forms = {
        "upload": UploadForm(),
        "confirm": ConfirmForm(),
        "zone_confirm": ZoneMoveForm(),
        "run": RunForm(),
    }
    action_error = ""
    new_token = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in CHANNEL_ACTIONS:
            raise Http404
        try:
            result = _channel_action(request, channel, action, forms)
        except AccessDenied as exc:
            if not can_work_channel(user, channel) and not is_security_admin(user):
                raise Http404 from exc
            action_error = str(exc.message)
        except DomainError as exc:
            if action in forms:
                add_domain_error(forms[action], exc)
            else:
                action_error = str(exc.message)
        else:
            if isinstance(result, str):  # the new push token: shown on this response only
                new_token = result
                channel = access_channel(user, pk)
            elif result is not None:
                return result
    return _render_channel(request, channel, forms, action_error=action_error, new_token=new_token)


def _channel_action(request, channel: Channel, action: str, forms: dict):
    """Run one action; a redirect, a token (str), or None when a form is invalid."""
    user = request.user
    here = reverse("aggregation:channel-detail", args=[channel.pk])
    if action == "upload":
        form = forms["upload"] = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return None
        batch = services.batch_upload(
            channel=channel,
            uploaded=form.cleaned_data["file"],
            acting_user=user,
            mode=form.cleaned_data.get("mode") or None,
        )
        messages.success(request, _("File received. The load runs in the background."))
        return redirect("aggregation:batch-detail", pk=batch.pk)
    if action == "run":
        form = forms["run"] = RunForm(request.POST)
        if not form.is_valid():
            return None
        batch = services.batch_start(
            channel=channel, acting_user=user, mode=form.cleaned_data.get("mode") or None
        )
        messages.success(request, _("Run started."))
        return redirect("aggregation:batch-detail", pk=batch.pk)
    if action == "activate":
        services.channel_activate(channel=channel, acting_user=user)
        messages.success(request, _("The channel is active."))
        return redirect(here)
    if action == "suspend":
        services.channel_suspend(
            channel=channel, acting_user=user, reason=(request.POST.get("reason") or "")[:90]
        )
        messages.success(request, _("The channel is suspended."))
        return redirect(here)
    if action == "token":
        return services.channel_token_rotate(channel=channel, acting_user=user)
    if action == "confirm":
        form = forms["confirm"] = ConfirmForm(request.POST)
        if not form.is_valid():
            return None
        services.datastore_confirm_changes(
            resource=channel.resource, confirm=True, acting_user=user
        )
        messages.success(
            request,
            _(
                "The table will be rebuilt in the new shape; a message will tell you when it is done."
            ),
        )
        return redirect(here)
    if action == "zone_confirm":
        form = forms["zone_confirm"] = ZoneMoveForm(request.POST)
        if not form.is_valid():
            return None
        job = services.datastore_zone_move_confirm(
            resource=channel.resource, confirm=True, acting_user=user
        )
        messages.success(
            request,
            _("The move was confirmed; a message will tell you when the table has moved.")
            if job is not None
            else _("The move was confirmed; the provider confirms the other changes of the table."),
        )
        return redirect(here)
    raise Http404


def _render_channel(request, channel: Channel, forms: dict, *, action_error="", new_token=""):
    user = request.user
    batches = Paginator(selectors.channel_batches(channel), BATCH_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    table = selectors.datastore_table(channel.resource)
    worker = can_work_channel(user, channel)
    now = timezone.now()
    for b in batches.object_list:
        b.waiting = services.batch_waiting_info(b, now=now)
    ratio, min_rows = services.shrink_hold_settings()
    from . import channels as channel_kinds
    from .schedules import effective_schedule

    pending = selectors.table_pending_changes(table, channel.resource) if table is not None else []
    zone_move = selectors.zone_move_state(table, pending, user) if table is not None else None
    engines = {"postgresql": "PostgreSQL", "mysql": "MySQL / MariaDB"}
    settings_rows = [
        (
            label,
            engines.get(value, value) if vkind == "engine" else value,
        )
        for name, (label, _r, vkind) in channel_kinds.SETTINGS.get(channel.kind, {}).items()
        for value in [(channel.config or {}).get(name)]
    ]
    return render(
        request,
        "aggregation/channel_detail.html",
        {
            "channel": channel,
            "resource": channel.resource,
            "version": channel.resource.published_version,
            "worker": worker,
            "can_assess": is_security_admin(user),
            "can_suspend": worker or is_security_admin(user),
            "assessment": current_assessment(services.ASSESSMENT_KIND, channel.pk),
            "assessment_valid": has_valid_pass(services.ASSESSMENT_KIND, channel.pk),
            "missing": channel_kinds.missing_settings(channel),
            "settings_rows": settings_rows,
            "schedule_label": _schedule_label(channel, effective_schedule(channel)),
            "page_obj": batches,
            "chart": selectors.batch_chart(channel),
            "table": table,
            "pending_changes": pending,
            "zone_move": zone_move,
            "can_preview": table is not None and selectors.can_preview(user, channel.resource),
            "forms": forms,
            "action_error": action_error,
            "new_token": new_token,
            "api_base": request.build_absolute_uri("/api/v1/ingest/batches/"),
            "push_example": _push_example(channel) if channel.kind == ChannelKind.PUSH else "",
            "history": _history(
                channel.history.select_related("history_user").order_by("-history_date")[:20]
            ),
            "hold_ratio_pct": round(ratio * 100),
            "hold_min_rows": min_rows,
            "is_file": channel.kind == ChannelKind.FILE,
            "is_push": channel.kind == ChannelKind.PUSH,
            "is_scheduled": channel.kind in (ChannelKind.API_PULL, ChannelKind.DB_EXTRACT),
        },
    )


def _push_example(channel: Channel) -> str:
    """One example row for the push instructions: the key and required columns (or the first
    two), with a placeholder value."""
    from .datastore import published_columns

    try:
        columns = published_columns(channel.resource)
    except DomainError:
        return "{}"
    shown = [c for c in columns if c.key or c.not_null] or columns[:2]
    return json.dumps({c.name: "…" for c in shown[:4]}, ensure_ascii=False)


# The change reasons the services record (stored in English), as the history tables show them.
HISTORY_REASONS = {
    "create": gettext_lazy("Set up"),
    "update": gettext_lazy("Settings changed"),
    "update: suspended until signed off again": gettext_lazy(
        "Source settings changed: suspended until signed off again"
    ),
    # Recorded before security assessments replaced the sign-off; old history keeps it.
    "security sign-off": gettext_lazy("Security sign-off"),
    "update: suspended until assessed again": gettext_lazy(
        "Source settings changed: suspended until assessed again"
    ),
    "suspend: security assessment expired": gettext_lazy(
        "Suspended: the security assessment expired"
    ),
    "activate": gettext_lazy("Activated"),
    "token issued": gettext_lazy("Push token issued"),
    "report": gettext_lazy("Report filed"),
    "cancel": gettext_lazy("Cancelled"),
}
HISTORY_PREFIXES = {
    "held batch confirmed:": gettext_lazy("Shrinking full load confirmed: batch %(batch)s"),
    "held batch discarded:": gettext_lazy("Shrinking full load discarded: batch %(batch)s"),
}


def _history(records) -> list:
    """History records with their reasons in the reader's language (not saved)."""
    rows = list(records)
    for record in rows:
        reason = record.history_change_reason or ""
        if reason in HISTORY_REASONS:
            record.history_change_reason = str(HISTORY_REASONS[reason])
        elif any(reason.startswith(p) for p in HISTORY_PREFIXES):
            prefix = next(p for p in HISTORY_PREFIXES if reason.startswith(p))
            record.history_change_reason = str(HISTORY_PREFIXES[prefix]) % {
                "batch": reason.removeprefix(prefix).strip()
            }
        elif reason.startswith("suspend:"):
            why = reason.removeprefix("suspend:").strip()
            record.history_change_reason = (
                _("Suspended: %(reason)s") % {"reason": why} if why else _("Suspended")
            )
    return rows


def _schedule_label(channel: Channel, schedule: str) -> str:
    from .models import Schedule

    label = Schedule(schedule).label
    if not channel.schedule:
        return _("%(schedule)s (from the update cycle)") % {"schedule": label}
    return str(label)


@login_required
def channel_template(request, pk: int):
    """A CSV with the header row a file channel takes (the items' names), to fill in."""
    from .datastore import published_columns

    channel = access_channel(request.user, pk)
    if channel.kind != ChannelKind.FILE:
        raise Http404
    try:
        columns = published_columns(channel.resource)
    except DomainError as exc:
        raise Http404 from exc
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([c.item for c in columns])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="template-{channel.resource.code.replace("/", "-")}.csv"'
    )
    return response


# --- batches --------------------------------------------------------------------------------


@login_required
def batch_detail(request, pk):
    batch = access_batch(request.user, pk)
    channel = batch.channel
    errors = Paginator(batch.row_errors or [], ERROR_PAGE_SIZE).get_page(request.GET.get("page"))
    worker = can_work_channel(request.user, channel)
    table = selectors.datastore_table(channel.resource)
    return render(
        request,
        "aggregation/batch_detail.html",
        {
            "batch": batch,
            "channel": channel,
            "resource": channel.resource,
            "page_obj": errors,
            "active": batch.status in ACTIVE_BATCH,
            "progress": services.batch_progress(batch),
            "can_retry": batch.status == B.FAILED and worker,
            "worker": worker,
            "waiting": services.batch_waiting_info(batch),
            "hold_lost": (batch.rows_before or 0) - (batch.rows_after or 0),
            "hold_ratio_pct": round(services.shrink_hold_settings()[0] * 100),
            "table_rows": table.row_count if table is not None else None,
            "can_preview": selectors.can_preview(request.user, channel.resource)
            and batch.status == B.SUCCEEDED,
        },
    )


@login_required
def batch_progress(request, pk):
    batch = access_batch(request.user, pk)
    return JsonResponse(
        {
            "status": batch.status,
            "status_label": batch.get_status_display(),
            "progress": services.batch_progress(batch),
            "done": batch.status not in ACTIVE_BATCH,
        }
    )


@login_required
def batch_reject_file(request, pk):
    """The reject file (its rows as they came, in clear). A zone resource's is kept sealed
    and opened here for the provider's staff only (404 for everyone else, the oversight
    roles included); a general resource's is plain, for whoever sees the batch. Every
    download is recorded with its rows and bytes."""
    batch = access_batch(request.user, pk)
    if not batch.reject_file:
        raise Http404
    try:
        handle = batch.reject_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    sealed = sealed_files.is_sealed(handle)
    if sealed and not can_work_channel(request.user, batch.channel):
        handle.close()
        raise Http404
    size = sealed_files.clear_size(handle)
    audit.record(
        "data.download",
        obj=batch,
        request=request,
        details={
            "file": "rejects",
            "rows": batch.rows_rejected,
            "bytes": size,
            "sealed": sealed,
        },
    )
    filename = f"rejects-{batch.pk}.csv"
    if not sealed:
        return FileResponse(handle, as_attachment=True, filename=filename, content_type="text/csv")

    def clear():
        with handle:
            yield from sealed_files.open_chunks(handle)

    response = StreamingHttpResponse(clear(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Content-Length"] = str(size)
    return response


@login_required
@require_POST
def batch_retry(request, pk):
    batch = access_batch(request.user, pk)
    if not can_work_channel(request.user, batch.channel):
        raise Http404
    try:
        services.batch_retry(batch=batch, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The batch runs again."))
    return redirect("aggregation:batch-detail", pk=batch.pk)


def _batch_decision(request, pk, service, done_message: str):
    batch = access_batch(request.user, pk)
    if not can_work_channel(request.user, batch.channel):
        raise Http404
    try:
        service(batch=batch, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, done_message)
    return redirect("aggregation:batch-detail", pk=batch.pk)


@login_required
@require_POST
def batch_confirm(request, pk):
    """Confirm a held full load (it replaces the table)."""
    return _batch_decision(
        request,
        pk,
        services.batch_hold_confirm,
        _("Confirmed: the batch loads again and replaces the table."),
    )


@login_required
@require_POST
def batch_discard(request, pk):
    """Discard a held full load (the table keeps its rows)."""
    return _batch_decision(
        request,
        pk,
        services.batch_hold_discard,
        _("Discarded: the table keeps its rows."),
    )


@login_required
@require_POST
def batch_resend(request, pk):
    """Send a batch that waits too long to the workers again."""
    return _batch_decision(
        request,
        pk,
        services.batch_resend,
        _("The batch was sent to the workers again."),
    )


# --- data preview ---------------------------------------------------------------------------


@login_required
def preview(request, resource_pk: int):
    resource = (
        Resource.objects.select_related("published_version", "provider")
        .filter(pk=resource_pk)
        .first()
    )
    if resource is None:
        raise Http404
    if not selectors.can_preview(request.user, resource):
        audit.record("data.preview", obj=resource, outcome="refused", request=request)
        raise Http404
    table = selectors.datastore_table(resource)
    if table is None:
        raise Http404
    table.resource = resource  # read once: the selector needs its published version
    after = request.GET.get("after", "")
    before = "" if after else request.GET.get("before", "")
    prefix = (request.GET.get("prefix") or "").strip()[:100].replace("\x00", "")
    try:
        page = selectors.preview_page(
            table, user=request.user, after=after, before=before, prefix=prefix
        )
    except DomainError as exc:
        # A refused cursor (tampered, another user's, expired, stale) or a filter on a
        # masked column: say why and start again from the first page (with the filter kept
        # when it was the cursor that was refused).
        messages.error(request, str(exc.message))
        first = request.path
        if exc.field == "cursor" and prefix:
            first += "?" + urlencode({"prefix": prefix})
        return redirect(first)
    audit.record(
        "data.preview",
        obj=resource,
        request=request,
        details={
            "rows": len(page.rows),
            "table": table.table_name,
            "masked_columns": len(page.masked),
            "filtered": bool(prefix),
            "page": "next" if after else "previous" if before else "first",
        },
    )
    channel = selectors.channels_visible_for_resource(request.user, resource).first()
    return render(
        request,
        "aggregation/preview.html",
        {
            "resource": resource,
            "version": resource.published_version,
            "table": table,
            "page": page,
            "prefix": prefix,
            "channel": channel,
            "started": bool(after or before),
        },
    )


# --- the aggregation board ------------------------------------------------------------------


@login_required
def board(request):
    if selectors.board_scope(request.user) is None:
        raise Http404
    form = BoardFilterForm(request.GET or None)
    filters = form.filters()
    rows, total = selectors.aggregation_board(request.user, **filters)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "aggregation/board.html",
        {
            "form": form,
            "page_obj": page,
            "total": total,
            "group": filters["group"],
            "legend": selectors.FRESHNESS_LEGEND,
            "sees_all": sees_all_channels(request.user),
            "show_channels": _may_use_channels(request.user),
            "source_columns": selectors.source_columns(),
        },
    )


# --- downtime -------------------------------------------------------------------------------


@login_required
def downtime_list(request):
    form = DowntimeFilterForm(
        request.GET or None, organizations=selectors.organizations_with_systems()
    )
    filters = form.filters()
    qs = selectors.downtime_list(**filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    user = request.user
    return render(
        request,
        "aggregation/downtime_list.html",
        {
            "form": form,
            "page_obj": page,
            "current": selectors.downtime_current(),
            "show_channels": user.is_authenticated and _may_use_channels(user),
            "hide_board": selectors.board_scope(user) is None,
            "now": timezone.now(),
            "can_report": works_for(user, user.organization_id)
            and selectors.systems_of(user.organization_id).exists(),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


@login_required
def downtime_create(request):
    user = request.user
    if not works_for(user, user.organization_id):
        raise Http404
    form = DowntimeForm(request.POST or None, organization_id=user.organization_id)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            report = services.downtime_report_create(
                information_system=d["information_system"],
                kind=d["kind"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                description=d["description"],
                acting_user=user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Downtime reported."))
            return redirect("aggregation:downtime-detail", pk=report.pk)
    return render(
        request,
        "aggregation/downtime_form.html",
        {"form": form, "has_systems": selectors.systems_of(user.organization_id).exists()},
    )


@login_required
def downtime_detail(request, pk: int):
    """A report: everyone signed in sees the window (status page); the agency and the bureau
    also see who reported it and its history; the agency may cancel it."""
    from .models import DowntimeReport

    report = (
        DowntimeReport.objects.select_related(
            "information_system", "information_system__organization", "reported_by"
        )
        .filter(pk=pk)
        .first()
    )
    if report is None:
        raise Http404
    user = request.user
    insider = can_report_downtime(user, report.information_system) or sees_all_channels(user)
    error = ""
    if request.method == "POST":
        report = access_downtime(user, pk)
        if not can_report_downtime(user, report.information_system):
            raise Http404
        ending = request.POST.get("action") == "end"
        try:
            if ending:
                services.downtime_report_end(report=report, acting_user=user)
            else:
                services.downtime_report_cancel(report=report, acting_user=user)
        except DomainError as exc:
            error = str(exc.message)
        else:
            messages.success(
                request,
                _("The window is ended: the system is available again.")
                if ending
                else _("The report is cancelled."),
            )
            return redirect("aggregation:downtime-detail", pk=report.pk)
    now = timezone.now()
    return render(
        request,
        "aggregation/downtime_detail.html",
        {
            "report": report,
            "insider": insider,
            "can_cancel": can_report_downtime(user, report.information_system)
            and report.cancelled_at is None
            and report.ends_at > now,
            "error": error,
            "now": now,
            "history": _history(
                report.history.select_related("history_user").order_by("-history_date")
            )
            if insider
            else [],
        },
    )
