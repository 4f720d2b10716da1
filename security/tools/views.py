"""Pages of the data tool register: the list (search, filters, pagination), a tool's page with
its assessments and history, the forms that register and change a tool, and its state
changes (retiring asks for confirmation). 404 for missing and forbidden alike."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page

from ..assessments.permissions import can_assess
from ..assessments.selectors import assessments_of
from ..pages import ListTexts, list_page
from . import selectors, services
from .filters import DataToolFilter
from .forms import DataToolForm, ReasonForm
from .models import DataTool
from .permissions import (
    access_tool,
    may_write_any,
    may_write_for,
    sees_many_organizations,
    sees_tools,
    writable_organizations,
)

PAGE_SIZE = 25

TOOL_TEXTS = ListTexts(
    title=gettext_lazy("Data tools"),
    lead=gettext_lazy(
        "The collection tools, devices and data software each organization uses. A tool is"
        " put into use only with a valid security assessment pass; when the pass expires it"
        " is suspended (Art. 27)."
    ),
    search_label=gettext_lazy("Search data tools"),
    none_match=gettext_lazy("No data tool matches."),
    none_yet=gettext_lazy("No data tool is registered yet."),
    hint_writer=gettext_lazy(
        "Register each tool your organization uses to collect or process data; the security"
        " administrator assesses it before it is used."
    ),
    hint_reader=gettext_lazy("Data tools appear here when organizations register them."),
    new_url="security:tool-new",
    new_label=gettext_lazy("Register a data tool"),
)


@login_required
def tool_list(request):
    user = request.user
    if not sees_tools(user):
        raise Http404
    organizations = selectors.tool_organizations(user) if sees_many_organizations(user) else None
    filterset = DataToolFilter(
        request.GET or None, queryset=selectors.tool_list(user), organizations=organizations
    )
    return list_page(
        request,
        "security/tools/list.html",
        form=filterset.form,
        qs=filterset.qs,
        texts=TOOL_TEXTS,
        can_write=may_write_any(user),
        page_size=PAGE_SIZE,
    )


def _tool_page(request, tool: DataTool, **forms):
    user = request.user
    has_pass = selectors.tool_list(user).filter(pk=tool.pk).values_list("has_pass", flat=True)
    return render(
        request,
        "security/tools/detail.html",
        {
            "tool": tool,
            "has_pass": bool(has_pass and has_pass[0]),
            "assessments": assessments_of(services.SUBJECT_KIND, tool.pk)[:20],
            "history": tool.history.select_related("history_user").order_by("-history_date")[:20],
            "can_write": may_write_for(user, tool.organization),
            "can_assess": can_assess(user) and tool.state != DataTool.State.RETIRED,
            "assess_url": reverse(
                "security:assessment-new", args=[services.SUBJECT_KIND, str(tool.pk)]
            ),
            "suspend_form": ReasonForm(required=False),
            **forms,
        },
    )


@login_required
def tool_detail(request, pk: int):
    return _tool_page(request, access_tool(request.user, pk))


@login_required
def tool_create(request):
    user = request.user
    if not may_write_any(user):
        raise Http404
    form = DataToolForm(request.POST or None, organizations=writable_organizations(user))
    return form_page(
        request,
        form,
        "security/tools/form.html",
        save=lambda form: services.tool_register(
            organization=form.cleaned_data["organization"],
            fields=form.service_fields(),
            acting_user=user,
        ),
        done="security:tool-detail",
        message=_("Data tool registered. It waits for a security assessment."),
    )


@login_required
def tool_edit(request, pk: int):
    user = request.user
    tool = access_tool(user, pk)
    if not may_write_for(user, tool.organization) or tool.state == DataTool.State.RETIRED:
        raise Http404
    return form_page(
        request,
        DataToolForm(request.POST or None, instance=tool),
        "security/tools/form.html",
        save=lambda form: services.tool_update(
            tool=tool, fields=form.service_fields(), acting_user=user
        ),
        done="security:tool-detail",
        message=_("Data tool saved."),
        context={"tool": tool},
    )


def _writable(request, pk: int) -> DataTool:
    tool = access_tool(request.user, pk)
    if not may_write_for(request.user, tool.organization):
        raise Http404
    return tool


def _act(request, tool, call, message: str, **forms):
    try:
        call()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _tool_page(request, tool, **forms)
    messages.success(request, message)
    return redirect("security:tool-detail", pk=tool.pk)


@login_required
@require_POST
def tool_start_use(request, pk: int):
    tool = _writable(request, pk)
    return _act(
        request,
        tool,
        lambda: services.tool_start_use(tool=tool, acting_user=request.user),
        _("The tool is in use."),
    )


@login_required
@require_POST
def tool_suspend(request, pk: int):
    tool = _writable(request, pk)
    form = ReasonForm(request.POST, required=False)
    if not form.is_valid():
        return _tool_page(request, tool, suspend_form=form)
    return _act(
        request,
        tool,
        lambda: services.tool_suspend(
            tool=tool, reason=form.cleaned_data["reason"], acting_user=request.user
        ),
        _("The tool is suspended."),
        suspend_form=form,
    )


@login_required
def tool_retire(request, pk: int):
    """Retiring is for good: a confirmation page with the reason, then the POST."""
    tool = _writable(request, pk)
    if tool.state == DataTool.State.RETIRED:
        raise Http404
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.tool_retire(
                tool=tool, reason=form.cleaned_data["reason"], acting_user=request.user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The tool is retired."))
            return redirect("security:tool-detail", pk=tool.pk)
    return render(request, "security/tools/retire.html", {"tool": tool, "form": form})
