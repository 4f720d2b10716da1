"""Art. 11: an IT project's acceptance checks that each of its resources has a supply path
(registered with catalog.filing.services.register_acceptance_check)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from catalog.models import ShareType


def resource_has_supply_path(resource) -> list[str]:
    """Missing: data loaded (its datastore table exists with rows), a share type other than
    not shared, and current read functions (what the supply API reads through)."""
    from aggregation.models import DatastoreTable

    missing = []
    version = resource.published_version
    if version is not None and version.share_type == ShareType.NONE:
        missing.append(_("the resource is not shared (不予共享)"))
    table = DatastoreTable.objects.filter(resource=resource).first()
    if table is None or not table.row_count:
        missing.append(_("no data has been loaded"))
    elif not _read_functions_current(table):
        missing.append(_("its read functions are not current"))
    return missing


def _read_functions_current(table) -> bool:
    from aggregation.selectors import read_functions_current

    return read_functions_current(table)
