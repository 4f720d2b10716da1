from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BulkFiling


class BulkUploadForm(forms.Form):
    workbook = forms.FileField(
        label=_("Workbook"),
        help_text=_("The filled-in template, as an Excel workbook (.xlsx)."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )


class BulkFilterForm(forms.Form):
    q = forms.CharField(label=_("File name"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *BulkFiling.State.choices],
    )
