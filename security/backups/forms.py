from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Backup, RestoreDrill


class BackupFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *Backup.State.choices]
    )


class DrillFilterForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("All results")), *RestoreDrill.State.choices],
    )
