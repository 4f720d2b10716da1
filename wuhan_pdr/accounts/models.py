"""Organizations, administrative divisions and users (the kernel's `accounts`)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .validators import normalize_credit_code, validate_credit_code


class Division(models.Model):
    """An administrative division (GB/T 2260). Codes change over time, so each carries the
    dates it is valid for."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        DISTRICT = "district", _("District / county")

    code = models.CharField(_("division code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=50)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class LegacyCreditCode(models.Model):
    """A credit code accepted although it fails the GB 32100 checksum (issued before the
    standard, or recorded wrongly by the issuing authority and never corrected)."""

    code = models.CharField(_("credit code"), max_length=18, unique=True)
    note = models.CharField(_("why it is accepted"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("legacy credit code")
        verbose_name_plural = _("legacy credit codes")

    def __str__(self) -> str:
        return self.code


class Organization(models.Model):
    class Kind(models.TextChoices):
        CITY_BUREAU = "city_bureau", _("City data bureau")
        DISTRICT_BUREAU = "district_bureau", _("District data bureau")
        CITY_AGENCY = "city_agency", _("City agency")
        DISTRICT_AGENCY = "district_agency", _("District agency")
        PUBLIC_UTILITY = "public_utility", _("Public utility")
        OPERATOR = "operator", _("Authorized operator")
        REGISTRATION_BODY = "registration_body", _("Registration body")
        USER_ORG = "user_org", _("Other user organization")

    AGENCY_KINDS = (Kind.CITY_AGENCY, Kind.DISTRICT_AGENCY, Kind.PUBLIC_UTILITY)
    BUREAU_KINDS = (Kind.CITY_BUREAU, Kind.DISTRICT_BUREAU)

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    division = models.ForeignKey(
        Division, verbose_name=_("administrative division"), on_delete=models.PROTECT
    )
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["division__code", "kind", "name"]
        permissions = [("manage_users", _("Can manage the organization's users"))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.credit_code = normalize_credit_code(self.credit_code)

    @property
    def is_agency(self) -> bool:
        return self.kind in self.AGENCY_KINDS

    @property
    def admin_group_name(self) -> str:
        return f"org:{self.pk}:admins"


class UserManager(DjangoUserManager):
    use_in_migrations = True

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """A superuser holds every permission, so it is the system administrator's duty
        (decision "separation-of-duties"): it joins that role, and may hold neither the
        security administrator's nor the auditor's (the database refuses it too)."""
        from .duties import check_separation_of_duties
        from .roles import Role

        groups = extra_fields.pop("groups", None)
        user = super().create_superuser(username, email, password, **extra_fields)
        from django.contrib.auth.models import Group

        wanted = {str(Role.SYSTEM_ADMIN)} | {str(g) for g in (groups or [])}
        check_separation_of_duties(wanted, is_superuser=True)
        user.groups.add(*Group.objects.filter(name__in=wanted))
        return user


class User(AbstractUser):
    """A person with a login. Belongs to exactly one organization (superusers created from
    the command line may have none until one is set)."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # When the password was last set; a password older than PASSWORD_MAX_AGE_DAYS must be
    # changed before anything else (empty: never forced, e.g. no usable password).
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["password", "last_login", "password_changed_at"])

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username

    def set_password(self, raw_password) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now() if raw_password is not None else None


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords, so that none of the last few is chosen
    again (PASSWORD_HISTORY_COUNT). Written by the password validator's `password_changed`
    hook, which Django calls whenever a user with a new password is saved."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("user")
    )
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("set"), default=timezone.now)

    class Meta:
        verbose_name = _("password history entry")
        verbose_name_plural = _("password history")
        ordering = ["user", "-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_pwhist_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"
