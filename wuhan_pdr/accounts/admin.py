from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from .duties import SeparationOfDutiesError, check_separation_of_duties
from .models import Division, LegacyCreditCode, Organization, User


class SeparatedDutiesUserChangeForm(UserChangeForm):
    """The admin's user form refuses two of the three administrative roles (and a superuser
    holding the security administrator's or the auditor's role)."""

    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups")
        if groups is not None:
            try:
                check_separation_of_duties(
                    [g.name for g in groups], is_superuser=bool(cleaned.get("is_superuser"))
                )
            except SeparationOfDutiesError as exc:
                raise ValidationError(str(exc), code="separation_of_duties") from exc
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin, GuardedModelAdmin):
    list_display = ("name", "kind", "division", "credit_code", "is_active")
    list_filter = ("kind", "division", "is_active")
    search_fields = ("name", "credit_code")


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    form = SeparatedDutiesUserChangeForm
    list_display = ("username", "full_name", "organization", "is_active")
    list_filter = ("is_active", "groups", "organization__kind")
    search_fields = ("username", "full_name", "email")
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Organization", {"fields": ("full_name", "organization", "phone")}),
    )


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "valid_from", "valid_to")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(LegacyCreditCode)
class LegacyCreditCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "note", "created_at")
    search_fields = ("code",)
