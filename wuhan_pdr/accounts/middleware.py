"""Gates every request passes after authentication:

1. Two-factor login: a user who has a device, or whose role requires one
   (SECURITY_2FA_REQUIRED), reaches only the verification page (or the enrollment page when
   they have no device yet) and logout until the session has passed the second factor.
2. Password age: a user whose password is older than PASSWORD_MAX_AGE_DAYS reaches only the
   password change page and logout.
3. The auditor changes no data: every request with a non-safe method from an auditor (a
   session or an API token) is refused with 403, except logout, their own password change,
   their own two-factor set-up and the language switch (a cookie).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from .password_policy import password_expired
from .roles import Role, has_role
from .two_factor import GATE_SESSION_KEY, two_factor_required

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

TWO_FACTOR_PAGES = frozenset(
    {
        "accounts:two_factor",
        "accounts:two_factor_setup",
        "accounts:two_factor_verify",
        "accounts:two_factor_recovery_codes",
        "accounts:two_factor_disable",
    }
)
# While the second factor is owed: only these (and nothing else, not even the home page).
ALLOWED_BEFORE_SECOND_FACTOR = frozenset(
    {"accounts:logout", "accounts:two_factor_setup", "accounts:two_factor_verify", "set_language"}
)
# While an expired password waits to be changed.
ALLOWED_WITH_EXPIRED_PASSWORD = frozenset(
    {
        "accounts:logout",
        "accounts:password_change",
        "accounts:password_change_done",
        "set_language",
    }
)
# What an auditor may send with a non-safe method: its own account's security, nothing else.
# `security:audit_verify` queues a verification of the audit ledger: checking the log is the
# auditor's own work and changes no record (only the job and its audit entry are written).
AUDITOR_MAY_POST = frozenset(
    {"accounts:logout", "accounts:password_change", "set_language", "security:audit_verify"}
    | TWO_FACTOR_PAGES
)


def _view_name(request) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _decide_gate(user) -> str:
    from django_otp import user_has_device

    return "gated" if two_factor_required(user) or user_has_device(user) else "open"


def two_factor_gate_state(request) -> str:
    """ "gated" if this session must pass a second factor, "open" otherwise. Decided at login
    (see `decide_gate_at_login`) and kept in the session, so requests cost no query for it;
    a session from before this gate existed is decided at its next request."""
    state = request.session.get(GATE_SESSION_KEY)
    if state is None:
        state = request.session[GATE_SESSION_KEY] = _decide_gate(request.user)
    return state


def decide_gate_at_login(sender, request, user, **kwargs) -> None:
    """On login: decide whether this session owes a second factor."""
    if request is not None and hasattr(request, "session"):
        request.session[GATE_SESSION_KEY] = _decide_gate(user)


def _next_query(request) -> str:
    target = request.get_full_path()
    if request.method != "GET" or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return ""
    return "?" + urlencode({"next": target})


class AccountGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            refused = self._two_factor(request) or self._password_age(request)
            if refused is not None:
                return refused
        if request.method not in SAFE_METHODS:
            refused = self._auditor(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    # 1 -----------------------------------------------------------------------------------
    def _two_factor(self, request):
        user = request.user
        if two_factor_gate_state(request) != "gated":
            return None
        if getattr(user, "is_verified", None) and user.is_verified():
            return None
        if _view_name(request) in ALLOWED_BEFORE_SECOND_FACTOR:
            return None
        if _is_api(request):
            return JsonResponse(
                {"detail": _("Complete two-factor login before using the API.")}, status=403
            )
        from django_otp import user_has_device

        page = (
            "accounts:two_factor_verify" if user_has_device(user) else "accounts:two_factor_setup"
        )
        return HttpResponseRedirect(reverse(page) + _next_query(request))

    # 2 -----------------------------------------------------------------------------------
    def _password_age(self, request):
        if not password_expired(request.user):
            return None
        if _view_name(request) in ALLOWED_WITH_EXPIRED_PASSWORD:
            return None
        if _is_api(request):
            return JsonResponse(
                {"detail": _("Your password has expired: change it on the portal.")}, status=403
            )
        messages.warning(
            request, _("Your password has expired. Choose a new one to go on using the platform.")
        )
        return HttpResponseRedirect(reverse("accounts:password_change"))

    # 3 -----------------------------------------------------------------------------------
    def _auditor(self, request):
        user = request.user if request.user.is_authenticated else _token_user(request)
        if user is None or not has_role(user, Role.AUDITOR):
            return None
        if _view_name(request) in AUDITOR_MAY_POST:
            return None
        message = _(
            "The auditor reads and changes nothing: this action is not open to the auditor's "
            "account (separation of duties)."
        )
        if _is_api(request):
            return JsonResponse({"detail": message}, status=403)
        return render(request, "accounts/auditor_refused.html", {"message": message}, status=403)


def _token_user(request):
    """The user of an API token in the Authorization header (DRF authenticates it later, in
    the view; the auditor gate must see it before)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "token":
        return None
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=parts[1]).first()
    if token is None or not token.user.is_active:
        return None
    return token.user
