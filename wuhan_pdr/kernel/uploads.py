"""Checks every Excel upload needs before anything parses it: the file is an XLSX workbook
(a ZIP holding xl/workbook.xml) and it does not expand into a ZIP bomb. Code-list imports,
bulk filing and the file channel call `inspect_workbook` and turn its refusal into their own
error type (the message is the same everywhere)."""

from __future__ import annotations

import zipfile

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
