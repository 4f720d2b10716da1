"""Credentials kept in the database (an agency API's key, a source database's password) are
sealed with Fernet (AES-128-CBC + HMAC-SHA256, the `cryptography` package) so that a copy of
the database or a backup does not give them away.

The key comes from the environment: `FIELD_ENCRYPTION_KEY`, one or more Fernet keys separated
by commas, the first used to seal and all tried to open (key rotation). Without it, a key is
derived from `SECRET_KEY` (development and tests). Sealed values start with `sealed1:`; a value
without the prefix (written before sealing existed) is read as it is and sealed on its next
save.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "sealed1:"


@lru_cache(maxsize=4)
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    if keys.strip():
        try:
            return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
        except ValueError as exc:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be Fernet keys (Fernet.generate_key()), comma-separated"
            ) from exc
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"wuhan-pdr-sealing", info=b"fields"
    ).derive(secret_key.encode())
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def _current() -> MultiFernet:
    return _fernet(getattr(settings, "FIELD_ENCRYPTION_KEY", "") or "", settings.SECRET_KEY)


def seal(text: str) -> str:
    """The sealed form of `text` (empty stays empty)."""
    if not text:
        return ""
    return PREFIX + _current().encrypt(text.encode()).decode()


def unseal(value: str) -> str:
    """The text a sealed value holds. Raises ValueError when no configured key opens it."""
    if not value:
        return ""
    if not value.startswith(PREFIX):
        return value  # written before sealing; sealed again on its next save
    try:
        return _current().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the sealed value cannot be opened with the configured keys") from exc


def is_sealed(value: str) -> bool:
    return bool(value) and value.startswith(PREFIX)
