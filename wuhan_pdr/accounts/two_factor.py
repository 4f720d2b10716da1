"""Two-factor login (TOTP per RFC 6238, django-otp): who needs it, and the pieces of an
enrollment (a secret key, the otpauth:// address an authenticator app reads from the QR code,
the QR code as inline SVG). The writes are in services.py, the pages in views_two_factor.py.
"""

from __future__ import annotations

import io
import re
from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.utils.safestring import mark_safe
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import default_key

from .roles import Role, user_roles

# Roles that log in with a second factor when SECURITY_2FA_REQUIRED is on, and whose API
# tokens expire (API_TOKEN_TTL_HOURS_PRIVILEGED).
PRIVILEGED_ROLES: tuple[str, ...] = (
    str(Role.CITY_REVIEWER),
    str(Role.DISTRICT_REVIEWER),
    str(Role.SECURITY_ADMIN),
    str(Role.AUDITOR),
    str(Role.SYSTEM_ADMIN),
)

# Session keys: the state of the second factor for this login, and an enrollment's key.
GATE_SESSION_KEY = "accounts_2fa_gate"
PENDING_KEY_SESSION_KEY = "accounts_2fa_pending_key"

TOTP_STEP = 30
TOTP_DIGITS = 6
# Codes of one step before or after the current one are accepted (clock drift).
TOTP_TOLERANCE = 1


def is_privileged(user) -> bool:
    """Whether `user` holds a role whose login and API tokens are held to the higher bar."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or user_roles(user) & set(PRIVILEGED_ROLES))


def two_factor_required(user) -> bool:
    """Whether `user` must log in with a second factor (SECURITY_2FA_REQUIRED)."""
    return bool(settings.SECURITY_2FA_REQUIRED and is_privileged(user))


def new_key() -> str:
    """A fresh TOTP secret, hex-encoded as django-otp stores it (20 random bytes)."""
    return default_key()


def key_base32(hex_key: str) -> str:
    """The secret as authenticator apps take it for manual entry (RFC 4648 base32)."""
    return b32encode(unhexlify(hex_key)).decode("ascii").rstrip("=")


def key_for_display(hex_key: str) -> str:
    """The base32 secret in groups of four characters, easier to type."""
    b32 = key_base32(hex_key)
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def otpauth_url(user, hex_key: str) -> str:
    """The Key URI an authenticator app reads from the QR code."""
    issuer = settings.OTP_TOTP_ISSUER
    label = quote(f"{issuer}:{user.get_username()}")
    query = urlencode(
        {
            "secret": key_base32(hex_key),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": TOTP_DIGITS,
            "period": TOTP_STEP,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(data: str) -> str:
    """`data` as a QR code in inline SVG markup: paths with fill and stroke attributes only
    (no style attribute, which the Content-Security-Policy would refuse)."""
    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        svgclass="qr-code",
        lineclass=None,
        omitsize=True,
        scale=4,
        border=4,
        dark="#000",
        light="#fff",
    )
    svg = buffer.getvalue().decode("ascii")
    if "style" in svg or "<script" in svg:  # segno never writes these; refuse if it ever did
        raise ValueError("unexpected markup in the QR code")
    # Generated here from our own data (an otpauth:// address); no user text reaches it
    # unescaped: segno encodes the data as modules, not as text.
    return mark_safe(svg)  # noqa: S308


def totp_matches(hex_key: str, code: str) -> int | None:
    """The time step at which `code` is the TOTP of `hex_key` (within the tolerance), or None."""
    code = (code or "").strip().replace(" ", "")
    if not re.fullmatch(rf"[0-9]{{{TOTP_DIGITS}}}", code):  # ASCII digits only
        return None
    totp = TOTP(unhexlify(hex_key), step=TOTP_STEP, digits=TOTP_DIGITS)
    if totp.verify(int(code), tolerance=TOTP_TOLERANCE):
        return totp.t()
    return None
