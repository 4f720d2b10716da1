from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from security.models import Grade
from wuhan_pdr.accounts.models import Division, Organization

from .models import (
    Classification,
    DataItem,
    OpenType,
    Resource,
    ResourceVersion,
    ShareType,
    UpdateCycle,
)
from .selectors import CatalogQuery


class CatalogSearchForm(forms.Form):
    # No max_length: an over-long search is cut, not refused (refusing would drop the filter).
    q = forms.CharField(label=_("Search"), required=False)
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        required=False,
        queryset=Organization.objects.filter(kind__in=Organization.AGENCY_KINDS),
        empty_label=_("All providers"),
    )
    division = forms.ModelChoiceField(
        label=_("District"),
        required=False,
        queryset=Division.objects.filter(code__startswith="4201"),
        to_field_name="code",
        empty_label=_("All districts"),
    )
    classification = forms.ModelChoiceField(
        label=_("Classification"),
        required=False,
        queryset=Classification.objects.filter(parent__isnull=False),
        empty_label=_("All classifications"),
    )
    share_type = forms.ChoiceField(
        label=_("Share type"), required=False, choices=[("", _("All"))] + ShareType.choices
    )
    open_type = forms.ChoiceField(
        label=_("Open type"), required=False, choices=[("", _("All"))] + OpenType.choices
    )
    grade = forms.ModelChoiceField(
        label=_("Grade"), required=False, queryset=Grade.objects.all(), empty_label=_("All grades")
    )
    update_cycle = forms.ChoiceField(
        label=_("Update cycle"), required=False, choices=[("", _("All"))] + UpdateCycle.choices
    )

    def to_query(self) -> CatalogQuery:
        # Keep the fields that are valid: a stale or mistyped filter must not drop the
        # search text and the other filters (it would list the whole catalog).
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return CatalogQuery(
            q=(d.get("q") or "").strip()[:100],
            provider=d["provider"].pk if d.get("provider") else None,
            division=d["division"].code if d.get("division") else "",
            classification=d["classification"].pk if d.get("classification") else None,
            share_type=d.get("share_type") or "",
            open_type=d.get("open_type") or "",
            grade=d["grade"].pk if d.get("grade") else None,
            update_cycle=d.get("update_cycle") or "",
        )


