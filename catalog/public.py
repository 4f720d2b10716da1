"""The one rule for what is public (issue #14, item 1).

Everything an anonymous visitor sees of the catalog's resources passes through here: the open
catalog's list, search, facets, pages, export and API (`catalog.permissions` builds its
public audience's filter from `public_resources_q`), the open-data pages, files and API
(`authorization.opendata`, which serves rows only of `open_data_resources_q` and only the
columns of `public_fields`), and later the DCAT and CKAN interfaces. This module imports no
other app than `security` (grades), so the chapters downstream may all use it.

- **Which resources**: `public_resources_q` - published entries open unconditionally or under
  conditions, whose grade (the security administrator's grade table, read as it is now)
  allows that opening. Their catalog metadata is public; their rows are not by that alone.
- **Whose rows anyone may download**: `open_data_resources_q` - the subset open
  unconditionally with a grade that allows unconditional opening.
- **Which fields**: `public_fields(version)` - the data items whose own grade (or, for an item
  without one, the version's) allows the version's opening. An item of a stricter grade is
  left out of the public item list, of every open-data file and of every open API.

Pages that the law makes public for other reasons show only `LEGALLY_PUBLIC_FIELDS`, whatever
the resource's open type (`legally_public_summary`):

- authorization disclosures (Art. 20: who is authorized, for what content, scope and time
  limit) name the authorized resources: their code, name and provider;
- registration notices (Art. 25, public notice) name the registered objects: the same code,
  name and provider.

Neither shows a summary, items, grade, conditions or any stored value of a resource that is
not itself in the open catalog.
"""

from __future__ import annotations

from django.db.models import Q

from security.models import Grade

from .models import OpenType, Resource, ResourceVersion

# The resource fields that disclosures and registration notices may show of any resource.
LEGALLY_PUBLIC_FIELDS = ("code", "name", "provider")


def _p(prefix: str, name: str) -> str:
    return f"{prefix}__{name}" if prefix else name


def _grades(*, unconditional: bool):
    flag = "may_open_unconditionally" if unconditional else "may_open_conditionally"
    return Grade.objects.filter(**{flag: True}).values("pk")


def public_resources_q(prefix: str = "") -> Q:
    """Rows (catalog entries or versions, or what leads to one through `prefix`, e.g.
    "resource__entry", "version") in the open catalog: open unconditionally or under
    conditions, with a grade that allows that opening."""
    return Q(
        **{
            _p(prefix, "open_type"): OpenType.UNCONDITIONAL,
            _p(prefix, "grade_id__in"): _grades(unconditional=True),
        }
    ) | Q(
        **{
            _p(prefix, "open_type"): OpenType.CONDITIONAL,
            _p(prefix, "grade_id__in"): _grades(unconditional=False),
        }
    )


def open_data_resources_q(prefix: str = "") -> Q:
    """Rows of the open catalog whose data anyone may download: open unconditionally, with a
    grade that allows unconditional opening."""
    return Q(
        **{
            _p(prefix, "open_type"): OpenType.UNCONDITIONAL,
            _p(prefix, "grade_id__in"): _grades(unconditional=True),
        }
    )


def _allows(grade: Grade | None, open_type: str) -> bool:
    if grade is None:
        return False
    if open_type == OpenType.UNCONDITIONAL:
        return grade.may_open_unconditionally
    if open_type == OpenType.CONDITIONAL:
        return grade.may_open_conditionally
    return False


def public_fields(version: ResourceVersion, items=None) -> list:
    """The data items of `version` an anonymous visitor may see (in item order): those whose
    own grade, or the version's for an item without one, allows the version's opening. Empty
    for a version that is not open. `items` may pass the version's items already fetched
    (with their grades), to spare the query."""
    if not _allows(version.grade, version.open_type):
        return []
    if items is None:
        items = version.items.select_related("grade").order_by("position")
    return [
        item
        for item in sorted(items, key=lambda it: it.position)
        if _allows(item.grade if item.grade_id else version.grade, version.open_type)
    ]


def is_public_resource(resource: Resource) -> bool:
    """Whether the resource's published entry is in the open catalog."""
    return (
        resource.retired_at is None
        and Resource.objects.filter(
            public_resources_q("entry"), pk=resource.pk, entry__isnull=False
        ).exists()
    )


def legally_public_summary(resource: Resource) -> dict:
    """What a disclosure or a registration notice may show of any resource (see the module's
    docstring): its code, name and provider's name, nothing else."""
    version = resource.published_version
    return {
        "code": resource.code,
        "name": version.name if version is not None else "",
        "provider": resource.provider.name,
    }
