"""The sharing pages. Each view checks the viewer's rights on the object (404 for missing and
forbidden alike), validates with a form, calls one service and redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from wuhan_pdr.kernel import workdays
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page
from wuhan_pdr.kernel.panels import record_panels
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .filters import GrantFilter, ShareRequestFilter
from .forms import (
    CoordinationForm,
    DecideForm,
    EntrySearchForm,
    ReasonForm,
    RefuseForm,
    RenewForm,
    ReviewForm,
    ShareRequestForm,
)
from .models import ShareRequest
from .permissions import (
    access_grant,
    access_request,
    asks,
    decides,
    holds,
    is_agency_member,
    is_data_officer,
    may_request,
    may_review_risk,
    may_suspend,
    provides,
)
from .workflows import grant_workflow, request_workflow

PAGE_SIZE = 20


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


# --- share requests -----------------------------------------------------------------------


@login_required
def request_list(request):
    """The requester's list: what the viewer's agency asked for."""
    if not is_agency_member(request.user):
        raise Http404
    f = ShareRequestFilter(
        request.GET or None, queryset=selectors.requests_of_my_agency(request.user)
    )
    return render(
        request,
        "authorization/sharing/request_list.html",
        {"filter": f, "page_obj": _page(request, f.qs), "mode": "mine"},
    )


@login_required
def review_list(request):
    """The provider's queue: requests for the viewer's agency's resources."""
    if not is_data_officer(request.user):
        raise Http404
    f = ShareRequestFilter(request.GET or None, queryset=selectors.requests_to_review(request.user))
    return render(
        request,
        "authorization/sharing/request_list.html",
        {"filter": f, "page_obj": _page(request, f.qs), "mode": "review"},
    )


@login_required
def request_choose(request):
    if not may_request(request.user):
        raise Http404
    form = EntrySearchForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    entries = selectors.requestable_entries(request.user, q=q)
    return render(
        request,
        "authorization/sharing/request_choose.html",
        {"form": form, "page_obj": _page(request, entries)},
    )


