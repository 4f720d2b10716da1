"""Page cursors for keyset pages of stored rows (the data preview, the data supply API).

A keyset page's "next" and "previous" links carry the key values of a row of the page the
reader comes from. Those values may be masked on the page (an ID number as a key), so a
cursor must never carry them readable, and a reader must never choose them (a forged cursor
compared against the real key would give a masked value away one comparison at a time).
A cursor is therefore sealed here: encrypted and authenticated with AES-256-GCM under a key
derived for this purpose only (HKDF, `info` below), from the `FIELD_ENCRYPTION_KEY` keys
(the first seals, all open: key rotation) or, without them, from `SECRET_KEY`. A credential
sealed by `kernel.sealing` cannot be opened as a cursor, nor a cursor as a credential: other
keys, other format.

A cursor is bound to its `CursorScope`: the table it pages (`table`), the table's
generation (a counter the owner bumps whenever the table is replaced, so a cursor into rows
that are gone is refused as stale), the ordering it was made for, and the holder it was
issued to (a user, an API client), so it cannot be handed to someone else. It expires after
`MAX_AGE` seconds. The sealed text is padded to a multiple of `PAD` bytes, so its length
does not tell the length of the key either. Tokens are base64url without padding: a
one-byte version, a 12-byte nonce, the ciphertext and its 16-byte tag.

Every refusal is a `CursorRefused` (a `DomainError`) whose message tells the reader to start
from the first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .errors import DomainError

VERSION = b"\x01"
AAD = b"wuhan-pdr keyset cursor v1"
INFO = b"wuhan-pdr keyset cursor v1"
MAX_AGE = 2 * 3600  # seconds; longer than the 30 idle minutes of a session, shorter than a day
MAX_TOKEN = 2048  # characters; a longer parameter is not one of ours
PAD = 128  # bytes; the sealed text is padded to a multiple of this (tokens of 210 characters)
CLOCK_SKEW = 60  # seconds a cursor may seem to come from the future (several web servers)

AFTER = "a"
BEFORE = "b"


class CursorRefused(DomainError):
    """A cursor that is not accepted; the reader starts from the first page."""

    default_message = _("This page link is not valid; start from the first page.")

    def __init__(self, message=None):
        super().__init__(message or self.default_message, field="cursor", code="cursor")


class CursorInvalid(CursorRefused):
    default_message = _(
        "This page link is not valid (it was changed, cut short or made for another list); "
        "start from the first page."
    )


class CursorForeign(CursorRefused):
    default_message = _("This page link was made for another user; start from the first page.")


class CursorExpired(CursorRefused):
    default_message = _("This page link has expired; start from the first page.")


class CursorStale(CursorRefused):
    default_message = _(
        "The table was reloaded since this page link was made; start from the first page."
    )


@dataclass(frozen=True)
class CursorScope:
    """What a cursor is valid for: `table` names the paged rows (e.g. "datastore:12"),
    `generation` is the table's current generation, `ordering` the columns of the order,
    `holder` who may use it (e.g. "user:5")."""

    table: str
    generation: int
    ordering: tuple[str, ...]
    holder: str

    @property
    def ordering_digest(self) -> str:
        joined = "\x1f".join(self.ordering).encode()
        return hashlib.sha256(joined).hexdigest()[:12]


@dataclass(frozen=True)
class Cursor:
    values: list[str | None]
    direction: str  # AFTER or BEFORE


def _raw_keys(keys: str, secret_key: str) -> list[bytes]:
    if keys.strip():
        raw = []
        for k in keys.split(","):
            if not k.strip():
                continue
            try:
                decoded = base64.urlsafe_b64decode(k.strip().encode())
            except (binascii.Error, ValueError) as exc:
                raise ImproperlyConfigured(
                    "FIELD_ENCRYPTION_KEY must be Fernet keys, comma-separated"
                ) from exc
            if len(decoded) != 32:
                raise ImproperlyConfigured(
                    "FIELD_ENCRYPTION_KEY must be Fernet keys, comma-separated"
                )
            raw.append(decoded)
        return raw
    return [secret_key.encode()]


@lru_cache(maxsize=4)
def _ciphers(keys: str, secret_key: str) -> tuple[AESGCM, ...]:
    """One AES-GCM per configured key, each key derived for cursors only."""
    out = []
    for material in _raw_keys(keys, secret_key):
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"wuhan-pdr-cursors", info=INFO
        ).derive(material)
        out.append(AESGCM(derived))
    return tuple(out)


def _current() -> tuple[AESGCM, ...]:
    return _ciphers(getattr(settings, "FIELD_ENCRYPTION_KEY", "") or "", settings.SECRET_KEY)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()  # PostgreSQL's bytea input format
    return str(value)


def cursor_issue(
    values: Sequence, *, scope: CursorScope, direction: str = AFTER, now: float | None = None
) -> str:
    """A sealed cursor for the row whose order values are `values`, valid in `scope`."""
    if direction not in (AFTER, BEFORE):
        raise ValueError(f"direction must be {AFTER!r} or {BEFORE!r}")
    issued = int(time.time() if now is None else now)
    body = [
        scope.holder,
        scope.table,
        scope.generation,
        scope.ordering_digest,
        issued,
        direction,
        [_text(v) for v in values],
    ]
    plain = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    plain += b" " * (-len(plain) % PAD)
    nonce = os.urandom(12)
    sealed = _current()[0].encrypt(nonce, plain, VERSION + AAD)
    return base64.urlsafe_b64encode(VERSION + nonce + sealed).decode().rstrip("=")


def cursor_open(
    token: str,
    *,
    scope: CursorScope,
    direction: str = AFTER,
    max_age: int = MAX_AGE,
    now: float | None = None,
) -> Cursor:
    """The cursor `token` holds, when it was issued in `scope` for `direction` no longer
    than `max_age` seconds ago. Raises a `CursorRefused` naming why it is not accepted."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise CursorInvalid()
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise CursorInvalid() from None
    if len(blob) < 1 + 12 + 16 or blob[:1] != VERSION:
        raise CursorInvalid()
    nonce, sealed = blob[1:13], blob[13:]
    for cipher in _current():
        try:
            plain = cipher.decrypt(nonce, sealed, VERSION + AAD)
            break
        except InvalidTag:
            continue
    else:
        raise CursorInvalid()
    try:
        holder, table, generation, digest, issued, made_for, values = json.loads(plain)
    except (ValueError, TypeError):
        raise CursorInvalid() from None
    if holder != scope.holder:
        raise CursorForeign()
    if table != scope.table or made_for != direction:
        raise CursorInvalid()
    if generation != scope.generation:
        raise CursorStale()
    if digest != scope.ordering_digest:
        raise CursorStale()  # the table's order changed: it was rebuilt with another key
    moment = time.time() if now is None else now
    if not isinstance(issued, int) or issued > moment + CLOCK_SKEW:
        raise CursorInvalid()
    if moment - issued > max_age:
        raise CursorExpired()
    if not isinstance(values, list) or len(values) != len(scope.ordering):
        raise CursorInvalid()
    return Cursor(values=values, direction=direction)
