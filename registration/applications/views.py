"""Pages of the registration procedure. Internal pages fetch registrations through
permissions.py (404 for missing and forbidden alike), validate with a form, call one service
and redirect. Public pages (the register, a notice with its objection form, the certificate)
show only what the law makes public."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuhan_pdr.accounts.two_factor import qr_svg
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page
from wuhan_pdr.kernel.throttling import client_ip
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .forms import (
    AnswerForm,
    ApplyForm,
    ChangeForm,
    DecideForm,
    EditForm,
    FilterForm,
    MaterialForm,
    MoveForm,
    ObjectionForm,
    PublicFilterForm,
)
from .models import NoticeObjection, Registration, RegistrationChange
from .permissions import (
    access_registration,
    is_registrant_of,
    is_registrar,
    may_apply,
    uses_registration,
)
from .workflows import registration_workflow

PAGE_SIZE = 20
PROOF_TEMPLATE = "registration/evidence/_deposit_proof.html"


# --- public pages ------------------------------------------------------------------------


def public_register(request):
    form = PublicFilterForm(request.GET or None)
    page = Paginator(selectors.public_register(**form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "registration/applications/public_register.html",
        {"form": form, "page_obj": page},
    )


def _notice_page(request, registration, objection_form=None, status=200):
    now = timezone.now()
    in_notice = registration.state == Registration.State.NOTICE and (
        registration.notice_ends_at is None or registration.notice_ends_at >= now
    )
    return render(
        request,
        "registration/applications/public_detail.html",
        {
            "registration": registration,
            "in_notice": in_notice,
            "objection_form": objection_form or ObjectionForm(),
            # Who objected and what they wrote stay with the body: only the counts are public.
            **registration.objections.aggregate(
                objection_count=Count("pk"),
                answered_count=Count("pk", filter=Q(state=NoticeObjection.State.ANSWERED)),
            ),
        },
        status=status,
    )


def public_detail(request, public_id):
    registration = selectors.public_registration(public_id)
    if registration is None:
        raise Http404
    return _notice_page(request, registration)


@require_POST
def objection_lodge(request, public_id):
    registration = selectors.public_registration(public_id)
    if registration is None:
        raise Http404
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.objection_lodge(
                registration=registration,
                name=form.cleaned_data["name"],
                contact=form.cleaned_data["contact"],
                text=form.cleaned_data["text"],
                client_key=client_ip(request) or "unknown",
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return _notice_page(
                request, registration, form, status=429 if exc.code == "rate_limited" else 200
            )
        messages.success(
            request,
            _("Your objection is lodged: the registration body will answer it before going on."),
        )
        return redirect("registration:public-detail", public_id=registration.public_id)
    return _notice_page(request, registration, form)


def verification_url(request, code: str) -> str:
    try:
        path = reverse("evidence:verify")
    except NoReverseMatch:
        path = "/registration/evidence/verify/"
    return request.build_absolute_uri(path) + "?" + urlencode({"code": code})


def _proof_template() -> str | None:
    try:
        get_template(PROOF_TEMPLATE)
    except TemplateDoesNotExist:
        return None
    return PROOF_TEMPLATE


def certificate(request, code: str):
    registration = selectors.certificate_registration(code)
    if registration is None:
        raise Http404
    verify = verification_url(request, registration.code)
    return render(
        request,
        "registration/applications/certificate.html",
        {
            "registration": registration,
            "deposit": registration.deposit,
            "verify_url": verify,
            "qr": qr_svg(verify),
            "proof_template": _proof_template(),
        },
    )


# --- applications ------------------------------------------------------------------------


def _require_use(user) -> None:
    if not uses_registration(user):
        raise Http404


@login_required
def application_list(request):
    _require_use(request.user)
    form = FilterForm(request.GET or None)
    page = Paginator(
        selectors.application_list(request.user, **form.filters()), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "registration/applications/application_list.html",
        {
            "form": form,
            "page_obj": page,
            "can_apply": may_apply(request.user),
            "is_registrar": is_registrar(request.user),
        },
    )


@login_required
def application_new(request):
    user = request.user
    if not may_apply(user):
        raise Http404
    form = ApplyForm(
        request.POST or None,
        resources=selectors.registrable_resources(user),
        deposits=selectors.deposits_for(user),
    )
    return form_page(
        request,
        form,
        "registration/applications/application_form.html",
        save=lambda form: services.registration_create(
            kind=form.cleaned_data["kind"],
            resource=form.cleaned_data.get("resource"),
            deposit=form.cleaned_data["deposit"],
            fields=form.service_fields(),
            acting_user=user,
        ),
        done="registration:detail",
        message=_("Application saved as a draft: attach the materials, then submit it."),
    )


@login_required
def application_edit(request, pk: int):
    registration = access_registration(request.user, pk)
    if not is_registrant_of(request.user, registration) or (
        registration.state not in Registration.EDITABLE_STATES
    ):
        raise Http404
    initial = {f: getattr(registration, f) for f in services.FIELDS}
    initial["deposit"] = registration.deposit_id
    form = EditForm(
        request.POST or None,
        initial=initial,
        deposits=selectors.deposits_for(request.user, kind=registration.kind),
    )
    return form_page(
        request,
        form,
        "registration/applications/application_form.html",
        save=lambda form: services.registration_update(
            registration=registration,
            fields=form.service_fields(),
            deposit=form.cleaned_data["deposit"],
            acting_user=request.user,
        ),
        done="registration:detail",
        message=_("Application saved."),
        context={"registration": registration},
    )


def _detail_page(request, registration, **forms):
    user = request.user
    registrar = is_registrar(user)
    registrant = is_registrant_of(user, registration)
    objections = list(registration.objections.select_related("answered_by"))
    changes = list(registration.changes.select_related("new_deposit", "requested_by", "decided_by"))
    return render(
        request,
        "registration/applications/application_detail.html",
        {
            "registration": registration,
            "materials": registration.materials.select_related("uploaded_by"),
            "events": events_described(registration, registration_workflow),
            "transitions": registration_workflow.available_to(registration, user),
            "is_registrar": registrar,
            "is_registrant": registrant,
            "editable": registrant and registration.state in Registration.EDITABLE_STATES,
            "objections": objections,
            "changes": changes,
            "pending_change": next(
                (c for c in changes if c.state == RegistrationChange.State.PENDING), None
            ),
            "material_form": forms.get("material_form") or MaterialForm(),
            "move_form": forms.get("move_form") or MoveForm(),
            "answer_form": AnswerForm(),
            "decide_form": DecideForm(),
            "now": timezone.now(),
        },
    )


@login_required
def application_detail(request, pk: int):
    return _detail_page(request, access_registration(request.user, pk))


def _step(request, registration, form, form_key: str, call, message: str):
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, message)
            return redirect("registration:detail", pk=registration.pk)
    return _detail_page(request, registration, **{form_key: form})


@login_required
@require_POST
def material_add(request, pk: int):
    registration = access_registration(request.user, pk)
    if not is_registrant_of(request.user, registration):
        raise Http404
    return _step(
        request,
        registration,
        MaterialForm(request.POST, request.FILES),
        "material_form",
        lambda d: services.material_add(
            registration=registration,
            title=d["title"],
            uploaded=d["file"],
            acting_user=request.user,
        ),
        _("Material attached."),
    )


@login_required
def material_download(request, pk: int, material_pk: int):
    registration = access_registration(request.user, pk)
    material = registration.materials.filter(pk=material_pk).first()
    if material is None:
        raise Http404
    try:
        handle = default_storage.open(material.file.name, "rb")
    except OSError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=material.file_name)


@login_required
@require_POST
def application_move(request, pk: int):
    registration = access_registration(request.user, pk)
    transition = request.POST.get("transition", "")
    offered = {t.name for t in registration_workflow.available_to(registration, request.user)}
    if transition not in offered:
        raise Http404
    return _step(
        request,
        registration,
        MoveForm(request.POST),
        "move_form",
        lambda d: services.registration_move(
            registration=registration,
            transition=transition,
            comment=d.get("comment", ""),
            acting_user=request.user,
        ),
        _("Saved."),
    )


@login_required
@require_POST
def objection_answer(request, pk: int, objection_pk: int):
    registration = access_registration(request.user, pk)
    objection = registration.objections.filter(pk=objection_pk).first()
    if objection is None or not is_registrar(request.user):
        raise Http404
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.objection_answer(
                objection=objection,
                answer=form.cleaned_data["answer"],
                upheld=form.cleaned_data["upheld"],
                acting_user=request.user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Objection answered."))
    else:
        messages.error(request, _("Write the answer."))
    return redirect("registration:detail", pk=registration.pk)


@login_required
def change_new(request, pk: int):
    registration = access_registration(request.user, pk)
    if not is_registrant_of(request.user, registration) or (
        registration.state != Registration.State.REGISTERED
    ):
        raise Http404
    form = ChangeForm(
        request.POST or None,
        initial={"description": registration.description},
        deposits=selectors.deposits_for(request.user, kind=registration.kind).exclude(
            pk=registration.deposit_id
        ),
    )
    return form_page(
        request,
        form,
        "registration/applications/change_form.html",
        save=lambda form: (
            services.change_request(
                registration=registration,
                description=form.cleaned_data["description"],
                reason=form.cleaned_data["reason"],
                deposit=form.cleaned_data["deposit"],
                acting_user=request.user,
            ).registration
        ),
        done="registration:detail",
        message=_("Change requested: the registration body decides it."),
        context={"registration": registration},
    )


@login_required
@require_POST
def change_decide(request, pk: int, change_pk: int):
    registration = access_registration(request.user, pk)
    change = registration.changes.filter(pk=change_pk).first()
    if change is None or not is_registrar(request.user):
        raise Http404
    form = DecideForm(request.POST)
    form.is_valid()
    try:
        services.change_decide(
            change=change,
            approve=request.POST.get("decision") == "approve",
            comment=form.cleaned_data.get("comment", ""),
            acting_user=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Change decided."))
    return redirect("registration:detail", pk=registration.pk)
