"""Writes of the Excel bulk filing: the upload, and the check and import the worker runs.

`bulk_filing_upload` refuses at once what can be told without reading the rows (size, not a
workbook, a ZIP bomb), stores the file, records the `BulkFiling` and enqueues the durable job
in the same transaction. The job (`tasks.py`) calls `bulk_filing_process`: it reads and
checks every row; if anything fails, the filing is refused with the list of errors and a copy
of the workbook marking the bad cells, and nothing is imported; otherwise every resource is
created as a draft of the uploader's agency in one transaction (`importer.py`).
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wuhan_pdr.kernel.errors import AccessDenied
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import job_enqueue, job_progress, soft_time_limit_of, time_limit_message
from wuhan_pdr.kernel.models import BackgroundJob
from wuhan_pdr.kernel.notifications import notify

from ..permissions import can_file_for
from .checks import check_workbook, sort_issues
from .columns import RESOURCES_SHEET
from .importer import import_drafts
from .marking import write_marked_copy
from .models import BulkFiling
from .reader import BulkRefused, CellIssue, inspect_file, max_bytes, read_workbook
from .vocabulary import Vocabulary

logger = logging.getLogger(__name__)

TASK_NAME = "catalog.bulk_filing_process"
MAX_STORED_ERRORS = 5000  # the report lists these; the marked workbook marks every one
S = BulkFiling.State


@transaction.atomic
def bulk_filing_upload(*, acting_user, upload, filename: str = "") -> BulkFiling:
    """Store an uploaded workbook for the acting user's agency and queue its check.

    Raises AccessDenied for anyone who may not file for an agency, BulkRefused (with a
    message for the form) for a file that is too large, not a workbook or a ZIP bomb."""
    org = acting_user.organization if acting_user.is_authenticated else None
    if not can_file_for(acting_user, org):
        raise AccessDenied(_("You may not file catalog entries for this organization."))
    name = os.path.basename(filename or getattr(upload, "name", "") or "workbook.xlsx")[:255]
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > max_bytes():
        raise BulkRefused(
            _(
                "The file is %(size)d MB, more than the %(max)d MB allowed: split it into smaller files."
            )
            % {"size": size // (1024 * 1024), "max": max_bytes() // (1024 * 1024)}
        )
    if hasattr(upload, "temporary_file_path"):
        inspect_file(upload.temporary_file_path(), name=name)
    else:
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
                tmp.write(chunk)
            tmp.flush()
            inspect_file(tmp.name, name=name)
    if hasattr(upload, "seek"):
        upload.seek(0)
    filing = BulkFiling(
        organization=org,
        uploaded_by=acting_user,
        original_name=name,
        size_bytes=size or 0,
    )
    filing.workbook.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    try:
        audited_save(filing, acting_user=acting_user, reason=_("Workbook uploaded"))
        job = job_enqueue(
            task_name=TASK_NAME, kwargs={"filing_id": filing.pk}, acting_user=acting_user
        )
    except Exception:
        filing.workbook.delete(save=False)
        raise
    BulkFiling.objects.filter(pk=filing.pk).update(job=job)
    filing.job = job
    return filing


def _progress(job: BackgroundJob | None, start: int, span: int) -> Callable[[float], None]:
    last = [-1]

    def report(fraction: float) -> None:
        percent = start + int(span * max(0.0, min(1.0, fraction)))
        if job is not None and percent != last[0]:
            last[0] = percent
            job_progress(job, percent)

    return report


def _finish(filing: BulkFiling, *, reason: str, **fields) -> None:
    for name, value in fields.items():
        setattr(filing, name, value)
    filing.finished_at = timezone.now()
    audited_save(filing, acting_user=filing.uploaded_by, reason=reason, validate=False)


def _refuse(filing: BulkFiling, issues: list[CellIssue], *, path: str | None) -> None:
    issues = sort_issues(issues)
    marked_name = ""
    if path is not None:
        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
            target = tmp.name
        try:
            write_marked_copy(path, issues, target)
            with open(target, "rb") as f:
                stem = os.path.splitext(os.path.basename(filing.workbook.name))[0]
                filing.marked_workbook.save(f"{stem}-marked.xlsx", File(f), save=False)
                marked_name = filing.marked_workbook.name
        except Exception:  # the report stands without the marked copy
            logger.exception("bulk filing %s: the marked copy could not be written", filing.pk)
        finally:
            os.unlink(target)
    with transaction.atomic():
        _finish(
            filing,
            reason=_("Refused: errors found"),
            state=S.REFUSED,
            errors=[i.as_dict() for i in issues[:MAX_STORED_ERRORS]],
            error_count=len(issues),
            marked_workbook=marked_name,
        )
        notify(
            recipients=[filing.uploaded_by],
            title=ngettext(
                "Bulk filing %(name)s refused: %(n)d error to fix",
                "Bulk filing %(name)s refused: %(n)d errors to fix",
                len(issues),
            )
            % {"name": filing.original_name, "n": len(issues)},
            url=reverse("catalog:bulk:detail", kwargs={"pk": filing.pk}),
        )


def bulk_filing_process(*, filing_id: int, job: BackgroundJob | None = None) -> str:
    """Check a stored workbook and import it, or refuse it with its errors. Safe to run
    twice: a filing already decided is left alone, and the import commits together with
    the filing's new state. Returns what happened."""
    with translation.override(settings.LANGUAGE_CODE):
        filing = (
            BulkFiling.objects.select_related("organization", "uploaded_by")
            .filter(pk=filing_id)
            .first()
        )
        if filing is None or filing.state not in (S.PENDING, S.CHECKING):
            return "skipped"
        BulkFiling.objects.filter(pk=filing.pk).update(state=S.CHECKING)
        filing.state = S.CHECKING
        try:
            return _process(filing, job)
        except Exception as exc:  # never leave the filing "being checked" forever
            logger.exception("bulk filing %s failed", filing.pk)
            filing.refresh_from_db()
            if filing.state == S.CHECKING:
                _finish(
                    filing,
                    reason=_("Processing failed"),
                    state=S.FAILED,
                    failure=(
                        time_limit_message(soft_time_limit_of("catalog.bulk_filing_process"))
                        + " "
                        + _("Nothing was imported.")
                        if isinstance(exc, SoftTimeLimitExceeded)
                        else _(
                            "The workbook could not be processed (%(error)s). Nothing was imported."
                        )
                        % {"error": type(exc).__name__}
                    ),
                )
            return "failed"


