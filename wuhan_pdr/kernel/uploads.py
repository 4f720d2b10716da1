"""Checks every upload needs before anything parses or stores it.

Excel: the file is an XLSX workbook (a ZIP holding xl/workbook.xml) and it does not expand
into a ZIP bomb. Code-list imports, bulk filing and the file channel call `inspect_workbook`
and turn its refusal into their own error type (the message is the same everywhere).
Documents (PDF, Word, OpenDocument, images): `inspect_document` checks the size, the
extension and that the content is of the kind the name says (emergency plans' documents)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.utils.translation import gettext as _


class WorkbookRefused(Exception):
    """The file is not a workbook, or it is unsafe to open. `message` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def inspect_workbook(
    source,
    *,
    name: str,
    max_inflated: int,
    max_ratio: int,
    max_member_ratio: int | None = None,
) -> list[zipfile.ZipInfo]:
    """The members of the workbook `source` (a path or a binary file object, rewound after),
    or WorkbookRefused: not a ZIP, not a workbook, or inflating past `max_inflated` bytes or
    `max_ratio` times its packed size (any member past `max_member_ratio`, if given)."""
    name = name or _("The file")
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise WorkbookRefused(
            _("%(name)s is not an Excel workbook (.xlsx): it may be damaged or renamed.")
            % {"name": name}
        ) from exc
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        raise WorkbookRefused(
            _("%(name)s is a ZIP archive but not an Excel workbook (.xlsx).") % {"name": name}
        )
    inflated = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos), default=0)
    if (
        inflated > max_inflated
        or inflated > max_ratio * max(packed, 1)
        or (max_member_ratio is not None and worst > max_member_ratio)
    ):
        raise WorkbookRefused(
            _(
                "The workbook would expand to %(mb)d MB (%(ratio)d times its size): refused as a "
                "possible ZIP bomb. Save it again from Excel, or split it."
            )
            % {"mb": inflated // (1024 * 1024), "ratio": inflated // max(packed, 1)}
        )
    return infos


# --- documents ----------------------------------------------------------------------------------

# What each document kind is called to the user and the extensions it may have.
DOCUMENT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("PDF", (".pdf",)),
    "docx": ("Word (.docx)", (".docx",)),
    "odt": ("OpenDocument (.odt)", (".odt",)),
    "xlsx": ("Excel (.xlsx)", (".xlsx",)),
    "png": ("PNG", (".png",)),
    "jpeg": ("JPEG", (".jpg", ".jpeg")),
}
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
# An office document is a ZIP: more members than this, or inflating past this many bytes or
# this many times its size, is not a document someone wrote.
DOCUMENT_MAX_MEMBERS = 2000
DOCUMENT_MAX_INFLATED = 512 * 1024 * 1024
DOCUMENT_MAX_RATIO = 200


class UploadRefused(Exception):
    """An uploaded file that is refused: too large, empty, of a kind not taken, or not what
    its name says. `message` is for the user and names the file."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _zip_kind(source) -> str | None:
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            if len(infos) > DOCUMENT_MAX_MEMBERS:
                return "bomb"
            inflated = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos)
            if inflated > DOCUMENT_MAX_INFLATED or inflated > DOCUMENT_MAX_RATIO * max(packed, 1):
                return "bomb"
            names = {i.filename for i in infos}
            if infos and infos[0].filename == "mimetype":
                if archive.read("mimetype").strip() == ODT_MIMETYPE:
                    return "odt"
                return None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError):
        return None
    finally:
        source.seek(0)
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def sniff_document(source) -> str | None:
    """The kind of document `source` (a binary file object, rewound after) holds, by its
    content: pdf, docx, odt, xlsx, png, jpeg, "bomb" (a ZIP that expands too far) or None."""
    source.seek(0)
    head = source.read(16)
    source.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(source)
    return None


def inspect_document(uploaded, *, kinds: tuple[str, ...], max_bytes: int) -> str:
    """Check an uploaded document before it is stored: at most `max_bytes`, not empty, its
    extension one of `kinds` (keys of DOCUMENT_KINDS) and its content of that kind. Returns
    the extension to store it under (lower case) or raises UploadRefused."""
    name = Path(getattr(uploaded, "name", "") or "").name or _("The file")
    size = getattr(uploaded, "size", None)
    if size is None or size > max_bytes:
        raise UploadRefused(
            _("%(name)s is too large: at most %(max)s MB.")
            % {"name": name, "max": max(1, max_bytes // (1024 * 1024))}
        )
    if size == 0:
        raise UploadRefused(_("%(name)s is empty.") % {"name": name})
    ext = Path(name).suffix.lower()
    wanted = next((k for k in kinds if ext in DOCUMENT_KINDS[k][1]), None)
    allowed = ", ".join(DOCUMENT_KINDS[k][0] for k in kinds)
    if wanted is None:
        raise UploadRefused(
            _("%(name)s is not a file of a kind taken here: attach %(kinds)s.")
            % {"name": name, "kinds": allowed}
        )
    found = sniff_document(uploaded)
    if found == "bomb":
        raise UploadRefused(
            _("%(name)s would expand far beyond its size: refused as a possible ZIP bomb.")
            % {"name": name}
        )
    if found != wanted:
        raise UploadRefused(
            _("The content of %(name)s is not a %(kind)s file: it may be damaged or renamed.")
            % {"name": name, "kind": DOCUMENT_KINDS[wanted][0]}
        )
    return ".jpg" if ext == ".jpeg" else ext
