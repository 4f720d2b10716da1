"""Models of registration.applications (imported by registration/models.py): the registration
procedure of Art. 25 (apply, accept or send back once, formal review, public notice with
objections, code assignment), changes and cancellation.

- `Registration` (登记): one application and, once a code is assigned, the registration itself:
  the registrant (holder), what is registered (a public data resource, an open data resource,
  or a data product or service described by name), its metadata, the evidence deposit it rests
  on, the procedure's state and deadlines, and the code.
- `Material`: a document filed with the application (PDF, Word, OpenDocument, image).
- `NoticeObjection` (异议): an objection lodged by anyone during the public notice; while one is
  unanswered the procedure is held.
- `RegistrationChange`: a change of a registered object with a new deposit, decided by the
  registration body.
- `CodeCounter`: the last code number given in a year (gap-free, see decision "registration
  codes").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from catalog.models import Resource
from wuhan_pdr.accounts.models import Organization


class Registration(models.Model):
    class Kind(models.TextChoices):
        RESOURCE = "resource", pgettext_lazy("registration", "Public data resource")
        OPEN_DATA = "open_data", pgettext_lazy("registration", "Open data resource")
        PRODUCT = "product", pgettext_lazy("registration", "Data product or service")

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("registration", "Draft")
        SUBMITTED = "submitted", pgettext_lazy("registration", "Waiting for acceptance")
        RETURNED = "returned", pgettext_lazy("registration", "Sent back for materials")
        ACCEPTED = "accepted", pgettext_lazy("registration", "In formal review")
        NOTICE = "notice", pgettext_lazy("registration", "In public notice")
        REGISTERED = "registered", pgettext_lazy("registration", "Registered")
        REFUSED = "refused", pgettext_lazy("registration", "Refused")
        WITHDRAWN = "withdrawn", pgettext_lazy("registration", "Withdrawn")
        CANCELLED = "cancelled", pgettext_lazy("registration", "Cancelled")

    # States anyone may see in the public register (the notice is public by law, Art. 25).
    PUBLIC_STATES = (State.NOTICE, State.REGISTERED, State.CANCELLED)
    EDITABLE_STATES = (State.DRAFT, State.RETURNED)

    # Which kind of deposit each kind of registration rests on.
    DEPOSIT_KINDS = {
        Kind.RESOURCE: "resource_data",
        Kind.OPEN_DATA: "open_data",
        Kind.PRODUCT: "product",
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(
        pgettext_lazy("registration", "what is registered"), max_length=12, choices=Kind.choices
    )
    registrant = models.ForeignKey(
        Organization,
        verbose_name=pgettext_lazy("registration", "registrant"),
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=pgettext_lazy("registration", "resource"),
        on_delete=models.PROTECT,
        related_name="registrations",
        null=True,
        blank=True,
    )
    # The object's name: the resource's catalog name, or the product's own.
    name = models.CharField(pgettext_lazy("registration", "name"), max_length=200)
    description = models.TextField(pgettext_lazy("registration", "description"), max_length=4000)
    # Metadata the registrant declares (Art. 25: "如实准确提供登记材料").
    source_note = models.TextField(
        pgettext_lazy("registration", "sources and processing"),
        max_length=4000,
        blank=True,
        help_text=_("Where the data comes from and how it is processed (来源可查、加工可控)."),
    )
    update_cycle = models.CharField(
        pgettext_lazy("registration", "update cycle"), max_length=100, blank=True
    )
    contact_name = models.CharField(pgettext_lazy("registration", "contact person"), max_length=50)
    contact_phone = models.CharField(pgettext_lazy("registration", "contact phone"), max_length=30)
    # Mandatory (Art. 23 para. 1): a party or government body's or public institution's
    # resource in the authorized-operation scope; otherwise voluntary.
    mandatory = models.BooleanField(pgettext_lazy("registration", "mandatory"), default=False)
    deposit = models.ForeignKey(
        "registration.Deposit",
        verbose_name=pgettext_lazy("registration", "evidence deposit"),
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    state = models.CharField(
        pgettext_lazy("registration", "State"),
        max_length=12,
        choices=State.choices,
        default=State.DRAFT,
    )
    submitted_at = models.DateTimeField(
        pgettext_lazy("registration", "submitted"), null=True, blank=True
    )
    accept_by = models.DateTimeField(
        pgettext_lazy("registration", "to be accepted by"), null=True, blank=True
    )
    accept_overdue_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Sent back once at most (Art. 25 as the domain brief reads it): what was missing.
    sent_back_at = models.DateTimeField(
        pgettext_lazy("registration", "sent back"), null=True, blank=True
    )
    missing = models.TextField(
        pgettext_lazy("registration", "what is missing"), max_length=4000, blank=True
    )
    accepted_at = models.DateTimeField(
        pgettext_lazy("registration", "accepted"), null=True, blank=True
    )
    notice_starts_at = models.DateTimeField(
        pgettext_lazy("registration", "notice from"), null=True, blank=True
    )
    notice_ends_at = models.DateTimeField(
        pgettext_lazy("registration", "notice until"), null=True, blank=True
    )
    notice_end_noted_at = models.DateTimeField(null=True, blank=True, editable=False)
    code = models.CharField(
        pgettext_lazy("registration", "registration code"),
        max_length=40,
        unique=True,
        null=True,
        blank=True,
    )
    registered_at = models.DateTimeField(
        pgettext_lazy("registration", "registered"), null=True, blank=True
    )
    cancelled_at = models.DateTimeField(
        pgettext_lazy("registration", "cancelled"), null=True, blank=True
    )
    cancel_reason = models.TextField(
        pgettext_lazy("registration", "reason for cancellation"), max_length=2000, blank=True
    )
    # Raised by each approved change.
    version = models.PositiveIntegerField(pgettext_lazy("registration", "version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(pgettext_lazy("registration", "created"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("registration", "updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "accept_by"]),
            models.Index(fields=["state", "notice_ends_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="product") | models.Q(resource__isnull=True),
                name="registration_product_has_no_resource",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="product") | models.Q(resource__isnull=False),
                name="registration_resource_named",
            ),
        ]

    def __str__(self) -> str:
        return self.code or self.name

    @property
    def is_public(self) -> bool:
        return self.state in self.PUBLIC_STATES


class Material(models.Model):
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="materials"
    )
    title = models.CharField(pgettext_lazy("registration", "material"), max_length=200)
    file = models.FileField(upload_to="registration/materials/%Y/%m/", max_length=200)
    file_name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("registration material")
        verbose_name_plural = _("registration materials")
        ordering = ["registration", "uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.title


class NoticeObjection(models.Model):
    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("notice objection", "Waiting for an answer")
        ANSWERED = "answered", pgettext_lazy("notice objection", "Answered")

    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="objections"
    )
    # Anyone may object; someone not signed in gives a name and a way to reach them.
    name = models.CharField(pgettext_lazy("notice objection", "your name"), max_length=50)
    contact = models.CharField(pgettext_lazy("notice objection", "phone or e-mail"), max_length=100)
    text = models.TextField(pgettext_lazy("notice objection", "objection"), max_length=4000)
    lodged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    lodged_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    upheld = models.BooleanField(pgettext_lazy("notice objection", "upheld"), default=False)
    answer = models.TextField(
        pgettext_lazy("notice objection", "answer"), max_length=4000, blank=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("notice objection")
        verbose_name_plural = _("notice objections")
        ordering = ["registration", "lodged_at", "pk"]

    def __str__(self) -> str:
        return f"{self.registration} #{self.pk}"


class RegistrationChange(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("registration change", "Waiting for a decision")
        APPROVED = "approved", pgettext_lazy("registration change", "Approved")
        REFUSED = "refused", pgettext_lazy("registration change", "Refused")

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="changes")
    description = models.TextField(pgettext_lazy("registration", "description"), max_length=4000)
    reason = models.TextField(
        pgettext_lazy("registration change", "reason for the change"), max_length=2000
    )
    old_deposit = models.ForeignKey(
        "registration.Deposit", on_delete=models.PROTECT, related_name="+"
    )
    new_deposit = models.ForeignKey(
        "registration.Deposit",
        verbose_name=pgettext_lazy("registration change", "new evidence deposit"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(max_length=2000, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("registration change")
        verbose_name_plural = _("registration changes")
        ordering = ["registration", "-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration"],
                condition=models.Q(state="pending"),
                name="registration_one_pending_change",
            )
        ]

    def __str__(self) -> str:
        return f"{self.registration} change #{self.pk}"


class CodeCounter(models.Model):
    """The last sequence number given in `year`; its row is locked while a code is assigned,
    in the transaction that records the code, so numbers are never skipped or repeated."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("registration code counter")
        verbose_name_plural = _("registration code counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
