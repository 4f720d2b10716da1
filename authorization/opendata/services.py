"""Writes of open data: licences, the open-data record of a resource, building its files
after each load, counting downloads."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from aggregation.datastore import read_functions_current, read_functions_refresh
from aggregation.models import DatastoreTable
from catalog.datatypes import DataType
from catalog.models import DataItem, Resource
from catalog.public import open_data_resources_q, public_fields
from security import audit
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import job_enqueue

from . import build
from .models import Licence, OpenDataset, OpenFile

logger = logging.getLogger(__name__)

BUILD_TASK = "opendata.downloads_build"


def default_licence() -> Licence | None:
    return Licence.objects.filter(is_default=True).first()


def licence_save(
    *, name: str, url: str, text: str, is_default: bool = False, acting_user=None
) -> Licence:
    """Create or update the licence called `name`; a new default replaces the old one."""
    with transaction.atomic():
        licence = Licence.objects.filter(name=name).first() or Licence(name=name)
        licence.url, licence.text = url, text
        if is_default:
            Licence.objects.filter(is_default=True).exclude(pk=licence.pk).update(is_default=False)
        licence.is_default = is_default or licence.is_default
        audited_save(licence, acting_user=acting_user)
        return licence


def is_open_data(resource: Resource) -> bool:
    """Whether anyone may download the resource's rows (`catalog.public`)."""
    return Resource.objects.filter(
        open_data_resources_q("entry"),
        pk=resource.pk,
        entry__isnull=False,
        retired_at__isnull=True,
    ).exists()


def dataset_ensure(*, resource: Resource, licence: Licence | None = None, acting_user=None):
    """The resource's open-data record, made with the default licence (or `licence`) when
    missing; `licence` given replaces the current one."""
    with transaction.atomic():
        dataset = OpenDataset.objects.select_for_update().filter(resource=resource).first()
        if dataset is None:
            licence = licence or default_licence()
            if licence is None:
                raise DomainError(
                    _("No open-data licence: create the city's default licence first."),
                    field="licence",
                )
            dataset = OpenDataset(resource=resource, licence=licence)
            audited_save(dataset, acting_user=acting_user, reason="open dataset created")
        elif licence is not None and dataset.licence_id != licence.pk:
            dataset.licence = licence
            audited_save(dataset, acting_user=acting_user, reason="licence changed")
        return dataset


def after_load(*, batch) -> None:
    """Aggregation's after-load hook: an open resource's files are rebuilt by the worker
    once the load commits."""
    resource = batch.channel.resource
    if is_open_data(resource):
        job_enqueue(
            task_name=BUILD_TASK, kwargs={"resource_id": resource.pk, "batch_id": str(batch.pk)}
        )


# Items holding text a person typed: guarded against spreadsheet formulas in the CSV file.
TEXT_TYPES = {DataType.C, DataType.M}


def public_columns(resource: Resource, table: DatastoreTable) -> list[build.PublicColumn]:
    """The table's columns an anonymous visitor may see, in item order, with their items'
    names (`catalog.public.public_fields`)."""
    from aggregation.datastore import columns_for

    version = resource.published_version
    items = list(
        DataItem.objects.filter(version=version)
        .select_related("grade", "element")
        .order_by("position")
    )
    allowed = {item.pk for item in public_fields(version, items)}
    stored = {d["name"] for d in table.columns}
    return [
        build.PublicColumn(
            name=column.name,
            title=item.name,
            text=item.data_type in TEXT_TYPES
            or bool(item.masking_rule_id or (item.element_id and item.element.masking_rule_id)),
        )
        for item, column in zip(items, columns_for(items), strict=True)
        if item.pk in allowed and column.name in stored
    ]


def _withdraw(dataset: OpenDataset) -> None:
    old = [f.file.name for f in dataset.files.all()]
    dataset.files.all().delete()
    dataset.state = OpenDataset.State.WITHDRAWN
    dataset.rows = 0
    audited_save(dataset, acting_user=None, reason="no longer open data", validate=False)
    transaction.on_commit(lambda: _delete_files(old))


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # already gone: nothing to do
            logger.warning("open-data file %s could not be deleted", name)


def _safe_stem(resource: Resource) -> str:
    return resource.code.replace("/", "-")


