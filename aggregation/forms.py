"""Forms of the aggregation pages. They validate input; the services decide."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.filing.models import InformationSystem
from catalog.models import Resource

from . import channels as channel_kinds
from .datastore import published_columns
from .models import Batch, Channel, ChannelKind, DowntimeReport, Schedule, SourceKind

MAX_Q = 100


def _cut(value) -> str:
    return (value or "").strip()[:MAX_Q]


class OrganizationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


# --- lists ---------------------------------------------------------------------------------


class ChannelFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    agency = OrganizationChoiceField(
        label=_("Agency"), required=False, queryset=None, empty_label=_("All agencies")
    )
    kind = forms.ChoiceField(
        label=_("Channel kind"),
        required=False,
        choices=[("", _("All kinds")), *ChannelKind.choices],
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All states")), *Channel.State.choices],
    )
    source_kind = forms.ChoiceField(
        label=_("Source kind"),
        required=False,
        choices=[("", _("All sources")), *SourceKind.choices],
    )

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Channel, resource name or code")
        if agencies is None:
            del self.fields["agency"]
        else:
            self.fields["agency"].queryset = agencies

    def filters(self) -> dict:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return {
            "q": _cut(d.get("q")),
            "agency": d.get("agency"),
            "kind": d.get("kind") or "",
            "state": d.get("state") or "",
            "source_kind": d.get("source_kind") or "",
        }


class BoardFilterForm(forms.Form):
    group = forms.ChoiceField(
        label=_("Group by"),
        required=False,
        choices=[("agency", _("Agency")), ("district", _("District"))],
    )
    q = forms.CharField(label=_("Search"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("name", _("Name")),
            ("catalogued", _("Resources catalogued")),
            ("with_channel", _("With an active channel")),
            ("fresh", _("With fresh data")),
            ("fresh_rate", _("Share with fresh data")),
        ],
    )

    def filters(self) -> dict:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return {
            "group": d.get("group") or "agency",
            "q": _cut(d.get("q")),
            "sort": d.get("sort") or "name",
        }


class DowntimeFilterForm(forms.Form):
    when = forms.ChoiceField(
        label=_("When"),
        required=False,
        choices=[
            ("upcoming", _("Now and coming")),
            ("current", _("Under way")),
            ("past", _("Ended (last 90 days)")),
            ("all", _("All")),
        ],
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("All kinds")), *DowntimeReport.Kind.choices],
    )
    organization = OrganizationChoiceField(
        label=_("Agency"), required=False, queryset=None, empty_label=_("All agencies")
    )
    q = forms.CharField(label=_("Search"), required=False)

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["q"].widget.attrs["placeholder"] = _("System, agency or description")

    def filters(self) -> dict:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return {
            "when": d.get("when") or "upcoming",
            "kind": d.get("kind") or "",
            "organization": d.get("organization"),
            "q": _cut(d.get("q")),
        }


# --- channel settings ----------------------------------------------------------------------


def setting_field_name(kind: str, name: str) -> str:
    return f"cfg_{kind}__{name}"


def parse_mapping(text: str, resource: Resource | None) -> dict[str, str]:
    """`源列名 = 列名` per line (the item's column name or the item's name on the right) into
    {source column: table column}. Raises ValidationError naming each bad line."""
    columns = published_columns(resource) if resource is not None else []
    by_name = {c.name: c.name for c in columns}
    by_item = {c.item: c.name for c in columns}
    mapping: dict[str, str] = {}
    errors = []
    for n, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            errors.append(_("Line %(n)d: write “source column = column”.") % {"n": n})
            continue
        source, target = (part.strip() for part in line.split("=", 1))
        if not source or not target:
            errors.append(_("Line %(n)d: a name is missing on one side of “=”.") % {"n": n})
            continue
        column = by_name.get(target.lower()) or by_item.get(target)
        if columns and column is None:
            errors.append(
                _("Line %(n)d: “%(target)s” is not a column or item of the resource.")
                % {"n": n, "target": target[:60]}
            )
            continue
        if source in mapping:
            errors.append(
                _("Line %(n)d: the source column “%(source)s” is mapped twice.")
                % {"n": n, "source": source[:60]}
            )
            continue
        mapping[source] = column or target
    if errors:
        raise forms.ValidationError(errors)
    return mapping


def mapping_text(mapping: dict) -> str:
    return "\n".join(f"{k} = {v}" for k, v in (mapping or {}).items())


class ChannelForm(forms.Form):
    """Create (kind chosen here) or edit (kind fixed) a channel. Each kind's settings come
    from channels.SETTINGS: one field per setting, named `cfg_<kind>__<setting>`."""

    kind = forms.ChoiceField(label=_("Channel kind"), choices=ChannelKind.choices)
    name = forms.CharField(label=_("Channel name"), max_length=200)
    source_kind = forms.ChoiceField(
        label=_("Source kind"),
        choices=SourceKind.choices,
        help_text=_("Where the data comes from (Art. 15)."),
    )
    information_system = forms.ModelChoiceField(
        label=_("Source information system"),
        queryset=InformationSystem.objects.none(),
        required=False,
        empty_label=_("Not named"),
        help_text=_("One of your agency's systems in the census."),
    )
    access_requirements = forms.CharField(
        label=_("Access requirements"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Network, credentials, encryption and other conditions of access (Art. 9)."),
    )
    schedule = forms.ChoiceField(
        label=_("Schedule"),
        required=False,
        choices=[("", _("From the resource's update cycle")), *Schedule.choices],
        help_text=_("Pull and extraction channels run on this schedule."),
    )
    allow_reject_file = forms.BooleanField(
        label=_("Load the good rows and keep the bad ones in a reject file"),
        required=False,
        help_text=_("Otherwise any bad row fails the whole batch."),
    )
    column_mapping = forms.CharField(
        label=_("Column mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text=_(
            "One line per source column whose name differs from the item: "
            "“source column = column name or item name”. Leave empty when the names match."
        ),
    )
    secret = forms.CharField(
        label=_("Password or API key"),
        required=False,
        max_length=2000,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Pull and extraction channels. Leave empty to keep the one saved."),
    )

    def __init__(self, *args, resource: Resource, channel: Channel | None = None, **kwargs):
        self.resource = resource
        self.channel = channel
        if channel is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(channel)
        super().__init__(*args, **kwargs)
        self.fields["information_system"].queryset = InformationSystem.objects.filter(
            organization_id=resource.provider_id
        ).order_by("name")
        if channel is not None:
            self.fields["kind"].disabled = True
            self.fields["kind"].initial = channel.kind
            if channel.secret:
                self.fields["secret"].help_text = _(
                    "A credential is saved. Leave empty to keep it; type a new one to replace it."
                )
        self.setting_groups: list[tuple[str, str, list[str]]] = []
        for kind, spec in channel_kinds.SETTINGS.items():
            if not spec or (channel is not None and kind != channel.kind):
                continue
            names = []
            defaults = channel_kinds.DEFAULTS.get(kind, {})
            for name, (label, required, vkind) in spec.items():
                fname = setting_field_name(kind, name)
                if vkind == "int":
                    # The service's bounds (channels.BOUNDS), with one message for both ends.
                    low, high = channel_kinds.setting_bounds(kind, name)
                    out_of_range = channel_kinds.bounds_message(label, low, high)
                    field = forms.IntegerField(
                        label=label,
                        required=False,
                        min_value=low,
                        max_value=high,
                        error_messages={
                            "invalid": out_of_range,
                            "min_value": out_of_range,
                            "max_value": out_of_range,
                        },
                    )
                elif vkind == "engine":
                    field = forms.ChoiceField(
                        label=label,
                        required=False,
                        choices=[
                            ("", "—"),
                            ("postgresql", "PostgreSQL"),
                            ("mysql", "MySQL / MariaDB"),
                        ],
                    )
                elif vkind == "query":
                    field = forms.CharField(
                        label=label,
                        required=False,
                        max_length=4000,
                        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
                    )
                else:
                    field = forms.CharField(label=label, required=False, max_length=500)
                if required:
                    field.help_text = _("Required before the channel can be activated.")
                if name in defaults and fname not in self.initial:
                    field.initial = defaults[name]
                self.fields[fname] = field
                names.append(fname)
            self.setting_groups.append((kind, ChannelKind(kind).label, names))

    @staticmethod
    def initial_for(channel: Channel) -> dict:
        initial = {
            "kind": channel.kind,
            "name": channel.name,
            "source_kind": channel.source_kind,
            "information_system": channel.information_system_id,
            "access_requirements": channel.access_requirements,
            "schedule": channel.schedule,
            "allow_reject_file": channel.allow_reject_file,
            "column_mapping": mapping_text(channel.column_mapping),
        }
        for name, value in (channel.config or {}).items():
            initial[setting_field_name(channel.kind, name)] = value
        return initial

    def setting_fields(self):
        """[(kind, label, [bound fields])] for the template."""
        return [
            (kind, label, [self[name] for name in names])
            for kind, label, names in self.setting_groups
        ]

    def clean_column_mapping(self):
        return parse_mapping(self.cleaned_data.get("column_mapping", ""), self.resource)

    def chosen_kind(self) -> str:
        return self.channel.kind if self.channel is not None else self.cleaned_data["kind"]

    def config(self) -> dict:
        kind = self.chosen_kind()
        return {
            name: self.cleaned_data.get(setting_field_name(kind, name))
            for name in channel_kinds.SETTINGS.get(kind, {})
            if self.cleaned_data.get(setting_field_name(kind, name)) not in (None, "")
        }

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "source_kind": d["source_kind"],
            "information_system": d.get("information_system"),
            "access_requirements": d["access_requirements"],
            "schedule": d.get("schedule") or "",
            "allow_reject_file": bool(d.get("allow_reject_file")),
            "config": self.config(),
            "column_mapping": d.get("column_mapping") or {},
        }

    def add_config_error(self, field: str | None, message: str) -> None:
        """A service refusal naming a setting (clean_config names the setting key)."""
        kind = self.chosen_kind() if hasattr(self, "cleaned_data") else ""
        fname = setting_field_name(kind, field) if field else None
        if fname in self.fields:
            self.add_error(fname, message)
        elif field in self.fields:
            self.add_error(field, message)
        else:
            self.add_error(None, message)


class ResourceChoiceForm(forms.Form):
    resource = forms.ModelChoiceField(label=_("Published resource"), queryset=None)

    def __init__(self, *args, resources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources
        self.fields["resource"].label_from_instance = lambda r: (
            f"{r.code} {r.published_version.name}"
        )


# --- actions on a channel -------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Data file"),
        help_text=_(
            "CSV (UTF-8, UTF-8 with BOM or GB18030) or Excel .xlsx, header in the first row."
        ),
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        required=False,
        choices=[
            ("", _("As the resource is updated (incremental when it has a key and update flag)")),
            (Batch.Mode.FULL, _("Full reload: replace all rows")),
        ],
    )


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that columns or values that no longer fit may be lost."),
        required=True,
    )


class ZoneMoveForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I confirm that the table moves to the storage zone its grades ask for now, and who "
            "may read it changes with it."
        ),
        required=True,
    )


class RunForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Mode"),
        required=False,
        choices=[("", _("As the resource is updated")), (Batch.Mode.FULL, _("Full reload"))],
    )


# --- downtime ---------------------------------------------------------------------------------


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DowntimeForm(forms.Form):
    information_system = forms.ModelChoiceField(
        label=_("Information system"), queryset=InformationSystem.objects.none()
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=DowntimeReport.Kind.choices)
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What is done, and what users of the system's data should expect."),
    )

    def __init__(self, *args, organization_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["information_system"].queryset = InformationSystem.objects.filter(
            organization_id=organization_id
        ).order_by("name")

    def clean(self):
        d = super().clean()
        starts, ends = d.get("starts_at"), d.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The end must come after the start."))
        if starts and abs(starts - timezone.now()) > dt.timedelta(days=3660):
            self.add_error("starts_at", _("Give a date within ten years."))
        return d
