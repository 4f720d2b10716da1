"""Pages of disputes (Art. 30) under /supervision/disputes/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supervision.rectification.permissions import is_city_reviewer
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page

from . import links, services
from .forms import DisputeForm, MeetingForm, TextForm
from .models import Dispute
from .permissions import access_dispute, is_party, is_party_member, may_see_disputes, visible_q


@login_required
def dispute_list(request):
    if not may_see_disputes(request.user):
        raise Http404
    qs = Dispute.objects.filter(visible_q(request.user)).select_related("raised_by", "other_party")
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:100]
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(reference__icontains=q))
    state = request.GET.get("state") or ""
    if state in Dispute.State.values:
        qs = qs.filter(state=state)
    subject = request.GET.get("subject") or ""
    if subject in Dispute.Subject.values:
        qs = qs.filter(subject=subject)
    return render(
        request,
        "supervision/disputes/dispute_list.html",
        {
            "page_obj": Paginator(qs, 25).get_page(request.GET.get("page")),
            "q": q,
            "state": state,
            "states": Dispute.State.choices,
            "subject": subject,
            "subjects": Dispute.Subject.choices,
            "may_open": is_party_member(request.user),
        },
    )


@login_required
def dispute_create(request):
    """?share_request=, ?objection= or ?adjustment= link the dispute to that record and
    pre-fill the form from it; refused with one message whether the record is missing, unseen
    or not the user's body's (404 page)."""
    if not is_party_member(request.user):
        raise Http404
    try:
        link = links.from_query(request.user, request.GET)
    except links.LinkRefused as exc:
        return render(
            request,
            "supervision/disputes/dispute_link_refused.html",
            {"message": str(exc)},
            status=404,
        )
    form = DisputeForm(request.POST or None, link=link)
    return form_page(
        request,
        form,
        "supervision/disputes/dispute_form.html",
        save=lambda f: services.dispute_open(acting_user=request.user, link=link, **f.cleaned_data),
        done="supervision:dispute",
        message=_("The dispute was raised; the other party is told."),
        context={"link": link},
    )


def _page(request, d, *, meeting_form=None, text_form=None, status=200):
    user = request.user
    party, city = is_party(d, user), is_city_reviewer(user)
    may_meet = (d.state == Dispute.State.NEGOTIATING and party) or (
        d.state == Dispute.State.COORDINATION and city
    )
    return render(
        request,
        "supervision/disputes/dispute_detail.html",
        {
            "d": d,
            "record_link": links.record_url(d, user),
            "meetings": d.meetings.select_related("recorded_by"),
            "meeting_form": (meeting_form or MeetingForm()) if may_meet else None,
            "text_form": text_form or TextForm(),
            "may_settle": party and d.state == Dispute.State.NEGOTIATING,
            "may_decide": city and d.state == Dispute.State.COORDINATION,
        },
        status=status,
    )


@login_required
def dispute_detail(request, pk: int):
    return _page(request, access_dispute(request.user, pk))


@login_required
@require_POST
def dispute_meeting(request, pk: int):
    d = access_dispute(request.user, pk)
    form = MeetingForm(request.POST)
    if form.is_valid():
        try:
            services.meeting_record(dispute=d, acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The meeting was recorded."))
            return redirect("supervision:dispute", pk=d.pk)
    return _page(request, d, meeting_form=form, status=422)


@login_required
@require_POST
def dispute_move(request, pk: int, action: str):
    d = access_dispute(request.user, pk)
    form = TextForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    try:
        if action == "settle":
            services.dispute_settle(dispute=d, settlement=text, acting_user=request.user)
        elif action == "escalate":
            services.dispute_escalate(dispute=d, acting_user=request.user)
        elif action == "decide":
            services.dispute_decide(dispute=d, decision=text, acting_user=request.user)
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _page(request, d, text_form=form, status=422)
    messages.success(request, _("Done."))
    return redirect("supervision:dispute", pk=d.pk)