def downloads_build(*, resource_id: int, batch_id: str = "") -> OpenDataset | None:
    """Build the CSV, XLSX and JSON files of an open resource from its stored rows (in the
    worker), masked, public columns only (see `build`), and swap them in. A resource that is
    no longer open data loses its files. Idempotent: building twice gives the same files."""
    resource = Resource.objects.select_related("published_version__grade").get(pk=resource_id)
    if not is_open_data(resource):
        dataset = OpenDataset.objects.filter(resource=resource).first()
        if dataset is not None and dataset.state != OpenDataset.State.WITHDRAWN:
            with transaction.atomic():
                _withdraw(dataset)
        return dataset
    dataset = dataset_ensure(resource=resource)
    table = DatastoreTable.objects.filter(resource=resource).first()
    if table is None or table.last_loaded_at is None:
        return dataset
    workdir = Path(tempfile.mkdtemp(prefix=f"opendata-{resource.pk}-"))
    try:
        with transaction.atomic():
            if not read_functions_current(table):
                read_functions_refresh(table)
            columns = public_columns(resource, table)
            if not columns:
                raise DomainError(_("No item of this resource may be opened."))
            query = build.rows_query(schema=table.schema, table=table.table_name, columns=columns)
            stem = _safe_stem(resource)
            paths = {fmt: workdir / f"{stem}.{fmt}" for fmt in ("csv", "xlsx", "json")}
            built = {"csv": build.write_csv(paths["csv"], query=query, columns=columns)}
            built["xlsx"], built["json"] = build.write_xlsx_and_json(
                paths["xlsx"],
                paths["json"],
                query=query,
                columns=columns,
                meta={
                    "resource": resource.code,
                    "name": resource.published_version.name,
                    "provider": resource.provider.name,
                    "licence": {"name": dataset.licence.name, "url": dataset.licence.url},
                },
                sheet_title=pgettext("open data sheet", "Data"),
            )
        now = timezone.now()
        stamp = now.strftime("%Y%m%d%H%M%S%f")
        saved = {}
        for fmt, path in paths.items():
            with path.open("rb") as fh:
                saved[fmt] = default_storage.save(
                    f"opendata/{resource.pk}/{stem}-{stamp}.{fmt}", File(fh)
                )
        with transaction.atomic():
            dataset = OpenDataset.objects.select_for_update().get(pk=dataset.pk)
            old = []
            for fmt, name in saved.items():
                current = OpenFile.objects.filter(dataset=dataset, format=fmt).first()
                if current is None:
                    current = OpenFile(dataset=dataset, format=fmt)
                else:
                    old.append(current.file.name)
                current.file.name = name
                current.size = paths[fmt].stat().st_size
                current.rows = built[fmt].rows
                current.sheets = built[fmt].sheets
                current.built_at = now
                current.save()
            dataset.state = OpenDataset.State.READY
            dataset.rows = built["csv"].rows
            dataset.built_generation = table.generation
            dataset.built_batch = batch_id
            dataset.built_at = now
            dataset.error = ""
            audited_save(dataset, acting_user=None, reason="files built", validate=False)
            audit.record(
                "opendata.build",
                obj=dataset,
                details={"rows": built["csv"].rows, "formats": sorted(saved)},
            )
            transaction.on_commit(lambda: _delete_files(old))
        return dataset
    except Exception as exc:
        logger.exception("open-data files of resource %s failed", resource_id)
        OpenDataset.objects.filter(pk=dataset.pk).update(
            state=OpenDataset.State.FAILED, error=str(exc)[:1000]
        )
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def download_count(*, file: OpenFile, request=None) -> None:
    """Count a download and record it in the audit log with its row count."""
    with transaction.atomic():
        OpenFile.objects.filter(pk=file.pk).update(downloads=F("downloads") + 1)
        audit.record(
            "opendata.download",
            request=request,
            obj=file.dataset,
            details={"rows": file.rows, "format": file.format, "bytes": file.size},
        )


# --- conditional opening: applications ------------------------------------------------------

APPLICATION_GRANT_DAYS = 365


def is_conditionally_open(resource: Resource) -> bool:
    """Whether the resource is in the open catalog under conditions (`catalog.public`)."""
    from catalog.models import OpenType
    from catalog.public import public_resources_q

    return Resource.objects.filter(
        public_resources_q("entry"),
        pk=resource.pk,
        entry__open_type=OpenType.CONDITIONAL,
        retired_at__isnull=True,
    ).exists()