def _process(filing: BulkFiling, job: BackgroundJob | None) -> str:
    try:
        path = filing.workbook.path
    except (ValueError, NotImplementedError):
        path = ""
    if not path or not os.path.exists(path):
        _finish(
            filing,
            reason=_("Processing failed"),
            state=S.FAILED,
            failure=_("The uploaded file is no longer stored. Upload it again."),
        )
        return "failed"
    try:
        rows = read_workbook(path, name=filing.original_name, progress=_progress(job, 2, 38))
    except BulkRefused as exc:
        _refuse(filing, [CellIssue("", 0, "", "", str(exc))], path=None)
        return "refused"
    vocabulary = Vocabulary.load()
    result = check_workbook(rows, vocabulary=vocabulary, progress=_progress(job, 40, 15))
    issues = list(result.issues)
    if not result.resources and not issues:
        issues.append(
            CellIssue(
                RESOURCES_SHEET,
                0,
                "",
                "",
                _("The sheet %(sheet)s has no resource: fill in one row per resource.")
                % {"sheet": RESOURCES_SHEET},
            )
        )
    if issues:
        _refuse(filing, issues, path=path)
        return "refused"

    user = filing.uploaded_by
    with transaction.atomic():
        locked = BulkFiling.objects.select_for_update().get(pk=filing.pk)
        if locked.state != S.CHECKING:
            return "skipped"
        if not can_file_for(user, locked.organization):
            _finish(
                locked,
                reason=_("Processing failed"),
                state=S.FAILED,
                failure=_("The uploader may no longer file catalog entries for this agency."),
            )
            return "failed"
        resources = import_drafts(
            parsed=result.resources,
            provider=locked.organization,
            acting_user=user,
            progress=_progress(job, 55, 44),
        )
        Through = BulkFiling.resources.through
        Through.objects.bulk_create(
            [Through(bulkfiling_id=locked.pk, resource_id=r.pk) for r in resources],
            batch_size=2000,
        )
        _finish(
            locked,
            reason=_("Imported as drafts"),
            state=S.IMPORTED,
            errors=[],
            error_count=0,
            resources_count=len(resources),
            items_count=result.items_count,
        )
        notify(
            recipients=[user],
            title=ngettext(
                "Bulk filing %(name)s imported: %(n)d draft",
                "Bulk filing %(name)s imported: %(n)d drafts",
                len(resources),
            )
            % {"name": locked.original_name, "n": len(resources)},
            url=reverse("catalog:bulk:detail", kwargs={"pk": locked.pk}),
        )
    return "imported"