class _ClassificationTreeIterator(forms.models.ModelChoiceIterator):
    """The classification choices grouped under their tree (基础类, 主题类), so the select
    shows which tree each code belongs to."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[str, list] = {}
        for node in self.queryset.select_related("parent"):
            groups.setdefault(node.parent.name, []).append(self.choice(node))
        yield from groups.items()


class ClassificationTreeField(forms.ModelChoiceField):
    iterator = _ClassificationTreeIterator


class ResourceVersionForm(forms.ModelForm):
    # Two fields that both offer the theme codes 201-212, for two purposes (decision 0012):
    # the classification places the resource once and makes its code; the themes are optional
    # further tags of this version.
    classification = ClassificationTreeField(
        label=_("Resource classification"),
        queryset=Classification.objects.filter(parent__isnull=False).order_by("code"),
        help_text=_(
            "Exactly one: where the resource sits in the catalog, in the base tree "
            "(101-105, e.g. 人口) or the theme tree (201-212). The resource code is made from "
            "it (e.g. 101/000001), so it cannot change once the resource is published."
        ),
    )
    related_codes = forms.CharField(
        label=_("Related resources"),
        required=False,
        max_length=2000,
        help_text=_("Codes of published resources, separated by spaces or commas."),
    )

    class Meta:
        model = ResourceVersion
        fields = [
            "name",
            "summary",
            "source_system",
            "format",
            "themes",
            "grade",
            "share_type",
            "share_conditions",
            "share_method",
            "share_legal_basis",
            "open_type",
            "open_conditions",
            "open_legal_basis",
            "operation_eligible",
            "update_cycle",
            "update_mode",
            "change_note",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "share_conditions": forms.Textarea(attrs={"rows": 2}),
            "share_legal_basis": forms.Textarea(attrs={"rows": 2}),
            "open_conditions": forms.Textarea(attrs={"rows": 2}),
            "open_legal_basis": forms.Textarea(attrs={"rows": 2}),
            "themes": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = Classification.objects.filter(
            tree=Classification.Tree.THEME, parent__isnull=False
        )
        self.fields["themes"].required = False
        self.fields["themes"].help_text = _(
            "Optional, several allowed: further themes the resource also serves, besides its "
            "resource classification, shown as tags on its entry. They come from the same "
            "theme tree (201-212) but do not change the resource code, and may be revised "
            "with each version."
        )

    def clean_related_codes(self):
        raw = self.cleaned_data.get("related_codes") or ""
        codes = [c for c in raw.replace(",", " ").replace("，", " ").split() if c]
        found = {
            r.code: r
            for r in Resource.objects.filter(code__in=codes, published_version__isnull=False)
        }
        missing = [c for c in codes if c not in found]
        if missing:
            raise forms.ValidationError(
                _("No published resource has the code %(codes)s.")
                % {"codes": ", ".join(missing[:5])}
            )
        return [found[c] for c in dict.fromkeys(codes)]


def _element_label(element) -> str:
    if element.status in ("candidate", "standard"):
        return f"{element.identifier} {element.name} (v{element.version})"
    return (
        f"{element.identifier} {element.name} (v{element.version}, {element.get_status_display()})"
    )


def current_element_choices() -> list[tuple]:
    """The current standard data elements an item may bind to, as select choices."""
    from .models import DataElement

    current = DataElement.objects.filter(status__in=["candidate", "standard"]).order_by(
        "identifier"
    )
    return [("", "—"), *((e.pk, _element_label(e)) for e in current)]


class DataItemForm(forms.ModelForm):
    """One item row. Its data element is chosen among the current standard versions; an
    item bound to an older version keeps it (and it stays offered) until changed."""

    class Meta:
        model = DataItem
        fields = [
            "name",
            "english_name",
            "element",
            "data_type",
            "length",
            "is_key",
            "is_update_flag",
            "nullable",
            "grade",
            "masking_rule",
            "description",
        ]
        # The description wraps in a small text area instead of being clipped in a line.
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(
        self,
        *args,
        element_choices: list[tuple] | None = None,
        rule_choices: list[tuple] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if rule_choices is not None:  # read once for the whole formset
            self.fields["masking_rule"].choices = rule_choices
        field = self.fields["element"]
        choices = (
            list(element_choices) if element_choices is not None else current_element_choices()
        )
        chosen = (
            self.data.get(self.add_prefix("element"))
            if self.is_bound
            else self.initial.get("element")
        )
        if (
            chosen
            and str(chosen).isdigit()
            and str(chosen) not in {str(v) for v, _label in choices}
        ):
            from .models import DataElement

            bound = DataElement.objects.filter(pk=chosen).first()
            if bound is not None:
                choices.append((bound.pk, _element_label(bound)))
        field.choices = choices
        field.widget.attrs["class"] = "element-select"


class BaseDataItemFormSet(forms.BaseFormSet):
    @cached_property
    def element_choices(self) -> list[tuple]:
        # Read once for every row (and the row template), not once per row.
        return current_element_choices()

    @cached_property
    def rule_choices(self) -> list[tuple]:
        from security.masking.selectors import rule_choices

        return rule_choices()

    def get_form_kwargs(self, index):
        return {
            **super().get_form_kwargs(index),
            "element_choices": self.element_choices,
            "rule_choices": self.rule_choices,
        }


DataItemFormSet = forms.formset_factory(
    DataItemForm,
    formset=BaseDataItemFormSet,
    extra=0,
    can_delete=True,
    max_num=500,
    validate_max=True,
    absolute_max=500,
)


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=32)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MyResourcesFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states"))] + ResourceVersion.State.choices,
    )


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is wrong"))
    provider = forms.ModelChoiceField(
        label=_("Agency"),
        queryset=Organization.objects.filter(kind__in=Organization.AGENCY_KINDS, is_active=True),
        required=False,
        help_text=_("For an omission: the agency that should catalogue the missing resource."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What is missing, outdated or wrong, and where you saw it."),
    )

    def __init__(self, *args, resource=None, **kwargs):
        from .models import CatalogFeedback

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = CatalogFeedback.Kind.choices
        if resource is not None:
            # About an existing entry, "a resource is missing" is not the likely report.
            self.fields["kind"].choices = [
                c for c in CatalogFeedback.Kind.choices if c[0] != CatalogFeedback.Kind.OMISSION
            ]
            self.fields["kind"].initial = CatalogFeedback.Kind.ERROR
            del self.fields["provider"]
        else:
            self.fields["provider"].required = True


class FeedbackActionForm(forms.Form):
    action = forms.CharField(max_length=32)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.ModelChoiceField(
        label=_("Adjusted in version"), queryset=ResourceVersion.objects.none(), required=False
    )

    def __init__(self, *args, versions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if versions is not None:
            self.fields["version"].queryset = versions


class FeedbackFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("State"), required=False)

    def __init__(self, *args, **kwargs):
        from .models import CatalogFeedback

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states"))] + [
            c for c in CatalogFeedback.State.choices if c[0] != CatalogFeedback.State.ANSWERED
        ]


class ReleaseForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
