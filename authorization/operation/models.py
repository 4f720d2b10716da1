"""Authorized operation (Art. 18-20).

An `OperationAuthorization` (授权运营) gives an operator the use of public data resources for
a time limit: whole (整体授权, every eligible resource of a domain or a region) or individual
(个别授权, named resources with an implementation plan and each provider's consent,
`ProviderConsent`). The authorizing body is the city bureau, or a district bureau when every
resource is held by that district's agencies. Once active it holds supply grants
(`authorization.sharing.Grant`, origin "operation") for the resources whose grade lets rows
leave (the others: sandbox only, `AuthorizedResource.delivery`).

The operator lists its products and services (`Product`) at prices within the fee cap of their
fee basis (`FeeCap`), and drafts a yearly disclosure report (`YearlyDisclosure`) that the
bureau checks and publishes. Usage is never typed in: it is read from the supply counters
(`GrantUsage`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from catalog.models import Classification, Resource
from wuhan_pdr.accounts.models import Division, Organization


class FeeBasis(models.TextChoices):
    CALL = "call", _("Per call")
    ROW = "row", _("Per row")
    MONTH = "month", _("Per month")
    PRODUCT = "product", _("Per product")


class FeeCap(models.Model):
    """The highest price the bureau allows for one fee basis, with its pricing rule."""

    basis = models.CharField(_("fee basis"), max_length=8, choices=FeeBasis.choices, unique=True)
    amount = models.DecimalField(
        _("fee cap (yuan)"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(0)],
    )
    rule = models.TextField(_("pricing rule"), max_length=2000, blank=True)
    updated_at = models.DateTimeField(pgettext_lazy("operation", "updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("fee cap")
        verbose_name_plural = _("fee caps")
        ordering = ["basis"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="fee_cap_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.get_basis_display()}: {self.amount}"


class OperationAuthorization(models.Model):
    class Kind(models.TextChoices):
        WHOLE = "whole", _("Whole authorization")
        INDIVIDUAL = "individual", _("Individual authorization")

    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("operation", "Awaiting review")
        RETURNED = "returned", pgettext_lazy("operation", "Returned for changes")
        APPROVED = "approved", pgettext_lazy("operation", "Approved, not yet started")
        ACTIVE = "active", pgettext_lazy("operation", "In force")
        SUSPENDED = "suspended", pgettext_lazy("operation", "Suspended")
        REVOKED = "revoked", pgettext_lazy("operation", "Revoked")
        EXPIRED = "expired", pgettext_lazy("operation", "Expired")
        REFUSED = "refused", pgettext_lazy("operation", "Refused")
        WITHDRAWN = "withdrawn", pgettext_lazy("operation", "Withdrawn")

    # The states the public disclosure shows (Art. 20): decided authorizations, ended or not.
    DISCLOSED = (
        State.APPROVED,
        State.ACTIVE,
        State.SUSPENDED,
        State.REVOKED,
        State.EXPIRED,
    )

    kind = models.CharField(pgettext_lazy("operation", "kind"), max_length=12, choices=Kind.choices)
    operator = models.ForeignKey(
        Organization,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="operation_authorizations",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("operation", "applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    authorizing_body = models.ForeignKey(
        Organization,
        verbose_name=_("authorizing bureau"),
        on_delete=models.PROTECT,
        related_name="authorizations_granted",
    )
    domain = models.ForeignKey(
        Classification,
        verbose_name=_("domain"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    region = models.ForeignKey(
        Division,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resources = models.ManyToManyField(
        Resource,
        verbose_name=_("resources"),
        through="AuthorizedResource",
        related_name="operation_authorizations",
    )
    scope = models.TextField(_("scope of operation"), max_length=2000)
    purpose = models.TextField(pgettext_lazy("operation", "purpose"), max_length=2000)
    security_measures = models.TextField(_("security measures"), max_length=4000)
    plan = models.FileField(
        _("implementation plan"), upload_to="operation/plans/%Y/%m/", blank=True, max_length=200
    )
    plan_name = models.CharField(_("plan file name"), max_length=200, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    state = models.CharField(
        pgettext_lazy("operation", "state"),
        max_length=12,
        choices=State.choices,
        default=State.SUBMITTED,
    )
    step_deadline = models.DateTimeField(_("deadline of the current step"), null=True, blank=True)
    decided_at = models.DateTimeField(pgettext_lazy("operation", "decided"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    state_reason = models.TextField(_("reasons"), max_length=2000, blank=True)
    reminded_at = models.DateTimeField(_("expiry reminder sent"), null=True, blank=True)
    grants = models.ManyToManyField(
        "authorization.Grant", verbose_name=pgettext_lazy("sharing", "grants"), blank=True
    )
    created_at = models.DateTimeField(pgettext_lazy("operation", "created"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("operation", "updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("operation authorization")
        verbose_name_plural = _("operation authorizations")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "ends_on"]),
            models.Index(fields=["state", "starts_on"]),
            models.Index(fields=["authorizing_body", "state"]),
            models.Index(fields=["operator", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="operation_authorization_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.operator.name}"

    @property
    def is_disclosed(self) -> bool:
        return self.state in self.DISCLOSED


class AuthorizedResource(models.Model):
    class Delivery(models.TextChoices):
        ROWS = "rows", _("Rows through the supply API")
        SANDBOX = "sandbox", _("Sandbox only")

    authorization = models.ForeignKey(
        OperationAuthorization, on_delete=models.CASCADE, related_name="entries"
    )
    resource = models.ForeignKey(Resource, verbose_name=_("resource"), on_delete=models.PROTECT)
    delivery = models.CharField(
        pgettext_lazy("operation", "delivery"), max_length=8, choices=Delivery.choices
    )
    grant = models.ForeignKey(
        "authorization.Grant",
        verbose_name=pgettext_lazy("sharing", "grant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The grant's raw key, sealed, until the operator has seen it once (then emptied).
    key_sealed = models.TextField(blank=True)

    class Meta:
        verbose_name = _("authorized resource")
        verbose_name_plural = _("authorized resources")
        ordering = ["authorization", "resource__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["authorization", "resource"], name="authorized_resource_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.authorization_id}: {self.resource_id}"


class ProviderConsent(models.Model):
    """A provider agency's consent to an individual authorization's implementation plan."""

    authorization = models.ForeignKey(
        OperationAuthorization, on_delete=models.CASCADE, related_name="consents"
    )
    provider = models.ForeignKey(
        Organization, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    note = models.CharField(_("how the consent was given"), max_length=500)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("provider's consent")
        verbose_name_plural = _("providers' consents")
        ordering = ["authorization", "provider__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["authorization", "provider"], name="provider_consent_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.authorization_id}: {self.provider_id}"


class Product(models.Model):
    class State(models.TextChoices):
        LISTED = "listed", pgettext_lazy("product", "Listed")
        WITHDRAWN = "withdrawn", pgettext_lazy("product", "Withdrawn")

    operator = models.ForeignKey(
        Organization, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="products"
    )
    name = models.CharField(pgettext_lazy("product", "name"), max_length=200)
    description = models.TextField(pgettext_lazy("product", "description"), max_length=4000)
    resources = models.ManyToManyField(Resource, verbose_name=_("resources used"), related_name="+")
    price = models.DecimalField(
        pgettext_lazy("product", "price (yuan)"),
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(0)],
    )
    unit = models.CharField(pgettext_lazy("product", "unit"), max_length=50)
    fee_basis = models.CharField(_("fee basis"), max_length=8, choices=FeeBasis.choices)
    state = models.CharField(
        pgettext_lazy("product", "state"),
        max_length=12,
        choices=State.choices,
        default=State.LISTED,
    )
    created_at = models.DateTimeField(pgettext_lazy("operation", "created"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("operation", "updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product or service")
        verbose_name_plural = _("products and services")
        ordering = ["operator", "name", "pk"]
        indexes = [models.Index(fields=["operator", "state"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_positive")
        ]

    def __str__(self) -> str:
        return self.name


class YearlyDisclosure(models.Model):
    """The operator's report for one year (Art. 20), due by the end of March of the next."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("disclosure", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("disclosure", "Awaiting the bureau's check")
        RETURNED = "returned", pgettext_lazy("disclosure", "Returned for changes")
        PUBLISHED = "published", pgettext_lazy("disclosure", "Published")

    operator = models.ForeignKey(
        Organization,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="yearly_disclosures",
    )
    year = models.PositiveSmallIntegerField(pgettext_lazy("disclosure", "year"))
    body = models.TextField(pgettext_lazy("disclosure", "report"), max_length=20000, blank=True)
    state = models.CharField(
        pgettext_lazy("disclosure", "state"),
        max_length=12,
        choices=State.choices,
        default=State.DRAFT,
    )
    due_on = models.DateField(pgettext_lazy("disclosure", "due on"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    published_at = models.DateTimeField(
        pgettext_lazy("disclosure", "published"), null=True, blank=True
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("disclosure", "published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewer_comment = models.TextField(_("bureau's comment"), max_length=2000, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(_("flagged overdue"), null=True, blank=True)
    created_at = models.DateTimeField(pgettext_lazy("operation", "created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("yearly disclosure report")
        verbose_name_plural = _("yearly disclosure reports")
        ordering = ["operator", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "year"], name="yearly_disclosure_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.year}"

    @property
    def is_overdue(self) -> bool:
        from wuhan_pdr.kernel.workdays import today

        return self.state != self.State.PUBLISHED and (
            self.overdue_flagged_at is not None or today() > self.due_on
        )
