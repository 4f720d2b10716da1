"""Pages of two-factor login: enrollment, the verification step after the password, recovery
codes, turning it off, and the security administrator's reset of a lost device."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error

from . import selectors, services
from .forms import TwoFactorCodeForm, TwoFactorUserFilterForm
from .models import User
from .permissions import can_reset_two_factor
from .signals import two_factor_event
from .two_factor import (
    PENDING_KEY_SESSION_KEY,
    key_for_display,
    new_key,
    otpauth_url,
    qr_svg,
    two_factor_required,
)

PAGE_SIZE = 20


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _verified(request) -> bool:
    return bool(getattr(request.user, "is_verified", None) and request.user.is_verified())


@login_required
def two_factor(request):
    """The user's own two-factor login: whether it is on, recovery codes left, what to do."""
    user = request.user
    remaining = StaticToken.objects.filter(device__user=user).count()
    return render(
        request,
        "accounts/two_factor.html",
        {
            "enrolled": user_has_device(user),
            "required": two_factor_required(user),
            "verified": _verified(request),
            "recovery_left": remaining,
        },
    )


@login_required
def two_factor_setup(request):
    """Enrollment: scan the QR code (or type the key), then type the code the app shows."""
    user = request.user
    if user_has_device(user) and not _verified(request):
        # Someone holding the password alone must not replace the device: verify first.
        return redirect("accounts:two_factor_verify")
    key = request.session.get(PENDING_KEY_SESSION_KEY)
    if not key:
        key = request.session[PENDING_KEY_SESSION_KEY] = new_key()
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.two_factor_enroll(
                acting_user=user, key=key, code=form.cleaned_data["code"], request=request
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            request.session.pop(PENDING_KEY_SESSION_KEY, None)
            otp_login(request, device)
            messages.success(request, _("Two-factor login is on for your account."))
            # Shown on this response only: the codes are stored hashed nowhere else in clear.
            return render(
                request,
                "accounts/two_factor_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg(otpauth_url(user, key)),
            "secret": key_for_display(key),
            "next": _next_url(request),
            "required": two_factor_required(user),
        },
    )


def _match_device(user, code: str):
    """The user's device that accepts `code` (consuming it), or None. The devices are
    locked while checked (django-otp's for_verify), so one code cannot pass twice at once."""
    with transaction.atomic():
        for candidate in devices_for_user(user, for_verify=True):
            if candidate.verify_token(code):
                return candidate
    return None


@login_required
def two_factor_verify(request):
    """The second step of login: a code from the authenticator app, or a recovery code."""
    user = request.user
    if _verified(request):
        return redirect(_next_url(request) or "kernel:home")
    if not user_has_device(user):
        return redirect("accounts:two_factor_setup")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _match_device(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            event = "recovery_used" if isinstance(device, StaticDevice) else "verified"
            two_factor_event.send(sender=User, user=user, request=request, event=event, actor=user)
            if event == "recovery_used":
                messages.warning(
                    request,
                    _(
                        "You logged in with a recovery code; it cannot be used again. "
                        "%(n)d recovery codes are left."
                    )
                    % {"n": StaticToken.objects.filter(device__user=user).count()},
                )
            return redirect(_next_url(request) or "kernel:home")
        two_factor_event.send(sender=User, user=user, request=request, event="failed", actor=user)
        form.add_error(
            "code",
            _(
                "This code is wrong or was already used. After several wrong codes you must "
                "wait a little before the next try."
            ),
        )
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@login_required
@require_POST
def two_factor_recovery_codes(request):
    """New recovery codes (the old ones stop working), shown once on this response."""
    if not _verified(request):
        return redirect("accounts:two_factor_verify")
    try:
        codes = services.two_factor_recovery_codes_regenerate(acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("accounts:two_factor")
    return render(request, "accounts/two_factor_codes.html", {"codes": codes, "next": ""})


@login_required
@require_POST
def two_factor_disable(request):
    if not _verified(request):
        return redirect("accounts:two_factor_verify")
    try:
        services.two_factor_disable(acting_user=request.user, request=request)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Two-factor login is off for your account."))
    return redirect("accounts:two_factor")


# --- the security administrator ---------------------------------------------------------


def _require_security_admin(request) -> None:
    if not can_reset_two_factor(request.user):
        raise Http404


@login_required
def manage_two_factor(request):
    """Users and whether each has two-factor login, for the security administrator."""
    _require_security_admin(request)
    form = TwoFactorUserFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.users_with_two_factor_status(
        q=filters.get("q", ""), enrolled=filters.get("enrolled", "")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/manage_two_factor.html", {"form": form, "page_obj": page})


@login_required
def manage_two_factor_reset(request, pk: int):
    """Confirm, then remove the devices and recovery codes of a user who lost them."""
    _require_security_admin(request)
    target = selectors.users_with_two_factor_status().filter(pk=pk).first()
    if target is None:
        raise Http404
    if request.method == "POST":
        try:
            services.two_factor_reset(user=target, acting_user=request.user, request=request)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Two-factor login of “%(name)s” was reset.") % {"name": target.username},
            )
        return redirect("accounts:manage_two_factor")
    return render(request, "accounts/two_factor_reset.html", {"target": target})
