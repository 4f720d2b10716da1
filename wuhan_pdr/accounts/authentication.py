"""API authentication: DRF's token, with an expiry for the roles that need two-factor login."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_expires_at(token):
    """When `token` stops working, or None if it does not expire (its user's roles)."""
    from .two_factor import is_privileged

    if not is_privileged(token.user):
        return None
    return token.created + timedelta(hours=settings.API_TOKEN_TTL_HOURS_PRIVILEGED)


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; a token of a privileged role (two_factor.PRIVILEGED_ROLES)
    is refused API_TOKEN_TTL_HOURS_PRIVILEGED hours after it was created."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        expires = token_expires_at(token)
        if expires is not None and timezone.now() >= expires:
            raise exceptions.AuthenticationFailed(
                _("This API token has expired: create a new one on your profile page.")
            )
        return user, token
