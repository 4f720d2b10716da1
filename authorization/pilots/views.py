"""Pages of pilot scenarios under /pilots/: the public list of selected pilots and open
calls (no login), the calls and proposals for the bureau and applicants, scoring and
selection. Objects come through permissions.py (404 for missing and forbidden alike)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from security import audit
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .forms import CallFilterForm, CallForm, ProposalForm, PublicFilterForm, ScoreForm, SelectForm
from .models import PilotCall, Proposal
from .permissions import (
    access_call,
    access_proposal,
    is_applicant,
    is_bureau,
    uses_pilots,
)
from .workflows import call_workflow, proposal_workflow

PAGE_SIZE = 20


def public_list(request):
    form = PublicFilterForm(request.GET or None)
    page = Paginator(selectors.public_pilots(**form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "authorization/pilots/public_list.html",
        {"form": form, "page_obj": page, "calls": selectors.open_calls()[:20]},
    )


@login_required
def call_list(request):
    if not uses_pilots(request.user):
        raise Http404
    form = CallFilterForm(request.GET or None)
    page = Paginator(selectors.call_list(request.user, **form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "authorization/pilots/call_list.html",
        {"form": form, "page_obj": page, "can_publish": is_bureau(request.user)},
    )


@login_required
def call_create(request):
    if not is_bureau(request.user):
        raise Http404
    return form_page(
        request,
        CallForm(request.POST or None),
        "authorization/pilots/call_form.html",
        save=lambda form: services.call_publish(**form.cleaned_data, acting_user=request.user),
        done="pilots:call",
        message=_("Call for pilots published."),
    )


@login_required
def call_detail(request, pk: int):
    call = access_call(request.user, pk)
    user = request.user
    own = None
    if is_applicant(user):
        own = (
            call.proposals.filter(organization_id=user.organization_id)
            .exclude(state=Proposal.State.WITHDRAWN)
            .first()
        )
    return render(
        request,
        "authorization/pilots/call_detail.html",
        {
            "call": call,
            "proposals": selectors.call_proposals(user, call),
            "own": own,
            "may_propose": is_applicant(user)
            and own is None
            and call.state == PilotCall.State.OPEN,
            "transitions": call_workflow.available_to(call, user),
            "events": events_described(call, call_workflow),
        },
    )


@login_required
def call_move(request, pk: int, action: str):
    call = access_call(request.user, pk)
    allowed = {t.name: t for t in call_workflow.available_to(call, request.user)}
    if action not in allowed:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            services.call_move(call=call, transition=action, acting_user=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, str(allowed[action].label))
            return redirect("pilots:call", pk=call.pk)
    return render(
        request,
        "authorization/pilots/call_move.html",
        {"call": call, "transition": allowed[action], "error": error},
    )


@login_required
def proposal_create(request, pk: int):
    call = access_call(request.user, pk)
    if not is_applicant(request.user):
        raise Http404
    return form_page(
        request,
        ProposalForm(request.POST or None, request.FILES or None),
        "authorization/pilots/proposal_form.html",
        save=lambda form: services.proposal_submit(
            call=call,
            title=form.cleaned_data["title"],
            summary=form.cleaned_data["summary"],
            data_needed=form.cleaned_data["data_needed"],
            document=form.cleaned_data["document"],
            acting_user=request.user,
        ),
        done="pilots:proposal",
        message=_("Proposal submitted."),
        context={"call": call},
    )


def _proposal_page(request, proposal, **forms):
    user = request.user
    bureau = is_bureau(user)
    mine = proposal.reviews.filter(reviewer=user).first() if bureau else None
    in_review = (
        proposal.call.state == PilotCall.State.REVIEW and proposal.state == Proposal.State.SUBMITTED
    )
    context = {
        "proposal": proposal,
        "reviews": proposal.reviews.select_related("reviewer"),
        "trial": getattr(proposal, "trial", None),
        "may_score": bureau and in_review,
        "may_select": bureau and in_review,
        "may_withdraw": "withdraw"
        in {t.name for t in proposal_workflow.available_to(proposal, user)}
        and proposal.call.state == PilotCall.State.OPEN,
        "score_form": ScoreForm(
            initial={
                "value": mine.value,
                "feasibility": mine.feasibility,
                "security": mine.security,
                "innovation": mine.innovation,
                "comment": mine.comment,
            }
            if mine
            else None
        ),
        "select_form": SelectForm(),
        "events": events_described(proposal, proposal_workflow),
    }
    context.update(forms)
    return render(request, "authorization/pilots/proposal_detail.html", context)


@login_required
def proposal_detail(request, pk: int):
    return _proposal_page(request, access_proposal(request.user, pk))


def _step(request, pk, form_class, key, call, message):
    proposal = access_proposal(request.user, pk)
    if request.method != "POST":
        return redirect("pilots:proposal", pk=proposal.pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(proposal, form)
        except AccessDenied:
            raise Http404 from None
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, message)
            return redirect("pilots:proposal", pk=proposal.pk)
    return _proposal_page(request, proposal, **{key: form})


@login_required
def proposal_score(request, pk: int):
    return _step(
        request,
        pk,
        ScoreForm,
        "score_form",
        lambda p, form: services.proposal_score(
            proposal=p,
            scores=form.scores(),
            comment=form.cleaned_data["comment"],
            acting_user=request.user,
        ),
        _("Scores saved."),
    )


@login_required
def proposal_select(request, pk: int):
    return _step(
        request,
        pk,
        SelectForm,
        "select_form",
        lambda p, form: services.proposal_select(
            proposal=p, **form.cleaned_data, acting_user=request.user
        ),
        _("Selected as a pilot, with a priced-but-free trial."),
    )


@login_required
def proposal_withdraw(request, pk: int):
    proposal = access_proposal(request.user, pk)
    error = None
    if request.method == "POST":
        try:
            services.proposal_withdraw(proposal=proposal, acting_user=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Proposal withdrawn."))
            return redirect("pilots:call", pk=proposal.call_id)
    return render(
        request,
        "authorization/pilots/proposal_withdraw.html",
        {"proposal": proposal, "error": error},
    )


@login_required
def proposal_document(request, pk: int):
    proposal = access_proposal(request.user, pk)
    try:
        handle = default_storage.open(proposal.document.name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    audit.record(
        "pilots.proposal_document.download",
        obj=proposal,
        request=request,
        details={"sha256": proposal.document_sha256},
    )
    return FileResponse(handle, as_attachment=True, filename=proposal.document_name)