def may_apply(user, resource: Resource) -> bool:
    """A registered user of an organization may apply for a conditionally open resource
    (not its own provider's)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.organization_id
        and user.organization_id != resource.provider_id
        and is_conditionally_open(resource)
    )


def _reply_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "OPENDATA_APPLICATION_REPLY_DAYS", 10))


def application_submit(
    *,
    resource: Resource,
    purpose: str,
    security_measures: str,
    licence_accepted: bool,
    acting_user,
):
    """Apply for a conditionally open resource. The provider's data officers are notified."""
    from wuhan_pdr.accounts.models import User
    from wuhan_pdr.accounts.roles import Role
    from wuhan_pdr.kernel.notifications import notify
    from wuhan_pdr.kernel.workdays import deadline_after

    from .models import OpenApplication

    if not may_apply(acting_user, resource):
        raise DomainError(_("This resource cannot be applied for."), field="resource")
    purpose, security_measures = (purpose or "").strip(), (security_measures or "").strip()
    if not purpose:
        raise DomainError(_("State the purpose of use."), field="purpose")
    if not security_measures:
        raise DomainError(
            _("State the security measures you will take."), field="security_measures"
        )
    if not licence_accepted:
        raise DomainError(
            _("The licence terms must be accepted to apply."), field="licence_accepted"
        )
    with transaction.atomic():
        pending = OpenApplication.objects.filter(
            resource=resource, applicant=acting_user, state__in=OpenApplication.OPEN_STATES
        ).exists()
        if pending:
            raise DomainError(
                _("You already have an application for this resource waiting for a decision."),
                field="resource",
            )
        dataset = OpenDataset.objects.filter(resource=resource).select_related("licence").first()
        licence = dataset.licence if dataset else default_licence()
        if licence is None:
            raise DomainError(
                _("No open-data licence: create the city's default licence first."),
                field="licence_accepted",
            )
        application = OpenApplication(
            resource=resource,
            applicant=acting_user,
            organization=acting_user.organization,
            purpose=purpose,
            security_measures=security_measures,
            licence=licence,
            licence_accepted_at=timezone.now(),
            step_deadline=deadline_after(_reply_days()),
        )
        audited_save(application, acting_user=acting_user, reason="submitted")
        officers = User.objects.filter(
            organization_id=resource.provider_id, groups__name=Role.AGENCY_ADMIN, is_active=True
        )
        notify(
            recipients=officers,
            title=_("An open-data application waits for your decision"),
            body=str(resource.published_version.name),
            url=f"/open/applications/{application.pk}/",
        )
        return application


def _deliveries(resource: Resource) -> dict[int, str]:
    """The grant's items: the public fields, masked where a masking rule applies."""
    version = resource.published_version
    items = list(
        DataItem.objects.filter(version=version)
        .select_related("grade", "masking_rule", "element__masking_rule")
        .order_by("position")
    )
    out = {}
    for item in public_fields(version, items):
        rule = item.masking_rule or (item.element.masking_rule if item.element_id else None)
        out[item.pk] = "masked" if rule is not None else "clear"
    return out


def application_decide(*, application, action: str, comment: str = "", acting_user):
    """The provider's or the bureau's decision on an application; the bureau's approval
    issues a grant whose key waits, sealed, for the applicant to see it once."""
    import datetime as dt

    from authorization.sharing.services import grant_issue
    from wuhan_pdr.kernel.notifications import notify
    from wuhan_pdr.kernel.sealing import seal
    from wuhan_pdr.kernel.workdays import deadline_after

    from .models import OpenApplication
    from .workflows import application_workflow

    with transaction.atomic():
        application = (
            OpenApplication.objects.select_for_update(of=("self",))
            .select_related("resource__provider", "resource__published_version", "applicant")
            .get(pk=application.pk)
        )
        target = application_workflow.get(action).target
        if target == OpenApplication.State.PROVIDER_APPROVED:
            application.step_deadline = deadline_after(_reply_days())
        else:
            application.step_deadline = None
        if target == OpenApplication.State.APPROVED:
            application_workflow.check(application, action, acting_user=acting_user)
            if not is_conditionally_open(application.resource):
                raise DomainError(_("This resource is no longer open under conditions."))
            grant, raw_key = grant_issue(
                resource=application.resource,
                grantee=application.organization,
                items=_deliveries(application.resource),
                origin="open_application",
                valid_until=timezone.now() + dt.timedelta(days=APPLICATION_GRANT_DAYS),
                acting_user=acting_user,
            )
            application.grant = grant
            application.key_sealed = seal(raw_key)
        application_workflow.apply(application, action, acting_user=acting_user, comment=comment)
        notify(
            recipients=[application.applicant],
            title=_("Your open-data application: %(state)s")
            % {"state": application.get_state_display()},
            body=comment,
            url=f"/open/applications/{application.pk}/",
        )
        return application


def application_key_reveal(*, application, acting_user) -> str:
    """The grant's raw API key, to the applicant, once: it is then forgotten."""
    from wuhan_pdr.kernel.sealing import unseal

    from .models import OpenApplication

    with transaction.atomic():
        application = OpenApplication.objects.select_for_update().get(pk=application.pk)
        if application.applicant_id != getattr(acting_user, "pk", None):
            raise DomainError(_("Only the applicant may see the key."))
        if not application.key_sealed:
            raise DomainError(_("The key has already been shown; it is not kept."))
        raw = unseal(application.key_sealed)
        application.key_sealed = ""
        application.save(update_fields=["key_sealed", "updated_at"])
        audit.record("opendata.application_key_shown", actor=acting_user, obj=application)
        return raw
