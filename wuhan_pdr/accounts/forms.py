from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Division, Organization, User
from .roles import AGENCY_ASSIGNABLE_ROLES, Role


class OrganizationFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds"))] + Organization.Kind.choices
    )
    division = forms.ModelChoiceField(
        label=_("District"),
        required=False,
        queryset=Division.objects.all(),
        empty_label=_("All districts"),
    )


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = [
            "name",
            "short_name",
            "kind",
            "parent",
            "division",
            "credit_code",
            "address",
            "contact_person",
            "contact_phone",
            "is_active",
        ]


class OrganizationContactForm(forms.ModelForm):
    """What an agency's data officer keeps up to date about its own organization."""

    class Meta:
        model = Organization
        fields = ["short_name", "address", "contact_person", "contact_phone"]


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        required=False,
        queryset=Organization.objects.none(),
        empty_label=_("All organizations"),
    )
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("All roles"))] + Role.choices
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("yes", _("Active")), ("no", _("Deactivated"))],
    )

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is not None:
            self.fields["organization"].queryset = organizations


def _role_choices(platform_admin: bool):
    if platform_admin:
        return Role.choices
    return [(r.value, r.label) for r in AGENCY_ASSIGNABLE_ROLES]


class UserForm(forms.Form):
    """Details and roles of a user, as a data officer or a system administrator edits them."""

    full_name = forms.CharField(label=_("Full name"), max_length=50)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.none()
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, organizations, platform_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["roles"].choices = _role_choices(platform_admin)
        if not platform_admin:
            self.fields["organization"].disabled = True


class UserCreateForm(UserForm):
    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={
            "invalid": _("Use letters, digits and @ . + - _ only."),
        },
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    field_order = [
        "username",
        "full_name",
        "organization",
        "roles",
        "email",
        "phone",
        "password1",
        "password2",
    ]

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is already taken."))
        return username

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class DeactivateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=100, required=False)


class TwoFactorCodeForm(forms.Form):
    """The six-digit code of the authenticator app (or, when verifying, a recovery code)."""

    code = forms.CharField(
        label=_("Verification code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split()).lower()


class TwoFactorUserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    enrolled = forms.ChoiceField(
        label=_("Two-factor login"),
        required=False,
        choices=[("", _("All")), ("yes", _("On")), ("no", _("Off"))],
    )
