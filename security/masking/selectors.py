"""Reads of masking rules: the admin's list, choices for forms, and names resolved to rules
(the bulk workbook, demo data and old free texts name a rule)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import DomainError

from .models import MaskingRule
from .seed import TEXT_TO_RULE


def rule_list(*, q: str = "", method: str = "") -> QuerySet[MaskingRule]:
    qs = MaskingRule.objects.all()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(note__icontains=q))
    if method:
        qs = qs.filter(method=method)
    return qs.order_by("name")


def rule_choices() -> list[tuple]:
    """Every rule as select choices, the empty choice first (one query)."""
    return [("", "—"), *MaskingRule.objects.order_by("name").values_list("pk", "name")]


def rule_names() -> list[str]:
    return list(MaskingRule.objects.order_by("name").values_list("name", flat=True))


def rules_by_names(names: Iterable[str]) -> dict[str, MaskingRule]:
    """{name: rule} for `names`, a name or one of the old free texts (seed.TEXT_TO_RULE)."""
    wanted = {n.strip() for n in names if n and n.strip()}
    lookup = wanted | {TEXT_TO_RULE[n] for n in wanted if n in TEXT_TO_RULE}
    found = {r.name: r for r in MaskingRule.objects.filter(name__in=lookup)}
    out = {}
    for n in wanted:
        rule = found.get(n) or found.get(TEXT_TO_RULE.get(n, ""))
        if rule is not None:
            out[n] = rule
    return out


def resolve_rules(values: Iterable, *, field: str = "masking_rule") -> list[MaskingRule | None]:
    """Each of `values` (a rule, its pk, its name, or empty) as a rule; an unknown name or pk
    is a `DomainError`."""
    values = list(values)
    names = [v for v in values if isinstance(v, str) and v.strip() and not v.strip().isdigit()]
    pks = {
        int(v) for v in values if isinstance(v, int) or (isinstance(v, str) and v.strip().isdigit())
    }
    by_name = rules_by_names(names)
    by_pk = MaskingRule.objects.in_bulk(pks) if pks else {}
    out = []
    for v in values:
        if v is None or v == "" or (isinstance(v, str) and not v.strip()):
            out.append(None)
        elif isinstance(v, MaskingRule):
            out.append(v)
        elif isinstance(v, int) or v.strip().isdigit():
            rule = by_pk.get(int(v))
            if rule is None:
                raise DomainError(_("Unknown masking rule."), field=field)
            out.append(rule)
        else:
            rule = by_name.get(v.strip())
            if rule is None:
                raise DomainError(
                    _("Unknown masking rule “%(name)s”: choose one of the masking rules.")
                    % {"name": v.strip()[:50]},
                    field=field,
                )
            out.append(rule)
    return out
