"""A ticket with a state, to exercise `wuhan_pdr.kernel.workflow` without a chapter app."""

from django.db import models
from simple_history.models import HistoricalRecords


class Ticket(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned"

    title = models.CharField(max_length=100)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.title
