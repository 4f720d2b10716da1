"""Forms of the quality pages: the issue list's filters, the provider's answer, the bureau's
decisions, and the custom rule builder (columns and operators from fixed lists)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.errors import DomainError

from ..models import Dimension, QualityIssue, QualityRule
from .rules import OPERATORS, clean_conditions

CONDITION_ROWS = 3


class IssueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any"))] + QualityIssue.State.choices
    )
    agency = forms.ModelChoiceField(
        label=_("Agency"), required=False, queryset=None, empty_label=_("Any")
    )
    dimension = forms.ChoiceField(
        label=_("Dimension"), required=False, choices=[("", _("Any"))] + Dimension.choices
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agencies is None:
            del self.fields["agency"]
        else:
            self.fields["agency"].queryset = agencies

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "state": data.get("state") or "",
            "agency": data.get("agency"),
            "dimension": data.get("dimension") or "",
            "overdue": bool(data.get("overdue")),
        }


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Answer"), choices=QualityIssue.Answer.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("Explanation"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was fixed, or why the rows are right."),
    )


class DecisionForm(forms.Form):
    ACTIONS = [("close", _("Close")), ("reopen", _("Reopen")), ("escalate", _("Escalate"))]
    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RuleBuilderForm(forms.Form):
    """A custom rule: conditions every row must satisfy (column, operator, value; AND/OR),
    or a range of a number or date column."""

    KINDS = [(QualityRule.Kind.CUSTOM, _("Conditions")), (QualityRule.Kind.RANGE, _("Range"))]
    name = forms.CharField(label=_("Rule name"), max_length=200)
    dimension = forms.ChoiceField(label=_("Dimension"), choices=Dimension.choices)
    kind = forms.ChoiceField(label=_("Rule kind"), choices=KINDS, widget=forms.RadioSelect)
    join = forms.ChoiceField(
        label=_("Every row must satisfy"),
        choices=[("and", _("all the conditions (AND)")), ("or", _("any condition (OR)"))],
        required=False,
    )
    column = forms.ChoiceField(label=_("Column (range)"), required=False)
    min = forms.CharField(label=_("Lowest value"), required=False, max_length=100)
    max = forms.CharField(label=_("Highest value"), required=False, max_length=100)

    def __init__(self, *args, columns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = list(columns)
        choices = [("", "—")] + [(c.name, f"{c.item} ({c.name})") for c in columns]
        self.fields["column"].choices = choices
        for i in range(1, CONDITION_ROWS + 1):
            self.fields[f"column_{i}"] = forms.ChoiceField(
                label=_("Column %(n)d") % {"n": i}, choices=choices, required=False
            )
            self.fields[f"op_{i}"] = forms.ChoiceField(
                label=_("Operator %(n)d") % {"n": i},
                choices=[("", "—")] + list(OPERATORS.items()),
                required=False,
            )
            self.fields[f"value_{i}"] = forms.CharField(
                label=_("Value %(n)d") % {"n": i}, required=False, max_length=500
            )

    @staticmethod
    def initial_for(rule: QualityRule) -> dict:
        """The form's values for an existing custom or range rule (to edit it)."""
        p = rule.params or {}
        initial = {
            "name": rule.name,
            "dimension": rule.dimension,
            "kind": rule.kind,
            "join": p.get("join") or "and",
            "column": rule.column,
            "min": p.get("min") or "",
            "max": p.get("max") or "",
        }
        for i, cond in enumerate(p.get("conditions", [])[:CONDITION_ROWS], start=1):
            initial[f"column_{i}"] = cond.get("column", "")
            initial[f"op_{i}"] = cond.get("op", "")
            initial[f"value_{i}"] = cond.get("value", "")
        return initial

    def clean(self):
        """Check each condition row on its own so that an error names its row; the service
        checks the whole rule again."""
        data = super().clean()
        kind = data.get("kind")
        if kind == QualityRule.Kind.RANGE:
            if not data.get("column") and "column" not in self.errors:
                self.add_error("column", _("Choose the column of the range."))
            return data
        if kind != QualityRule.Kind.CUSTOM:
            return data
        given = 0
        for i in range(1, CONDITION_ROWS + 1):
            names = (f"column_{i}", f"op_{i}", f"value_{i}")
            if any(n in self.errors for n in names):
                given += 1
                continue
            column, op, value = (data.get(n) or "" for n in names)
            if not column:
                if op or value.strip():
                    self.add_error(names[0], _("Choose a column for this condition."))
                continue
            given += 1
            if not op:
                self.add_error(names[1], _("Choose an operator."))
                continue
            try:
                clean_conditions(
                    self.columns, [{"column": column, "op": op, "value": value}], "and"
                )
            except DomainError as exc:
                target = f"{exc.field}_{i}" if f"{exc.field}_{i}" in self.fields else None
                self.add_error(target, str(exc.message))
        if not given:
            self.add_error("column_1", _("Give at least one condition."))
        return data

    def condition_rows(self):
        return [
            (self[f"column_{i}"], self[f"op_{i}"], self[f"value_{i}"])
            for i in range(1, CONDITION_ROWS + 1)
        ]

    def data_for_service(self) -> dict:
        d = self.cleaned_data
        return {
            "column": d.get("column") or "",
            "min": d.get("min") or "",
            "max": d.get("max") or "",
            "join": d.get("join") or "and",
            "conditions": [
                {
                    "column": d.get(f"column_{i}"),
                    "op": d.get(f"op_{i}"),
                    "value": d.get(f"value_{i}"),
                }
                for i in range(1, CONDITION_ROWS + 1)
                if d.get(f"column_{i}")
            ],
        }
