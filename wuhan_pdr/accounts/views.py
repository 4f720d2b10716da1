"""Pages for organizations, users and the signed-in person's own profile."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import user_has_device
from rest_framework.authtoken.models import Token

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error

from . import selectors, services
from .authentication import token_expires_at
from .forms import (
    DeactivateForm,
    OrganizationContactForm,
    OrganizationFilterForm,
    OrganizationForm,
    UserCreateForm,
    UserFilterForm,
    UserForm,
)
from .permissions import (
    access_managed_organization,
    access_managed_user,
    is_platform_wide_admin,
    organizations_managed_by,
)
from .roles import Role, user_roles
from .two_factor import two_factor_required

PAGE_SIZE = 20


# --- public directory -------------------------------------------------------------------


def organization_directory(request):
    form = OrganizationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.organization_directory(
        q=filters.get("q", ""), kind=filters.get("kind", ""), division=filters.get("division")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/organization_directory.html", {"form": form, "page_obj": page})


def organization_detail(request, pk: int):
    org = selectors.organization_detail_public(pk)
    if org is None:
        raise Http404
    can_manage = request.user.is_authenticated and org in organizations_managed_by(request.user)
    return render(
        request, "accounts/organization_detail.html", {"org": org, "can_manage": can_manage}
    )


# --- management ----------------------------------------------------------------------------


def _require_manager(request):
    if not organizations_managed_by(request.user).exists():
        raise Http404


@login_required
def manage_organizations(request):
    _require_manager(request)
    qs = selectors.organizations_with_user_counts(request.user)
    form = OrganizationFilterForm(request.GET or None)
    if form.is_valid():
        d = form.cleaned_data
        if d.get("q"):
            qs = qs.filter(name__icontains=d["q"])
        if d.get("kind"):
            qs = qs.filter(kind=d["kind"])
        if d.get("division"):
            qs = qs.filter(division=d["division"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/manage_organizations.html",
        {
            "form": form,
            "page_obj": page,
            "can_add": request.user.has_perm("accounts.add_organization"),
        },
    )


@login_required
def manage_organization_create(request):
    if not request.user.has_perm("accounts.add_organization"):
        raise Http404
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Organization “%(name)s” registered.") % {"name": org.name})
            return redirect("accounts:manage_organization", pk=org.pk)
    return render(request, "accounts/organization_form.html", {"form": form, "org": None})


@login_required
def manage_organization(request, pk: int):
    org = access_managed_organization(request.user, pk)
    if request.user.has_perm("accounts.change_organization"):
        form = OrganizationForm(request.POST or None, instance=org)
    elif request.user.has_perm("accounts.change_organization", org):
        form = OrganizationContactForm(request.POST or None, instance=org)
    else:
        form = None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                services.organization_update(
                    organization=org, acting_user=request.user, **form.cleaned_data
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Organization saved."))
                return redirect("accounts:manage_organization", pk=org.pk)
    users = selectors.user_list_managed_by(request.user, organization=org)
    history = org.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "accounts/manage_organization.html",
        {"org": org, "form": form, "users": users, "history": history},
    )


@login_required
def manage_users(request):
    _require_manager(request)
    orgs = organizations_managed_by(request.user).order_by("name")
    form = UserFilterForm(request.GET or None, organizations=orgs)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.user_list_managed_by(
        request.user,
        q=filters.get("q", ""),
        organization=filters.get("organization"),
        role=filters.get("role", ""),
        active=filters.get("active", ""),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for u in page.object_list:
        u.role_labels = selectors.role_names(u)
    return render(request, "accounts/manage_users.html", {"form": form, "page_obj": page})


@login_required
def manage_user_create(request):
    _require_manager(request)
    platform_admin = is_platform_wide_admin(request.user)
    orgs = organizations_managed_by(request.user).order_by("name")
    initial = {}
    if not platform_admin:
        initial = {"organization": request.user.organization, "roles": [Role.AGENCY_STAFF]}
    elif request.GET.get("organization", "").isdigit():
        initial = {"organization": request.GET["organization"]}
    form = UserCreateForm(
        request.POST or None, initial=initial, organizations=orgs, platform_admin=platform_admin
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = services.user_create(
                acting_user=request.user,
                organization=d["organization"],
                username=d["username"],
                password=d["password1"],
                roles=d["roles"],
                full_name=d["full_name"],
                email=d["email"],
                phone=d["phone"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("User “%(name)s” created.") % {"name": user.username})
            return redirect("accounts:manage_user", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "target": None})


@login_required
def manage_user(request, pk: int):
    target = access_managed_user(request.user, pk)
    platform_admin = is_platform_wide_admin(request.user)
    orgs = organizations_managed_by(request.user).order_by("name")
    current_roles = [r for r in user_roles(target)]
    form = UserForm(
        request.POST or None,
        initial={
            "full_name": target.full_name,
            "email": target.email,
            "phone": target.phone,
            "organization": target.organization,
            "roles": current_roles,
        },
        organizations=orgs,
        platform_admin=platform_admin,
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.user_update(
                user=target,
                acting_user=request.user,
                roles=d["roles"],
                organization=d["organization"],
                full_name=d["full_name"],
                email=d["email"],
                phone=d["phone"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("User saved."))
            return redirect("accounts:manage_user", pk=target.pk)
    history = target.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "target": target,
            "history": history,
            "role_labels": [Role(r).label for r in Role.values if r in current_roles],
        },
    )


@login_required
def manage_user_deactivate(request, pk: int):
    target = access_managed_user(request.user, pk)
    form = DeactivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_deactivate(
                user=target, acting_user=request.user, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("User “%(name)s” deactivated.") % {"name": target.username})
        return redirect("accounts:manage_user", pk=target.pk)
    return render(request, "accounts/user_deactivate.html", {"form": form, "target": target})


@login_required
@require_POST
def manage_user_reactivate(request, pk: int):
    target = access_managed_user(request.user, pk)
    try:
        services.user_reactivate(user=target, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("User “%(name)s” reactivated.") % {"name": target.username})
    return redirect("accounts:manage_user", pk=target.pk)


@login_required
def manage_user_password(request, pk: int):
    target = access_managed_user(request.user, pk)
    form = SetPasswordForm(target, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(
                user=target, acting_user=request.user, password=form.cleaned_data["new_password1"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("A new password was set for “%(name)s”.") % {"name": target.username}
            )
            return redirect("accounts:manage_user", pk=target.pk)
    return render(request, "accounts/user_password.html", {"form": form, "target": target})


# --- own profile --------------------------------------------------------------------------


@login_required
def profile(request):
    roles = user_roles(request.user)
    token = Token.objects.filter(user=request.user).first()
    return render(
        request,
        "accounts/profile.html",
        {
            "role_labels": [Role(r).label for r in Role.values if r in roles],
            "token": token,
            "token_expires": token_expires_at(token) if token else None,
            "new_token": request.session.pop("new_api_token", None),
            "two_factor_on": user_has_device(request.user),
            "two_factor_required": two_factor_required(request.user),
        },
    )


@login_required
@require_POST
def profile_token(request):
    if request.POST.get("action") == "revoke":
        services.api_token_revoke(acting_user=request.user)
        messages.success(request, _("Your API token was revoked."))
    else:
        try:
            token = services.api_token_regenerate(
                acting_user=request.user, two_factor_verified=_verified(request)
            )
        except DomainError as exc:
            messages.error(request, str(exc))
            return redirect("accounts:profile")
        # Shown once, on the next page only.
        request.session["new_api_token"] = token.key
        messages.success(request, _("A new API token was created. Copy it now: it is shown once."))
    return redirect("accounts:profile")


def _verified(request) -> bool:
    return bool(getattr(request.user, "is_verified", None) and request.user.is_verified())


class PasswordChangeView(auth_views.PasswordChangeView):
    """The user's own password change; also the page an expired password leads to."""

    template_name = "accounts/password_change.html"
    success_url = "/accounts/password/done/"

    def get_context_data(self, **kwargs):
        from .password_policy import password_expired

        context = super().get_context_data(**kwargs)
        context["expired"] = password_expired(self.request.user)
        context["max_age_days"] = settings.PASSWORD_MAX_AGE_DAYS
        return context
