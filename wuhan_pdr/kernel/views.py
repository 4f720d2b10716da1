from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from wuhan_pdr.accounts.roles import Role, user_roles

from .health import run_checks
from .models import Notification
from .notifications import (
    notification_list_for,
    notification_mark_read,
    notifications_mark_all_read,
)
from .showcase import home_sections
from .workdays import years_needing_entries
from .workqueue import queues_for


def home(request):
    """The public landing page, or the signed-in user's work queue for each of its roles."""
    if not request.user.is_authenticated:
        return render(request, "kernel/home_public.html", {"sections": home_sections(request)})
    roles = user_roles(request.user)
    role_labels = [Role(r).label for r in Role.values if r in roles]
    context = {
        "role_labels": role_labels,
        "queues": queues_for(request.user, roles),
        "calendar_warning_years": (years_needing_entries() if Role.SYSTEM_ADMIN in roles else []),
    }
    return render(request, "kernel/home.html", context)


@never_cache
@require_GET
def healthz(request):
    healthy, result = run_checks()
    return JsonResponse(result, status=200 if healthy else 503)


@login_required
def notification_list(request):
    qs = notification_list_for(request.user)
    show = request.GET.get("show", "all")
    if show == "unread":
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "kernel/notifications.html", {"page_obj": page, "show": show})


@login_required
@require_POST
def notification_open(request, pk: int):
    notification = Notification.objects.filter(pk=pk, recipient=request.user).first()
    if notification is None:
        raise Http404
    notification_mark_read(notification=notification, acting_user=request.user)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("kernel:notifications")


@login_required
@require_POST
def notification_read_all(request):
    n = notifications_mark_all_read(acting_user=request.user)
    messages.success(
        request,
        ngettext("%(n)d notification marked as read.", "%(n)d notifications marked as read.", n)
        % {"n": n},
    )
    return redirect("kernel:notifications")
