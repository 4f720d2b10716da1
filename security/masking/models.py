"""Masking rules as data (issue #13 item 5). A rule is chosen per standard data element
(`catalog.DataElement.masking_rule`) and per catalog item (`catalog.DataItem.masking_rule`,
which overrides the element's); the security administrator manages them, and every change
is kept in the rule's history."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .core import (
    DEFAULT_REPLACEMENT,
    DISTRICT,
    HMAC,
    KEEP_ENDS,
    METHODS,
    MIDDLE,
    MONTH,
    REPLACE,
    ROUND,
    YEAR,
    Mask,
)


class MaskingRule(models.Model):
    class Method(models.TextChoices):
        REPLACE = REPLACE, _("Replace the whole value")
        KEEP_ENDS = KEEP_ENDS, _("Keep the first and last characters")
        MIDDLE = MIDDLE, _("Mask the middle third")
        HMAC = HMAC, _("Keyed hash (HMAC-SHA256; joins still work)")
        YEAR = YEAR, _("Date to its year")
        MONTH = MONTH, _("Date to its month")
        DISTRICT = DISTRICT, _("Address to its district")
        ROUND = ROUND, _("Round a number")

    name = models.CharField(_("name"), max_length=50, unique=True)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    keep_first = models.PositiveSmallIntegerField(
        _("characters kept at the start"),
        default=1,
        validators=[MaxValueValidator(50)],
        help_text=_("For “keep the first and last characters”."),
    )
    keep_last = models.PositiveSmallIntegerField(
        _("characters kept at the end"),
        default=1,
        validators=[MaxValueValidator(50)],
        help_text=_("For “keep the first and last characters”."),
    )
    max_stars = models.PositiveSmallIntegerField(
        _("at most this many asterisks"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("So the length of a long value is not told either."),
    )
    replacement = models.CharField(
        _("replacement text"),
        max_length=20,
        default=DEFAULT_REPLACEMENT,
        help_text=_(
            "Shown instead of a value the method cannot read (or of every value, for “replace”)."
        ),
    )
    digits = models.SmallIntegerField(
        _("decimal places"),
        default=0,
        validators=[MinValueValidator(-12), MaxValueValidator(12)],
        help_text=_("For “round a number”: 2 keeps cents, -2 rounds to hundreds."),
    )
    multiple = models.DecimalField(
        _("round to a multiple of"),
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text=_("For “round a number”: instead of decimal places, e.g. 500."),
    )
    description = models.TextField(_("description"), blank=True)
    note = models.TextField(
        _("note"),
        blank=True,
        help_text=_("E.g. the free-text rule this one was migrated from."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("masking rule")
        verbose_name_plural = _("masking rules")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=METHODS),
                name="masking_rule_method_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.method == self.Method.KEEP_ENDS and self.keep_first + self.keep_last == 0:
            raise ValidationError(
                {"keep_first": _("Keep at least one character, or choose “replace”.")}
            )

    @property
    def mask(self) -> Mask:
        return Mask(
            method=self.method,
            first=self.keep_first,
            last=self.keep_last,
            max_stars=self.max_stars,
            replacement=self.replacement,
            digits=self.digits,
            multiple=self.multiple,
        )

    @property
    def summary(self) -> str:
        """The method with its parameters, in a few words."""
        if self.method == self.Method.KEEP_ENDS:
            return gettext("Keep the first %(first)s and last %(last)s characters") % {
                "first": self.keep_first,
                "last": self.keep_last,
            }
        if self.method == self.Method.ROUND:
            if self.multiple:
                return gettext("Round to a multiple of %(multiple)s") % {
                    "multiple": format(self.multiple.normalize(), "f")
                }
            return gettext("Round to %(digits)s decimal places") % {"digits": self.digits}
        return str(self.get_method_display())
