from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workdays import today

from .models import CodeList, DataElement, ElementChangeRequest
from .selectors import ElementQuery, current_elements, element_classifications

E = DataElement.Status
K = ElementChangeRequest.Kind
MAX_Q = 100


def _cut(value: str) -> str:
    # An over-long search is cut, not refused (refusing would drop the filters too).
    return (value or "").strip()[:MAX_Q]


class ElementSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        help_text=_("Identifier, name, English name, pinyin or synonym"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *E.choices]
    )
    data_type = forms.ChoiceField(label=_("Data type"), required=False)
    classification = forms.ChoiceField(label=_("Classification"), required=False)
    include_superseded = forms.BooleanField(label=_("Include superseded versions"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["data_type"].choices = [
            ("", _("All data types")),
            *DataElement._meta.get_field("data_type").choices,
        ]
        self.fields["classification"].choices = [
            ("", _("All classifications")),
            *((c, c) for c in element_classifications()),
        ]
        self.fields["q"].widget.attrs["placeholder"] = _("e.g. 身份证, DE00001, xingming")

    def to_query(self) -> ElementQuery:
        # Keep the fields that are valid: a stale filter must not drop the search text.
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return ElementQuery(
            q=_cut(d.get("q", "")),
            status=d.get("status") or "",
            data_type=d.get("data_type") or "",
            classification=d.get("classification") or "",
            include_superseded=bool(d.get("include_superseded")),
        )


class CodeListSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)

    def query(self) -> str:
        self.is_valid()
        return _cut(getattr(self, "cleaned_data", {}).get("q", ""))


class CodeValueSearchForm(forms.Form):
    q = forms.CharField(label=_("Code or meaning"), required=False)
    at = forms.DateField(
        label=_("Valid on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The values valid on this day (default today)."),
    )

    def query(self) -> tuple[str, dt.date]:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return _cut(d.get("q", "")), d.get("at") or today()


def _model_field(name: str, **kwargs) -> forms.Field:
    """The form field of a DataElement field, optional unless said otherwise."""
    field = DataElement._meta.get_field(name).formfield(**kwargs)
    field.required = kwargs.get("required", False)
    return field


class ChangeRequestForm(forms.Form):
    """The proposed content of an element, the replacement of a retirement, and the reason.
    Which fields show depends on the kind: a retirement proposes no content."""

    identifier = forms.CharField(
        label=_("Identifier"),
        required=False,
        max_length=30,
        help_text=_("Leave empty to have one given (DE and five digits)."),
    )
    name = _model_field("name", required=True)
    english_name = _model_field("english_name")
    pinyin = _model_field("pinyin")
    definition = _model_field("definition", required=True, widget=forms.Textarea(attrs={"rows": 3}))
    object_class = _model_field("object_class")
    property = _model_field("property")
    representation = _model_field("representation")
    data_type = forms.ChoiceField(
        label=_("Data type"), choices=DataElement._meta.get_field("data_type").choices
    )
    format = _model_field("format", required=True)
    domain_kind = forms.ChoiceField(
        label=_("Value domain"),
        choices=DataElement.DomainKind.choices,
        initial=DataElement.DomainKind.NONE,
    )
    code_list = forms.ModelChoiceField(
        label=_("Code list"),
        queryset=CodeList.objects.order_by("identifier"),
        to_field_name="identifier",
        required=False,
        empty_label="—",
        help_text=_("When the value domain is a code list."),
    )
    pattern = _model_field(
        "pattern",
        help_text=_(
            "When the value domain is a pattern: a regular expression the whole value must match."
        ),
    )
    checksum = forms.ChoiceField(
        label=_("Checksum rule"),
        required=False,
        choices=DataElement._meta.get_field("checksum").choices,
    )
    unit = _model_field("unit")
    classification = _model_field("classification")
    synonyms = _model_field("synonyms", help_text=_("Other names, separated by commas."))
    replacement = forms.ModelChoiceField(
        label=_("Replacement element"),
        queryset=DataElement.objects.none(),
        to_field_name="identifier",
        required=False,
        empty_label="—",
        help_text=_(
            "Required while catalog items still use the element: they will be shown the replacement."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why the standard should change: the bureau reads it with the proposal."),
    )

    CONTENT_FIELDS = (
        "name",
        "english_name",
        "pinyin",
        "definition",
        "object_class",
        "property",
        "representation",
        "data_type",
        "format",
        "domain_kind",
        "code_list",
        "pattern",
        "checksum",
        "unit",
        "classification",
        "synonyms",
    )

    def __init__(self, *args, kind: str, element: DataElement | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind != K.ADD:
            del self.fields["identifier"]
        if kind == K.RETIRE:
            for name in self.CONTENT_FIELDS:
                del self.fields[name]
            qs = current_elements()
            if element is not None:
                qs = qs.exclude(identifier=element.identifier)
            self.fields["replacement"].queryset = qs
            self.fields["replacement"].label_from_instance = lambda e: f"{e.identifier} {e.name}"
        else:
            del self.fields["replacement"]
            self.fields["code_list"].label_from_instance = lambda c: f"{c.identifier} {c.name}"
            self.fields["format"].widget.attrs.setdefault("class", "mono")

    def proposal(self) -> dict:
        d = self.cleaned_data
        out = {}
        for name in (*self.CONTENT_FIELDS, "identifier"):
            if name not in self.fields:
                continue
            value = d.get(name)
            if name == "code_list":
                value = value.identifier if value else ""
            out[name] = value or ""
        return out

    def content_fields(self):
        return [self[name] for name in self.CONTENT_FIELDS if name in self.fields]


def proposal_initial(content: dict) -> dict:
    """Form initial values from a stored proposal or an element's content."""
    return {k: v for k, v in content.items() if v not in (None, "")}


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=32)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RequestFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *K.choices]
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *ElementChangeRequest.State.choices],
    )

    def to_filters(self) -> dict:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return {
            "q": _cut(d.get("q", "")),
            "kind": d.get("kind") or "",
            "state": d.get("state") or "",
        }


