"""The security administrator's backups page: backups, restore drills, and the buttons that
queue a backup or a drill now (durable jobs on the `long` queue, their state shown here)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuhan_pdr.kernel.errors import DomainError

from . import selectors, services
from .forms import BackupFilterForm, DrillFilterForm
from .permissions import runs_backups, sees_backups

PAGE_SIZE = 20
RECENT_DRILLS = 5


def _require(user) -> None:
    if not sees_backups(user):
        raise Http404


@login_required
def index(request):
    _require(request.user)
    form = BackupFilterForm(request.GET or None)
    state = form.cleaned_data["state"] if form.is_valid() else ""
    page = Paginator(selectors.backup_list(state=state), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "security/backups/index.html",
        {
            "form": form,
            "filtered": bool(state),
            "page_obj": page,
            "drills": list(selectors.drill_list()[:RECENT_DRILLS]),
            "jobs": list(services.jobs_in_progress()),
            "can_run": runs_backups(request.user),
            "has_backup": services.latest_backup() is not None,
            "backup_dir": services.backup_dir(),
        },
    )


@login_required
def drills(request):
    _require(request.user)
    form = DrillFilterForm(request.GET or None)
    result = form.cleaned_data["result"] if form.is_valid() else ""
    page = Paginator(selectors.drill_list(result=result), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "security/backups/drills.html",
        {"form": form, "filtered": bool(result), "page_obj": page},
    )


@login_required
@require_POST
def run_backup(request):
    _require(request.user)
    try:
        services.backup_request(acting_user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The backup is queued; its state shows below."))
    return redirect("security:backups:index")


@login_required
@require_POST
def run_drill(request):
    _require(request.user)
    try:
        services.restore_drill_request(acting_user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The restore drill is queued; its state shows below."))
    return redirect("security:backups:index")


@login_required
def status(request):
    """The queued and running backups and drills, for the page's progress (polled by JS)."""
    _require(request.user)
    jobs = [
        {"id": str(j.pk), "state": j.state, "label": j.get_state_display(), "progress": j.progress}
        for j in services.jobs_in_progress()
    ]
    return JsonResponse({"active": len(jobs), "jobs": jobs})
