"""Streaming, authenticated encryption of backup files (AES-256-GCM in chunks).

A file is a header and a sequence of records. The header names the format, the key (by an id
derived from it, never the key itself), a random nonce prefix and the chunk size. Each record is
a 4-byte length and one chunk sealed with AES-256-GCM under the nonce `prefix || counter`; its
associated data is the header, the counter and a flag saying whether it is the last chunk. So a
chunk cannot be changed, moved, dropped or cut off at the end without decryption failing: the
same construction as age's STREAM and Tink's streaming AEAD. Memory stays at one chunk.

Keys come from BACKUP_ENCRYPTION_KEY (comma-separated, the first one encrypts, every one may
decrypt: rotation), each 32 random bytes in URL-safe base64. Data and manifest keys are derived
from it with HKDF, so the manifest's HMAC never uses the key that encrypts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MAGIC = b"WPDRBAK1"
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
_HEADER = struct.Struct(">8s8s8sI")  # magic, key id, nonce prefix, chunk size
_LENGTH = struct.Struct(">I")
_MAX_COUNTER = 2**32 - 1


class BackupKeyError(Exception):
    """No usable key: not configured, malformed, or not the one the file was written with."""


class BackupCorrupt(Exception):
    """The file is not what was written: changed, cut short, or not a backup at all."""


@dataclass(frozen=True)
class BackupKey:
    key_id: bytes
    data_key: bytes
    manifest_key: bytes

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def key_from_text(text: str) -> BackupKey:
    try:
        master = base64.urlsafe_b64decode(text.strip().encode("ascii") + b"==")
    except (ValueError, UnicodeEncodeError) as exc:
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY is not URL-safe base64") from exc
    if len(master) != 32:
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY must hold 32 bytes (base64 of 32 bytes)")
    return BackupKey(
        key_id=hashlib.sha256(b"wuhan-pdr backup key id\0" + master).digest()[:8],
        data_key=_derive(master, b"wuhan-pdr backup data"),
        manifest_key=_derive(master, b"wuhan-pdr backup manifest"),
    )


def configured_keys() -> list[BackupKey]:
    raw = settings.BACKUP_ENCRYPTION_KEY
    texts = [
        t for t in (raw if isinstance(raw, list | tuple) else str(raw).split(",")) if t.strip()
    ]
    if not texts:
        raise BackupKeyError("BACKUP_ENCRYPTION_KEY is not set")
    return [key_from_text(t) for t in texts]


def encryption_key() -> BackupKey:
    return configured_keys()[0]


def key_by_id(key_id: bytes | str) -> BackupKey:
    wanted = bytes.fromhex(key_id) if isinstance(key_id, str) else key_id
    for key in configured_keys():
        if hmac.compare_digest(key.key_id, wanted):
            return key
    raise BackupKeyError("none of the configured backup keys wrote this backup")


def generate_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def _aad(header: bytes, counter: int, final: bool) -> bytes:
    return header + struct.pack(">QB", counter, 1 if final else 0)


class EncryptingWriter:
    """A write-only file object: what is written goes out encrypted to `raw`, one chunk at a
    time. Counts and hashes both sides (the SHA-256 of the encrypted file goes in the manifest).
    `close()` writes the last chunk; without it the file fails to decrypt (cut short)."""

    def __init__(self, raw: BinaryIO, key: BackupKey, *, chunk_size: int = CHUNK_SIZE):
        self._raw = raw
        self._aead = AESGCM(key.data_key)
        self._prefix = os.urandom(8)
        self._chunk_size = chunk_size
        self._header = _HEADER.pack(MAGIC, key.key_id, self._prefix, chunk_size)
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        self.sha256 = hashlib.sha256()
        self.plain_sha256 = hashlib.sha256()
        self.size = 0
        self.plain_size = 0
        self._emit(self._header)

    def _emit(self, data: bytes) -> None:
        self._raw.write(data)
        self.sha256.update(data)
        self.size += len(data)

    def _seal(self, chunk: bytes, final: bool) -> None:
        if self._counter > _MAX_COUNTER:
            raise OverflowError("backup file too large for one nonce prefix")
        nonce = self._prefix + struct.pack(">I", self._counter)
        sealed = self._aead.encrypt(nonce, chunk, _aad(self._header, self._counter, final))
        self._emit(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def write(self, data) -> int:
        if self._closed:
            raise ValueError("write to a closed backup file")
        view = memoryview(data).cast("B")
        self.plain_sha256.update(view)
        self.plain_size += len(view)
        self._buffer += view
        while len(self._buffer) > self._chunk_size:
            chunk = bytes(self._buffer[: self._chunk_size])
            del self._buffer[: self._chunk_size]
            self._seal(chunk, final=False)
        return len(view)

    def flush(self) -> None:
        self._raw.flush()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if self._closed:
            return
        self._seal(bytes(self._buffer), final=True)
        self._buffer = bytearray()
        self._closed = True
        self._raw.flush()


def _read_exact(raw: BinaryIO, n: int) -> bytes:
    data = raw.read(n)
    if len(data) != n:
        raise BackupCorrupt("the file ends early")
    return data


def read_key_id(raw: BinaryIO) -> bytes:
    header = _read_exact(raw, _HEADER.size)
    magic, key_id, _prefix, _size = _HEADER.unpack(header)
    if magic != MAGIC:
        raise BackupCorrupt("not an encrypted backup file")
    return key_id


def decrypt_chunks(raw: BinaryIO, key: BackupKey | None = None) -> Iterator[bytes]:
    """The plaintext of an encrypted backup file, chunk by chunk. Each chunk is authenticated
    before it is given out; a changed, reordered or truncated file raises `BackupCorrupt`
    (at the chunk concerned: a consumer that must not act on a bad file verifies it first)."""
    header = _read_exact(raw, _HEADER.size)
    magic, key_id, prefix, chunk_size = _HEADER.unpack(header)
    if magic != MAGIC:
        raise BackupCorrupt("not an encrypted backup file")
    key = key or key_by_id(key_id)
    if not hmac.compare_digest(key.key_id, key_id):
        raise BackupKeyError("this backup was written with another key")
    aead = AESGCM(key.data_key)
    counter = 0
    record = _read_record(raw, chunk_size)
    while record is not None:
        following = _read_record(raw, chunk_size)
        # The last record present must be the one sealed as last: a file cut at a record
        # boundary fails here, as does one with records appended.
        final = following is None
        nonce = prefix + struct.pack(">I", counter)
        try:
            plain = aead.decrypt(nonce, record, _aad(header, counter, final))
        except InvalidTag:
            raise BackupCorrupt(f"chunk {counter} fails authentication") from None
        yield plain
        counter += 1
        record = following
    if counter == 0:
        raise BackupCorrupt("the file ends early")


def _read_record(raw: BinaryIO, chunk_size: int) -> bytes | None:
    prefix = raw.read(_LENGTH.size)
    if not prefix:
        return None
    if len(prefix) != _LENGTH.size:
        raise BackupCorrupt("the file ends early")
    length = _LENGTH.unpack(prefix)[0]
    if length < TAG_SIZE or length > chunk_size + TAG_SIZE:
        raise BackupCorrupt("a chunk has an impossible length")
    return _read_exact(raw, length)


class DecryptingReader:
    """A read-only file object over `decrypt_chunks` (for tarfile's stream mode)."""

    def __init__(self, raw: BinaryIO, key: BackupKey | None = None):
        self._chunks = decrypt_chunks(raw, key)
        self._chunk = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        out = bytearray()
        while n < 0 or len(out) < n:
            if self._pos >= len(self._chunk):
                try:
                    self._chunk, self._pos = next(self._chunks), 0
                except StopIteration:
                    break
                continue
            available = len(self._chunk) - self._pos
            take = available if n < 0 else min(n - len(out), available)
            out += self._chunk[self._pos : self._pos + take]
            self._pos += take
        return bytes(out)


def manifest_sign(manifest: dict, key: BackupKey) -> dict:
    """The manifest with `signature`: HMAC-SHA256 of its canonical JSON without it."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    mac = hmac.new(key.manifest_key, canonical_json(body), hashlib.sha256).hexdigest()
    return {**body, "signature": mac}


def manifest_check(manifest: dict) -> BackupKey:
    """The key that signed `manifest`; raises BackupCorrupt when the signature is wrong."""
    key = key_by_id(str(manifest.get("key_id", "")))
    body = {k: v for k, v in manifest.items() if k != "signature"}
    mac = hmac.new(key.manifest_key, canonical_json(body), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, str(manifest.get("signature", ""))):
        raise BackupCorrupt("the manifest's signature does not match its contents")
    return key


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
