"""Files kept sealed at rest: AES-256-GCM in chunks (a streaming AEAD), for copies of zone data
kept outside the database (uploaded files, reject files and held sources of a restricted or
sensitive resource; decision "sealed-files").

A sealed file is a header (magic, key id, random nonce prefix, chunk size) and records, each a
4-byte length and one chunk sealed under the nonce `prefix || counter`, its associated data the
header, the counter and whether it is the last chunk: a chunk cannot be changed, moved, dropped
or cut off at the end without opening failing (the construction of age's STREAM and Tink's
streaming AEAD, as the backups use: security/backups/crypto.py). Memory stays at one chunk.

The key is derived with HKDF from `FIELD_ENCRYPTION_KEY` (its first key seals, each one may
open: rotation, as for sealed fields: kernel/sealing.py), or from `SECRET_KEY` when that is not
set (development and tests). A file is recognised by its magic; a plain file (written before,
or of a general-zone resource) is read as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MAGIC = b"WPDRSEF1"
CHUNK_SIZE = 256 * 1024
TAG_SIZE = 16
_HEADER = struct.Struct(">8s8s8sI")  # magic, key id, nonce prefix, chunk size
_LENGTH = struct.Struct(">I")
_MAX_COUNTER = 2**32 - 1


class SealedFileError(Exception):
    """A sealed file that cannot be opened: changed, cut short, or sealed with a key that is
    no longer configured."""


@dataclass(frozen=True)
class FileKey:
    key_id: bytes
    key: bytes


def _derive(material: bytes) -> FileKey:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"wuhan-pdr-sealing", info=b"files"
    ).derive(material)
    return FileKey(
        key_id=hashlib.sha256(b"wuhan-pdr sealed file key\0" + key).digest()[:8], key=key
    )


def configured_keys() -> list[FileKey]:
    texts = [t.strip() for t in (getattr(settings, "FIELD_ENCRYPTION_KEY", "") or "").split(",")]
    texts = [t for t in texts if t]
    if texts:
        return [_derive(t.encode()) for t in texts]
    return [_derive(b"secret-key\0" + settings.SECRET_KEY.encode())]


def _key_by_id(key_id: bytes) -> FileKey:
    for key in configured_keys():
        if hmac.compare_digest(key.key_id, key_id):
            return key
    raise SealedFileError("none of the configured keys sealed this file")


def _aad(header: bytes, counter: int, final: bool) -> bytes:
    return header + struct.pack(">QB", counter, 1 if final else 0)


class SealingWriter:
    """A write-only file object: what is written goes to `raw` sealed, chunk by chunk.
    `close()` seals the last chunk (without it the file does not open: cut short)."""

    def __init__(self, raw: BinaryIO, *, chunk_size: int = CHUNK_SIZE):
        key = configured_keys()[0]
        self._raw = raw
        self._aead = AESGCM(key.key)
        self._prefix = os.urandom(8)
        self._chunk_size = chunk_size
        self._header = _HEADER.pack(MAGIC, key.key_id, self._prefix, chunk_size)
        self._buffer = bytearray()
        self._counter = 0
        self._closed = False
        self.plain_size = 0
        raw.write(self._header)

    def _seal(self, chunk: bytes, final: bool) -> None:
        if self._counter > _MAX_COUNTER:
            raise OverflowError("file too large to seal")
        nonce = self._prefix + struct.pack(">I", self._counter)
        sealed = self._aead.encrypt(nonce, chunk, _aad(self._header, self._counter, final))
        self._raw.write(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        self.plain_size += len(view)
        self._buffer += view
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), final=False)
            del self._buffer[: self._chunk_size]
        return len(view)

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer = bytearray()
            self._closed = True
            self._raw.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.close()
        return False


def is_sealed(handle: BinaryIO) -> bool:
    """Whether the open file (positioned at its start; put back there) is sealed."""
    start = handle.tell()
    try:
        return handle.read(len(MAGIC)) == MAGIC
    finally:
        handle.seek(start)


def _read_exact(raw: BinaryIO, n: int) -> bytes:
    data = raw.read(n)
    if len(data) != n:
        raise SealedFileError("the file ends early")
    return data


def _read_record(raw: BinaryIO, chunk_size: int) -> bytes | None:
    prefix = raw.read(_LENGTH.size)
    if not prefix:
        return None
    if len(prefix) != _LENGTH.size:
        raise SealedFileError("the file ends early")
    length = _LENGTH.unpack(prefix)[0]
    if length < TAG_SIZE or length > chunk_size + TAG_SIZE:
        raise SealedFileError("a chunk has an impossible length")
    return _read_exact(raw, length)


def open_chunks(raw: BinaryIO) -> Iterator[bytes]:
    """The clear bytes of a sealed file, chunk by chunk, each authenticated before it is
    given out (a changed, reordered or truncated file raises SealedFileError)."""
    header = _read_exact(raw, _HEADER.size)
    magic, key_id, prefix, chunk_size = _HEADER.unpack(header)
    if magic != MAGIC:
        raise SealedFileError("not a sealed file")
    aead = AESGCM(_key_by_id(key_id).key)
    counter = 0
    record = _read_record(raw, chunk_size)
    while record is not None:
        following = _read_record(raw, chunk_size)
        nonce = prefix + struct.pack(">I", counter)
        try:
            plain = aead.decrypt(nonce, record, _aad(header, counter, following is None))
        except InvalidTag:
            raise SealedFileError(f"chunk {counter} fails authentication") from None
        yield plain
        counter += 1
        record = following
    if counter == 0:
        raise SealedFileError("the file ends early")


def clear_chunks(handle: BinaryIO, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The clear bytes of an open file, sealed or plain."""
    if is_sealed(handle):
        yield from open_chunks(handle)
        return
    while block := handle.read(size):
        yield block


def seal_stream(source: BinaryIO, target: BinaryIO) -> int:
    """Seal what `source` holds into `target`; the clear size."""
    with SealingWriter(target) as writer:
        while block := source.read(CHUNK_SIZE):
            writer.write(block)
    return writer.plain_size


def sealed_temporary(source) -> tempfile.SpooledTemporaryFile:
    """A temporary file holding `source` (a file object or a Django File/UploadedFile, read
    from its start) sealed, positioned at its start: hand it to `FieldFile.save`."""
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115  (returned)
    if hasattr(source, "seek"):
        source.seek(0)
    if hasattr(source, "chunks"):
        with SealingWriter(spool) as writer:
            for block in source.chunks():
                writer.write(block)
    else:
        seal_stream(source, spool)
    spool.seek(0)
    return spool


def clear_copy(path: Path, target: Path) -> Path:
    """`path` in clear at `target` when it is sealed (for the loader, in its work directory),
    else `path` itself."""
    with Path(path).open("rb") as handle:
        if not is_sealed(handle):
            return Path(path)
        with Path(target).open("wb") as out:
            for block in open_chunks(handle):
                out.write(block)
    return Path(target)


def clear_size(handle: BinaryIO) -> int:
    """The clear size of an open file (sealed or not) without opening its chunks: every
    record but the last holds a full chunk, each adds its length and tag."""
    start = handle.tell()
    try:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size < _HEADER.size:
            return size
        handle.seek(0)
        magic, _key_id, _prefix, chunk_size = _HEADER.unpack(handle.read(_HEADER.size))
        if magic != MAGIC:
            return size
        body = size - _HEADER.size
        overhead = _LENGTH.size + TAG_SIZE
        records = -(-body // (chunk_size + overhead))
        return max(0, body - records * overhead)
    finally:
        handle.seek(start)