# --- Excel / CSV import ------------------------------------------------------------------------

IMPORT_MAX_MB = 20  # the importers' own limit (importers.MAX_FILE_BYTES)


def _check_upload(upload):
    if upload is not None and upload.size > IMPORT_MAX_MB * 1024 * 1024:
        raise forms.ValidationError(
            _("The file is larger than %(mb)d MB: split it into smaller files."),
            params={"mb": IMPORT_MAX_MB},
            code="too_large",
        )
    return upload


class CodeListImportForm(forms.Form):
    code_list = forms.ModelChoiceField(
        label=_("Code list"),
        queryset=CodeList.objects.order_by("identifier"),
        to_field_name="identifier",
        required=False,
        empty_label=_("— Create a new code list —"),
        help_text=_("The list whose values the file replaces, or a new one described below."),
    )
    new_identifier = forms.CharField(
        label=_("Identifier of the new list"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. GB/T 2261.1-2003")}),
    )
    new_name = forms.CharField(label=_("Name of the new list"), required=False, max_length=100)
    new_source = forms.CharField(
        label=_("Source standard of the new list"), required=False, max_length=200
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GB18030) or Excel workbook (.xlsx), at most 20 MB, with the columns "
            "代码 (code) and 名称 (name)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    effective_date = forms.DateField(
        label=_("Effective date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The first day the file's values are valid."),
    )
    parent_column = forms.CharField(
        label=_("Parent code column"),
        required=False,
        max_length=100,
        help_text=_("The header of the column holding each value's parent code, if any."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("effective_date", today())
        super().__init__(*args, **kwargs)

    def clean_file(self):
        return _check_upload(self.cleaned_data.get("file"))

    def clean(self):
        data = super().clean()
        if data.get("code_list") is None and not self.has_error("code_list"):
            identifier = (data.get("new_identifier") or "").strip()
            if not identifier:
                self.add_error(
                    "new_identifier", _("Choose a code list, or give the new list's identifier.")
                )
            elif "\x00" in identifier:
                self.add_error("new_identifier", _("The identifier contains invalid characters."))
            elif CodeList.objects.filter(identifier=identifier).exists():
                self.add_error(
                    "new_identifier",
                    _("A code list with this identifier exists: choose it in the list above."),
                )
            if not (data.get("new_name") or "").strip():
                self.add_error("new_name", _("Give the new list's name."))
        return data


class ElementsImportForm(forms.Form):
    file = forms.FileField(
        label=_("Workbook"),
        help_text=_(
            "An Excel workbook (.xlsx) or CSV file laid out as the export writes it, at most 20 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        return _check_upload(self.cleaned_data.get("file"))


class ElementMaskingForm(forms.ModelForm):
    """The masking rule of a data element version (the security administrator's choice)."""

    class Meta:
        model = DataElement
        fields = ["masking_rule"]
