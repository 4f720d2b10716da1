"""Security assessments (Art. 27). A subject is named by kind and id (see registry.py); its
newest assessment is its current one (`is_current`), and only that one decides."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Assessment(models.Model):
    class Result(models.TextChoices):
        PASS = "pass", _("Pass")
        PASS_WITH_CONDITIONS = "conditional", _("Pass with conditions")
        FAIL = "fail", _("Fail")

    PASSING = (Result.PASS, Result.PASS_WITH_CONDITIONS)

    subject_kind = models.CharField(_("subject kind"), max_length=32)
    subject_id = models.CharField(_("subject"), max_length=64)
    # The subject's name when assessed, for lists that must not ask every subject's owner.
    subject_title = models.CharField(_("subject name"), max_length=300)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessor"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessed_on = models.DateField(_("assessment date"))
    findings = models.TextField(_("findings"), max_length=8000)
    conditions = models.TextField(_("conditions"), max_length=4000, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_current = models.BooleanField(_("current"), default=True)
    # Set when the subject changed in a way that needs a new assessment.
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)
    # Set by the daily job, so that each reminder and each expiry is handled once.
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expiry handled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("security assessment")
        verbose_name_plural = _("security assessments")
        ordering = ["-assessed_on", "-pk"]
        indexes = [
            models.Index(fields=["subject_kind", "subject_id"]),
            models.Index(fields=["is_current", "valid_until"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_id"],
                condition=models.Q(is_current=True),
                name="assessment_one_current_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject_title} · {self.assessed_on}"

    @property
    def passed(self) -> bool:
        return self.result in self.PASSING

    def is_valid_on(self, day) -> bool:
        return bool(
            self.passed
            and self.revoked_at is None
            and self.valid_until is not None
            and self.valid_until >= day
        )


class ChecklistAnswer(models.Model):
    class Answer(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        NA = "na", _("Not applicable")

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="answers", verbose_name=_("assessment")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.CharField(_("key"), max_length=50)
    # The question as asked then: checklists change, answers keep their words.
    question = models.CharField(_("question"), max_length=300)
    answer = models.CharField(_("answer"), max_length=8, choices=Answer.choices)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checklist answer")
        verbose_name_plural = _("checklist answers")
        ordering = ["assessment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "key"], name="checklist_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.answer}"