@login_required
def request_create(request, resource_id: int):
    user = request.user
    if not may_request(user):
        raise Http404
    resource = selectors.requestable_resource(user, resource_id)
    if resource is None:
        raise Http404
    version = resource.published_version
    form = ShareRequestForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            share_request = services.share_request_create(
                resource=resource,
                item_ids=form.item_ids(),
                fields=form.service_fields(),
                acting_user=user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            done = {
                ShareRequest.State.GRANTED: _(
                    "Granted at once: collect the API key on the grant's page."
                ),
                ShareRequest.State.REFUSED: _("This resource is not shared; see the reasons."),
            }.get(share_request.state, _("The request is sent to the provider's data officer."))
            messages.success(request, done)
            return redirect("sharing:request", pk=share_request.pk)
    return render(
        request,
        "authorization/sharing/request_form.html",
        {"form": form, "resource": resource, "version": version},
    )


@login_required
def request_detail(request, pk: int):
    share_request = access_request(request.user, pk)
    user = request.user
    return render(
        request,
        "authorization/sharing/request_detail.html",
        {
            "req": share_request,
            "items": selectors.request_items(share_request),
            "grants": selectors.grants_of_request(share_request),
            "events": events_described(share_request, request_workflow),
            "next_step": selectors.next_step(share_request),
            "actions": {t.name for t in request_workflow.available_to(share_request, user)},
            "history": share_request.history.select_related("history_user").order_by(
                "-history_date"
            )[:50],
            "panels": record_panels("sharing.request", share_request, user),
        },
    )


@login_required
def request_decide(request, pk: int):
    share_request = access_request(request.user, pk)
    if not decides(share_request, request.user):
        raise Http404
    items = selectors.request_items(share_request)
    form = DecideForm(
        request.POST or None,
        request_items=items,
        initial={"valid_until": share_request.period_end},
    )
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.share_request_approve(
                request=share_request,
                deliveries=form.deliveries(),
                reasons=form.cleaned_data["reasons"],
                valid_until=form.cleaned_data["valid_until"],
                rate_per_minute=form.cleaned_data["rate_per_minute"],
                allowed_ips=form.ips(),
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The request is granted; the requester collects its key."))
            return redirect("sharing:grant", pk=grant.pk)
    return render(
        request,
        "authorization/sharing/request_decide.html",
        {"req": share_request, "form": form},
    )


def _request_step(request, pk, *, allowed, form_class, template, run, done):
    share_request = access_request(request.user, pk)
    if not allowed(share_request, request.user):
        raise Http404
    form = form_class(request.POST or None) if form_class else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            run(share_request, form.cleaned_data if form else {})
        except DomainError as exc:
            if form is None:
                messages.error(request, str(exc))
                return redirect("sharing:request", pk=share_request.pk)
            add_domain_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("sharing:request", pk=share_request.pk)
    return render(request, template, {"req": share_request, "form": form})


@login_required
def request_refuse(request, pk: int):
    return _request_step(
        request,
        pk,
        allowed=decides,
        form_class=RefuseForm,
        template="authorization/sharing/request_refuse.html",
        run=lambda r, d: services.share_request_refuse(
            request=r, reasons=d["reasons"], acting_user=request.user
        ),
        done=_("The request is refused; the requester is told the reasons."),
    )


@login_required
def request_withdraw(request, pk: int):
    return _request_step(
        request,
        pk,
        allowed=asks,
        form_class=None,
        template="authorization/sharing/request_withdraw.html",
        run=lambda r, d: services.share_request_withdraw(request=r, acting_user=request.user),
        done=_("The request is withdrawn."),
    )


@login_required
def request_coordination(request, pk: int):
    return _request_step(
        request,
        pk,
        allowed=asks,
        form_class=CoordinationForm,
        template="authorization/sharing/request_coordination.html",
        run=lambda r, d: services.share_request_ask_coordination(
            request=r, note=d["note"], acting_user=request.user
        ),
        done=_("The city data bureau is asked to coordinate."),
    )


# --- grants -------------------------------------------------------------------------------


@login_required
def grant_list(request):
    """The grants the viewer's agency holds, with their use."""
    if not is_agency_member(request.user):
        raise Http404
    f = GrantFilter(request.GET or None, queryset=selectors.grants_of_my_agency(request.user))
    return render(
        request,
        "authorization/sharing/grant_list.html",
        {"filter": f, "page_obj": _page(request, f.qs), "mode": "held"},
    )


@login_required
def data_usage(request):
    """Who uses the viewer's agency's data and how much."""
    if not is_data_officer(request.user):
        raise Http404
    f = GrantFilter(request.GET or None, queryset=selectors.grants_to_my_data(request.user))
    return render(
        request,
        "authorization/sharing/grant_list.html",
        {"filter": f, "page_obj": _page(request, f.qs), "mode": "provided"},
    )


@login_required
def risk_review(request):
    """The periodic risk review of active grants (Art. 27)."""
    if not may_review_risk(request.user):
        raise Http404
    qs = selectors.grants_for_review(request.user).order_by(
        F("flagged_at").desc(nulls_last=True),
        "-review_due",
        F("reviewed_at").asc(nulls_first=True),
        "pk",
    )
    f = GrantFilter(request.GET or None, queryset=qs)
    return render(
        request,
        "authorization/sharing/risk_review.html",
        {"filter": f, "page_obj": _page(request, f.qs)},
    )


@login_required
def grant_detail(request, pk: int):
    grant = access_grant(request.user, pk)
    user = request.user
    return render(
        request,
        "authorization/sharing/grant_detail.html",
        {
            "grant": grant,
            "items": selectors.grant_items(grant),
            "usage": selectors.grant_usage_days(grant),
            "totals": selectors.grant_usage_totals(grant),
            "events": events_described(grant, grant_workflow),
            "actions": {t.name for t in grant_workflow.available_to(grant, user)},
            "holds": holds(grant, user),
            "may_review": may_review_risk(user) or provides(grant, user),
            "history": grant.history.select_related("history_user").order_by("-history_date")[:50],
        },
    )


@never_cache
@login_required
def grant_key(request, pk: int):
    """GET: what collecting or rotating the key does; POST: the new key, shown this once."""
    grant = access_grant(request.user, pk)
    if not holds(grant, request.user):
        raise Http404
    if request.method == "POST":
        try:
            grant, raw_key = services.grant_key_rotate(grant=grant, acting_user=request.user)
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("sharing:grant", pk=grant.pk)
        return render(
            request, "authorization/sharing/grant_key.html", {"grant": grant, "raw_key": raw_key}
        )
    return render(request, "authorization/sharing/grant_key_confirm.html", {"grant": grant})


_MOVES = {
    "suspend": (services.grant_suspend, may_suspend, gettext_lazy("The grant is suspended.")),
    "resume": (services.grant_resume, may_suspend, gettext_lazy("The grant is active again.")),
    "revoke": (services.grant_revoke, provides, gettext_lazy("The grant is revoked.")),
}


@login_required
def grant_move(request, pk: int, action: str):
    """Confirmation page (with reasons) for suspending, resuming or revoking a grant."""
    if action not in _MOVES:
        raise Http404
    service, allowed, done = _MOVES[action]
    grant = access_grant(request.user, pk)
    if not allowed(grant, request.user):
        raise Http404

    def save(form):
        service(grant=grant, reason=form.cleaned_data["reason"], acting_user=request.user)
        return grant

    return form_page(
        request,
        ReasonForm(request.POST or None),
        "authorization/sharing/grant_move.html",
        save=save,
        done="sharing:grant",
        message=str(done),
        context={"grant": grant, "action": action},
    )


@login_required
def grant_renew(request, pk: int):
    grant = access_grant(request.user, pk)
    if not provides(grant, request.user):
        raise Http404

    def save(form):
        services.grant_renew(
            grant=grant, valid_until=form.cleaned_data["valid_until"], acting_user=request.user
        )
        return grant

    return form_page(
        request,
        RenewForm(request.POST or None),
        "authorization/sharing/grant_renew.html",
        save=save,
        done="sharing:grant",
        message=_("The grant is renewed."),
        context={"grant": grant, "today": workdays.today()},
    )


@login_required
def grant_review(request, pk: int):
    grant = access_grant(request.user, pk)
    if not (may_review_risk(request.user) or provides(grant, request.user)):
        raise Http404

    def save(form):
        services.grant_review_record(
            grant=grant, note=form.cleaned_data["note"], acting_user=request.user
        )
        return grant

    return form_page(
        request,
        ReviewForm(request.POST or None),
        "authorization/sharing/grant_review.html",
        save=save,
        done="sharing:grant",
        message=_("The review is recorded."),
        context={"grant": grant, "use": selectors.grant_with_usage(grant)},
    )
