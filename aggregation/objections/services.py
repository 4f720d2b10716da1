"""Writes on objections (Art. 10). Each service takes `acting_user`, checks rights and state
first (through the workflow's guards), runs in one transaction, and records history and a
workflow event naming the actor. Every step sets the deadline of the next one in working
days (`limits.working_days_for`, changeable by the bureau) and notifies the requester; the
provider's staff are notified when the objection reaches them.

The rows objected to are read from the resource's datastore table by key when the objection
is filed, and again when the provider reports, so the page can show them before and after
(each reader sees of them what `permissions.row_rights` allows, masked by
`security.masking`: `selectors.changed_rows_table`). Only who may see a resource's rows may
name them; filing is limited per user and hour (`throttle.py`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Resource
from security import zones
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import deadline_after

from ..datastore import (
    read_functions_current,
    read_functions_refresh,
    table_columns,
    table_exists,
)
from ..limits import working_days_for
from ..models import DatastoreTable, Objection, TimeLimit
from ..selectors import masked_columns
from .permissions import PROVIDER_ROLES, RowRights, can_file, can_set_limits, row_rights
from .throttle import give_back_filing_slot, take_filing_slot
from .workflows import OPEN_STATES, objection_workflow

S = Objection.State
O = Objection.Outcome  # noqa: E741
K = TimeLimit.Key

MAX_ROW_KEYS = 100
MAX_TEXT = 4000
# Evidence: extension -> what the content must be.
EVIDENCE_TYPES = {
    ".pdf": "pdf",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".docx": "docx",
    ".xlsx": "xlsx",
}
# An Office file is a zip; more members than this is not a document someone wrote.
MAX_ZIP_MEMBERS = 2000


def evidence_max_bytes() -> int:
    return getattr(settings, "OBJECTION_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)


# --- checks of the input -----------------------------------------------------------------------


def _clean_text(value: str, *, field: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if "\x00" in value:
        raise DomainError(_("Null characters are not allowed."), field=field)
    if len(value) > limit:
        raise DomainError(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return value


def _sniff(head: bytes, uploaded) -> str | None:
    """What the content of the file is (pdf, jpeg, png, docx, xlsx), whatever its name."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"PK\x03\x04"):
        uploaded.seek(0)
        try:
            with zipfile.ZipFile(uploaded) as z:
                infos = z.infolist()
                if len(infos) > MAX_ZIP_MEMBERS:
                    return None
                names = {i.filename for i in infos}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None
        finally:
            uploaded.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def evidence_check(uploaded) -> str:
    """The extension to store the evidence under, or DomainError (field `evidence`) when the
    file is too large, of a type not taken, or its content is not what its name says."""
    name = Path(getattr(uploaded, "name", "") or "").name
    ext = Path(name).suffix.lower()
    size = getattr(uploaded, "size", None)
    limit = evidence_max_bytes()
    if size is None or size > limit:
        raise DomainError(
            _("The file is too large: at most %(max)s MB.") % {"max": limit // (1024 * 1024)},
            field="evidence",
        )
    if size == 0:
        raise DomainError(_("The file is empty."), field="evidence")
    if ext not in EVIDENCE_TYPES:
        raise DomainError(
            _("Attach a PDF, JPG, PNG, Word (.docx) or Excel (.xlsx) file."), field="evidence"
        )
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    if _sniff(head, uploaded) != EVIDENCE_TYPES[ext]:
        raise DomainError(
            _("The file's content is not a %(type)s file: attach the document itself.")
            % {"type": ext.lstrip(".").upper()},
            field="evidence",
        )
    return ".jpg" if ext == ".jpeg" else ext


def _table_for(resource: Resource) -> DatastoreTable | None:
    table = DatastoreTable.objects.filter(resource=resource).first()
    if table is None or not table_exists(table.table_name, table.schema):
        return None
    return table


def parse_row_keys(text: str, key_count: int) -> list[list[str]]:
    """One key per line; a key of several columns gives its values separated by commas
    (a Chinese comma is taken too). Blank lines are skipped, repeated keys kept once."""
    keys: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if "\x00" in line:
            raise DomainError(_("Null characters are not allowed."), field="rows")
        values = [v.strip() for v in line.replace(",", ",").split(",")] if key_count > 1 else [line]
        if len(values) != key_count or any(not v for v in values):
            raise DomainError(
                _("Line %(line)d: give %(n)d key values separated by commas.")
                % {"line": number, "n": key_count},
                field="rows",
            )
        if tuple(values) not in seen:
            seen.add(tuple(values))
            keys.append(values)
    if len(keys) > MAX_ROW_KEYS:
        raise DomainError(
            _("At most %(n)d rows per objection; object to the resource as a whole instead.")
            % {"n": MAX_ROW_KEYS},
            field="rows",
        )
    return keys


def _key_columns(table: DatastoreTable):
    return [c for c in table_columns(table) if c.key]


def row_key_items(resource: Resource) -> list[str]:
    """The names of the items that make up a row's key in the resource's data on the
    platform, in order ([] when rows cannot be named: no data, or no key)."""
    table = _table_for(resource)
    return [c.item for c in _key_columns(table)] if table is not None else []


def rows_by_key(table: DatastoreTable, keys: list[list[str]]) -> dict:
    """The current rows of `table` with these keys (compared as text), as
    {"columns": [names], "rows": [[values as text]]} in the order of `keys`. The rows come
    through the table's read function, masked columns masked: the snapshots an objection
    keeps outside the table's zone hold no masked value in clear."""
    columns = table_columns(table)
    key_cols = [c for c in columns if c.key]
    if not keys or not key_cols:
        return {"columns": [c.name for c in columns], "rows": []}
    if not read_functions_current(table):
        with contextlib.suppress(Exception), transaction.atomic():
            read_functions_refresh(table)
    found = zones.read_rows(schema=table.schema, table=table.table_name, keys=keys)
    positions = [i for i, c in enumerate(columns) if c.key]
    by_key = {tuple(row[i] for i in positions): list(row) for row in found}
    return {
        "columns": [c.name for c in columns],
        "labels": [c.item for c in columns],
        "key_positions": positions,
        # The columns that came masked (a reader masks only the others).
        "masked": sorted(k for k in (table.read_masked or {}) if not k.startswith("@")),
        "rows": [by_key[tuple(k)] for k in keys if tuple(k) in by_key],
    }


def row_keys_check(
    resource: Resource, text: str, rights: RowRights
) -> tuple[list[list[str]], dict]:
    """The parsed keys and the rows they name now, or DomainError (field `rows`) naming the
    first keys that are not in the resource's data.

    Only who may see the rows (`rights.may_name_rows`) gets that far; anyone else is refused
    before any key is looked up, with the same answer whatever the keys."""
    if not (text or "").strip():
        return [], {}
    if not rights.may_name_rows:
        raise DomainError(
            _(
                "Rows can be named only by those who may see this resource's rows: leave the "
                "rows empty to object to the resource as a whole, and describe the problem."
            ),
            field="rows",
        )
    table = _table_for(resource)
    if table is None:
        raise DomainError(
            _(
                "This resource holds no data on the platform yet: leave the rows empty to "
                "object to the resource as a whole."
            ),
            field="rows",
        )
    key_cols = _key_columns(table)
    if not key_cols:
        raise DomainError(
            _("This resource's data has no key: object to the resource as a whole."),
            field="rows",
        )
    if any(c.name in masked_columns(table) for c in key_cols):
        # A masked column is never an equality filter (its read function refuses too).
        raise DomainError(
            _(
                "This resource's key has a masked column, so rows cannot be named by it: "
                "object to the resource as a whole and describe the rows."
            ),
            field="rows",
        )
    keys = parse_row_keys(text, len(key_cols))
    snapshot = rows_by_key(table, keys)
    found = {tuple(row[i] for i in snapshot["key_positions"]) for row in snapshot["rows"]}
    missing = [", ".join(k) for k in keys if tuple(k) not in found]
    if missing:
        shown = "; ".join(f"“{m}”" for m in missing[:5])
        raise DomainError(
            _("No row with the key %(keys)s in this resource's data (key: %(columns)s).")
            % {"keys": shown, "columns": ", ".join(c.item for c in key_cols)},
            field="rows",
        )
    return keys, snapshot


# --- notifications ---------------------------------------------------------------------------


def objection_title(objection: Objection) -> str:
    version = objection.resource.published_version
    name = version.name if version is not None else objection.resource.code
    return f"#{objection.pk} {name}"


def _url(objection: Objection) -> str:
    return reverse("objections:detail", kwargs={"pk": objection.pk})


def bureau_reviewers():
    return User.objects.filter(
        is_active=True,
        organization__kind=Organization.Kind.CITY_BUREAU,
        groups__name=Role.CITY_REVIEWER,
    ).distinct()


def provider_staff(objection: Objection):
    return User.objects.filter(
        is_active=True,
        organization_id=objection.resource.provider_id,
        groups__name__in=[str(r) for r in PROVIDER_ROLES],
    ).distinct()


def _tell(objection: Objection, title: str, body: str = "", *, provider=False, bureau=False):
    url = _url(objection)
    full = f"{objection_title(objection)}: {title}"
    notify(recipients=[objection.requester], title=full, body=body, url=url)
    if provider:
        notify(recipients=provider_staff(objection), title=full, body=body, url=url)
    if bureau:
        notify(recipients=bureau_reviewers(), title=full, body=body, url=url)


def _deadline(key: str) -> dt.datetime:
    return deadline_after(working_days_for(key))


def _locked(objection: Objection) -> Objection:
    return (
        Objection.objects.select_for_update(of=("self",))
        .select_related("resource__provider", "resource__published_version", "requester")
        .get(pk=objection.pk)
    )


# --- the steps -------------------------------------------------------------------------------


def objection_submit(
    *,
    resource: Resource,
    kind: str,
    description: str,
    rows: str = "",
    evidence=None,
    acting_user: User,
) -> Objection:
    """File an objection to a published resource, or to some of its rows (one key per line),
    with optional evidence. The bureau has `objection_decide` working days to decide.

    The user must be one who may object to the resource (`row_rights`), and name rows only
    when it may see them; each user files at most `OBJECTION_FILINGS_PER_HOUR` an hour."""
    if not can_file(acting_user):
        raise AccessDenied(_("Sign in to raise an objection."))
    if resource.published_version_id is None or resource.retired_at is not None:
        raise DomainError(_("Only a published resource can be objected to."))
    rights = row_rights(acting_user, resource)
    if not rights.may_object:
        raise AccessDenied(_("You may not object to this resource."))
    if kind not in Objection.Kind.values:
        raise DomainError(_("Choose what is wrong."), field="kind")
    description = _clean_text(description, field="description")
    ext = evidence_check(evidence) if evidence else None
    slot = take_filing_slot(acting_user)
    try:
        return _file(resource, kind, description, rows, evidence, ext, rights, acting_user)
    except Exception:
        give_back_filing_slot(slot)
        raise


def _file(resource, kind, description, rows, evidence, ext, rights, acting_user) -> Objection:
    with transaction.atomic():
        keys, snapshot = row_keys_check(resource, rows, rights)
        objection = Objection(
            resource=resource,
            requester=acting_user,
            kind=kind,
            description=description,
            row_keys=keys,
            state="",
            step_deadline=_deadline(K.OBJECTION_DECIDE),
        )
        if snapshot:
            objection.changed_rows = {
                "columns": snapshot["columns"],
                "labels": snapshot["labels"],
                "key_positions": snapshot["key_positions"],
                "before": snapshot["rows"],
                "before_masked": snapshot["masked"],
                "before_at": timezone.now().isoformat(),
                "after": [],
            }
        if ext:
            evidence.seek(0)
            # A random name: the file is only served through the access-checked view.
            objection.evidence.save(
                f"{secrets.token_hex(16)}{ext}", ContentFile(evidence.read()), save=False
            )
        objection_workflow.apply(objection, "submit", acting_user=acting_user)
        _tell(
            objection,
            _("objection received"),
            _("The data bureau decides whether to accept it by %(date)s.")
            % {"date": timezone.localtime(objection.step_deadline).date().isoformat()},
            bureau=True,
        )
        return objection


def objection_decide(
    *, objection: Objection, accept: bool, reason: str, acting_user: User
) -> Objection:
    """The bureau accepts the objection (a consultation follows) or rejects it; reasons are
    required either way and shown to the requester."""
    reason = _clean_text(reason, field="reason")
    with transaction.atomic():
        objection = _locked(objection)
        name = "accept" if accept else "reject"
        objection_workflow.check(objection, name, acting_user=acting_user, comment=reason)
        objection.decision_reason = reason
        if accept:
            objection.step_deadline = _deadline(K.OBJECTION_CONSULT)
        else:
            objection.step_deadline = None
            objection.closed_at = timezone.now()
        objection_workflow.apply(objection, name, acting_user=acting_user, comment=reason)
        if accept:
            _tell(
                objection,
                _("accepted; a consultation will be held"),
                reason,
                provider=True,
            )
        else:
            _tell(objection, _("rejected"), reason)
    return objection


def objection_record_consultation(
    *,
    objection: Objection,
    held_at: dt.datetime,
    participants: str,
    minutes: str,
    outcome: str,
    outcome_detail: str,
    acting_user: User,
) -> Objection:
    """The bureau records the consultation with provider and requester and the agreed
    outcome. Correct, supplement or delete go to the provider to carry out; "reject" (the
    objection is not upheld) closes it."""
    if held_at is None:
        raise DomainError(_("When was the consultation held?"), field="held_at")
    if held_at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError(_("The consultation cannot be in the future."), field="held_at")
    participants = _clean_text(participants, field="participants", limit=2000)
    minutes = _clean_text(minutes, field="minutes", limit=8000)
    outcome_detail = _clean_text(outcome_detail, field="outcome_detail")
    if outcome not in O.values:
        raise DomainError(_("Choose the agreed outcome."), field="outcome")
    with transaction.atomic():
        objection = _locked(objection)
        # The form takes minutes: a consultation in the minute of filing is fine.
        if held_at < objection.created_at.replace(second=0, microsecond=0):
            raise DomainError(
                _("The consultation cannot be before the objection was filed."), field="held_at"
            )
        name = "not_upheld" if outcome == O.REJECT else "agree"
        objection_workflow.check(objection, name, acting_user=acting_user)
        objection.consultation_at = held_at
        objection.consultation_participants = participants
        objection.consultation_minutes = minutes
        objection.outcome = outcome
        objection.outcome_detail = outcome_detail
        if outcome == O.REJECT:
            objection.step_deadline = None
            objection.closed_at = timezone.now()
        else:
            objection.step_deadline = _deadline(K.OBJECTION_CARRY_OUT)
        objection_workflow.apply(objection, name, acting_user=acting_user, comment=outcome_detail)
        if outcome == O.REJECT:
            _tell(
                objection, _("not upheld after consultation; closed"), outcome_detail, provider=True
            )
        else:
            _tell(
                objection,
                _("consultation held; the provider is to %(outcome)s the data")
                % {"outcome": objection.get_outcome_display()},
                outcome_detail,
                provider=True,
            )
    return objection


def objection_report(*, objection: Objection, report: str, acting_user: User) -> Objection:
    """The provider reports what it did; the rows objected to are read again so that the
    page shows them before and after."""
    report = _clean_text(report, field="report")
    with transaction.atomic():
        objection = _locked(objection)
        objection_workflow.check(objection, "report", acting_user=acting_user)
        objection.provider_report = report
        if objection.row_keys:
            table = _table_for(objection.resource)
            changed = dict(objection.changed_rows or {})
            if table is not None:
                now = rows_by_key(table, objection.row_keys)
                changed.update(
                    {
                        "columns": now["columns"],
                        "labels": now["labels"],
                        "key_positions": now["key_positions"],
                        "after": now["rows"],
                        "after_masked": now["masked"],
                        "after_at": timezone.now().isoformat(),
                    }
                )
            objection.changed_rows = changed
        objection.step_deadline = _deadline(K.OBJECTION_CLOSE)
        objection_workflow.apply(objection, "report", acting_user=acting_user, comment=report)
        _tell(objection, _("the provider reported what it did"), report, bureau=True)
    return objection


def objection_close(*, objection: Objection, comment: str = "", acting_user: User) -> Objection:
    """The bureau accepts the provider's report and closes the objection."""
    comment = _clean_text(comment, field="comment", required=False)
    with transaction.atomic():
        objection = _locked(objection)
        objection_workflow.check(objection, "close", acting_user=acting_user)
        objection.step_deadline = None
        objection.closed_at = timezone.now()
        objection_workflow.apply(objection, "close", acting_user=acting_user, comment=comment)
        _tell(objection, _("closed"), comment, provider=True)
    return objection


def objection_return(*, objection: Objection, comment: str, acting_user: User) -> Objection:
    """The bureau finds the report insufficient and returns the objection to the provider."""
    comment = _clean_text(comment, field="comment", required=False)
    with transaction.atomic():
        objection = _locked(objection)
        objection_workflow.check(objection, "return", acting_user=acting_user, comment=comment)
        objection.step_deadline = _deadline(K.OBJECTION_CARRY_OUT)
        objection_workflow.apply(objection, "return", acting_user=acting_user, comment=comment)
        _tell(objection, _("returned to the provider"), comment, provider=True)
    return objection


# --- time limits and overdue flags -----------------------------------------------------------


OBJECTION_KEYS = (
    K.OBJECTION_DECIDE,
    K.OBJECTION_CONSULT,
    K.OBJECTION_CARRY_OUT,
    K.OBJECTION_CLOSE,
)
# The limits page sets these: the quality issue's (问题清单) and the objection steps'.
LIMIT_KEYS = (K.ISSUE_RECTIFY, *OBJECTION_KEYS)
MAX_LIMIT_DAYS = 60


def time_limit_set(*, key: str, working_days: int, acting_user: User) -> TimeLimit:
    """Change the time limit of a procedure step (working days, 1-60). Applies to the
    deadlines set from now on."""
    if not can_set_limits(acting_user):
        raise AccessDenied(_("Only the data bureau sets time limits."))
    if key not in K.values:
        raise DomainError(_("Unknown procedure step."), field="key")
    if not isinstance(working_days, int) or not 1 <= working_days <= MAX_LIMIT_DAYS:
        raise DomainError(
            _("Give a number of working days from 1 to %(n)d.") % {"n": MAX_LIMIT_DAYS},
            field=key,
        )
    with transaction.atomic():
        limit = TimeLimit.objects.select_for_update().filter(key=key).first()
        if limit is None:
            limit = TimeLimit(key=key, working_days=working_days)
        elif limit.working_days == working_days:
            return limit
        limit.working_days = working_days
        audited_save(limit, acting_user=acting_user, reason=_("Time limit changed"))
    return limit


def objections_flag_overdue(*, now: dt.datetime | None = None) -> int:
    """Daily: tell whoever holds an overdue objection (the bureau for deciding, consulting and
    closing, the provider's staff for carrying out) and the requester. Once a day per
    objection: a second run the same day sends nothing. Returns how many were flagged."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    overdue = (
        Objection.objects.filter(state__in=OPEN_STATES, step_deadline__lt=now)
        .exclude(overdue_flagged_on=today)
        .select_related("resource__published_version", "requester")
    )
    flagged = 0
    for objection in overdue:
        url = _url(objection)
        # Marked without a history row: a reminder, not a change of the objection.
        Objection.objects.filter(pk=objection.pk).update(overdue_flagged_on=today)
        title = f"{objection_title(objection)}: {_('overdue')}"
        body = _("The deadline of the step “%(state)s” was %(date)s.") % {
            "state": objection.get_state_display(),
            "date": timezone.localtime(objection.step_deadline).date().isoformat(),
        }
        holders = provider_staff(objection) if objection.state == S.AGREED else bureau_reviewers()
        notify(recipients=[*holders, objection.requester], title=title, body=body, url=url)
        flagged += 1
    return flagged
