"""Writes on masking rules. A change is kept in the rule's history with the acting user (the
audit log reads that history), and the observers of masking changes are told (the datastore's
read functions of the tables using the rule are remade by a queued job: observers.py)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuhan_pdr.kernel.errors import AccessDenied
from wuhan_pdr.kernel.history import audited_save

from .models import MaskingRule
from .observers import masking_changed
from .permissions import can_manage_rules

RULE_CREATED = gettext_noop("Masking rule created")
RULE_CHANGED = gettext_noop("Masking rule changed")

RULE_FIELDS = (
    "name",
    "method",
    "keep_first",
    "keep_last",
    "max_stars",
    "replacement",
    "digits",
    "multiple",
    "description",
    "note",
)


def _check(acting_user) -> None:
    if not can_manage_rules(acting_user):
        raise AccessDenied(_("Only the security administrator manages masking rules."))


@transaction.atomic
def masking_rule_create(*, acting_user, **fields) -> MaskingRule:
    _check(acting_user)
    rule = MaskingRule(**{k: v for k, v in fields.items() if k in RULE_FIELDS})
    return audited_save(rule, acting_user=acting_user, reason=RULE_CREATED)


@transaction.atomic
def masking_rule_update(*, rule: MaskingRule, acting_user, **fields) -> MaskingRule:
    _check(acting_user)
    rule = MaskingRule.objects.select_for_update().get(pk=rule.pk)
    for k, v in fields.items():
        if k in RULE_FIELDS:
            setattr(rule, k, v)
    rule = audited_save(rule, acting_user=acting_user, reason=RULE_CHANGED)
    # The job finds the tables whose functions are stale (a change of the name alone leaves
    # them current, and it does nothing for those).
    masking_changed(rules=[rule], acting_user=acting_user)
    return rule
