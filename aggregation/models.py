"""Provision and aggregation (Ch. 3 and 5; Art. 8, 10, 15, 16).

A `Channel` is one way a published catalog resource receives data (file upload, push from a
front-end machine, pull from an agency API, extraction from an agency database). Every run of
a channel is a `Batch`. Rows land in the resource's typed table in the `datastore` schema,
described by its `DatastoreTable` (see datastore.py and docs/decisions/0009). Agencies report
planned and unplanned downtime of their systems as `DowntimeReport`s.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from catalog.models import InformationSystem, Resource


class ChannelKind(models.TextChoices):
    FILE = "file", _("File upload")
    PUSH = "push", _("Push from a front-end machine")
    API_PULL = "api_pull", _("API pull")
    DB_EXTRACT = "db_extract", _("Database extraction")


class SourceKind(models.TextChoices):
    """Where the data comes from (Art. 15): the agency's own systems, data returned from a
    vertical (national or provincial) system, or a district's aggregation."""

    LOCAL = "local", _("The agency's own system")
    VERTICAL_RETURN = "vertical_return", _("Returned from a national or provincial system")
    DISTRICT = "district", _("Aggregated from a district")


class Schedule(models.TextChoices):
    """How often a scheduled channel (pull, extraction) runs."""

    HOURLY = "hourly", _("Every hour")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")
    MANUAL = "manual", _("Only when started by hand")


class Channel(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Being set up")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="channels"
    )
    kind = models.CharField(_("channel kind"), max_length=16, choices=ChannelKind.choices)
    name = models.CharField(_("channel name"), max_length=200)
    source_kind = models.CharField(
        _("source kind"), max_length=20, choices=SourceKind.choices, default=SourceKind.LOCAL
    )
    information_system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("source information system"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="channels",
    )
    access_requirements = models.TextField(
        _("access requirements"),
        max_length=4000,
        help_text=_("Network, credentials, encryption and other conditions of access (Art. 9)."),
    )
    # Empty: derived from the resource's update cycle (see schedules.py).
    schedule = models.CharField(_("schedule"), max_length=16, choices=Schedule.choices, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    allow_reject_file = models.BooleanField(
        _("load the good rows and keep the bad ones in a reject file"),
        default=False,
        help_text=_("Otherwise any bad row fails the whole batch."),
    )
    # Kind-specific settings (URL, paging, table, query...), validated by channels.py.
    config = models.JSONField(_("settings"), default=dict, blank=True)
    # Credentials for pull and extraction; never shown back in pages or history.
    secret = models.TextField(_("credential"), blank=True)
    # Push: sha256 of the channel's token (the token itself is shown once).
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    # Source column -> data item column, where header names differ from item names.
    column_mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Highest update-flag value loaded so far (incremental channels), as text.
    watermark = models.CharField(_("watermark"), max_length=100, blank=True)
    next_run_at = models.DateTimeField(_("next scheduled run"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["secret", "token_hash", "next_run_at"])

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["resource", "name"]
        indexes = [models.Index(fields=["state", "next_run_at"])]

    def __str__(self) -> str:
        return self.name


class Batch(models.Model):
    """One run of a channel: what it received, loaded and rejected, and how it ended."""

    class Mode(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    class Status(models.TextChoices):
        OPEN = "open", _("Receiving")  # push batches between open and commit
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Loading")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (planned downtime)")
        # A full load that would remove more of the table than AGGREGATION_SHRINK_HOLD_RATIO:
        # nothing was changed; the provider confirms (the batch loads again from its kept
        # source) or discards it.
        HELD = "held", _("Awaiting confirmation")
        DISCARDED = "discarded", _("Discarded")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="batches")
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # The pusher's own batch id (push channels): opening it twice returns the same batch.
    external_id = models.CharField(_("sender's batch id"), max_length=100, blank=True)
    source_file = models.FileField(_("uploaded file"), upload_to="batches/%Y/%m/", blank=True)
    source_name = models.CharField(_("file name"), max_length=255, blank=True)
    reject_file = models.FileField(_("reject file"), upload_to="rejects/%Y/%m/", blank=True)
    rows_received = models.BigIntegerField(_("rows received"), default=0)
    rows_inserted = models.BigIntegerField(_("rows inserted"), default=0)
    rows_updated = models.BigIntegerField(_("rows updated"), default=0)
    rows_rejected = models.BigIntegerField(_("rows rejected"), default=0)
    bytes_received = models.BigIntegerField(_("bytes"), default=0)
    # [{"row": n, "column": "...", "message": "..."}] for the first bad rows.
    row_errors = models.JSONField(_("bad rows"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    watermark_before = models.CharField(max_length=100, blank=True)
    watermark_after = models.CharField(max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    # Full loads: the rows the table held before (set when the batch loads or is held).
    rows_before = models.BigIntegerField(_("rows before"), null=True, blank=True)
    # A held batch: the rows it would leave, and the provider's decision.
    rows_after = models.BigIntegerField(_("rows after"), null=True, blank=True)
    hold_decision = models.CharField(
        max_length=16,
        blank=True,
        choices=[("confirmed", _("Confirmed")), ("discarded", _("Discarded"))],
    )
    hold_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hold_decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # A waiting batch whose job was sent again by hand (once per waiting period).
    resent_at = models.DateTimeField(_("sent again"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    job = models.ForeignKey(
        "kernel.BackgroundJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="batch_external_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["channel", "-created_at"]),
            # Supervision's indicators (Art. 29): a channel's last successful load (one index
            # descent per channel) and the failed loads of a period (few rows of many).
            models.Index(
                fields=["channel", "finished_at"],
                condition=models.Q(status="succeeded"),
                name="batch_succeeded_finished",
            ),
            models.Index(
                fields=["created_at"],
                include=["channel", "started_at"],
                condition=models.Q(status="failed"),
                name="batch_failed_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.pk}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class PushChunk(models.Model):
    """One chunk of rows pushed into an open batch. (batch, number) is unique, so a chunk sent
    twice is stored once."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    rows = models.JSONField()
    row_count = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["batch", "number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="push_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.number}"


class DatastoreTable(models.Model):
    """The typed table in the schema of its storage zone that holds a resource's rows."""

    resource = models.OneToOneField(Resource, on_delete=models.PROTECT, related_name="datastore")
    table_name = models.CharField(max_length=63, unique=True)
    # The schema of the table's storage zone (security.zones): `datastore` for the general
    # zone, `datastore_restricted` / `datastore_sensitive` for the others.
    schema = models.CharField(max_length=63, default="datastore")
    # The columns the table's read functions mask (the published version's masking when they
    # were last made; None: never made): a reader masks any other column the masking asks
    # for now as well.
    read_masked = models.JSONField(null=True, blank=True, default=None)
    # The keyed hashes stored beside their columns (decision "stored-keyed-hash"): {column:
    # fingerprint of the masking key every row's companion column was filled under, or "" when
    # not all were (a backfill is due)}. A column is here when its companion column exists.
    stored_hashes = models.JSONField(default=dict, blank=True)
    # [{"name": column, "item": item name, "type": SQL type, "key": bool, "not_null": bool,
    #   "update_flag": bool, "data_type": "C"}] in table order.
    columns = models.JSONField(default=list)
    # Destructive differences from the published items, waiting for a confirmed action.
    pending_changes = models.JSONField(default=list, blank=True)
    # A move to another storage zone (the grade changed), confirmed: the zone it may move
    # to, who confirmed and when. A move to a less protected zone is confirmed by the security
    # administrator only; a move to a more protected one by the provider or the security
    # administrator (decision "zone-moves"). Cleared once the table moved.
    zone_move_to = models.CharField(_("confirmed move to zone"), max_length=16, blank=True)
    zone_move_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("move confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    zone_move_confirmed_at = models.DateTimeField(_("move confirmed"), null=True, blank=True)
    row_count = models.BigIntegerField(default=0)
    # Bumped whenever the rows are replaced (a full load swaps in a new table, a confirmed
    # rebuild): page cursors (kernel/cursors.py) made before are refused as stale. An
    # incremental merge keeps it: rows keep their keys, so keyset pages stay sound.
    generation = models.PositiveBigIntegerField(default=1)
    last_loaded_at = models.DateTimeField(null=True, blank=True)
    last_batch = models.ForeignKey(
        Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=[
            "row_count",
            "generation",
            "last_loaded_at",
            "last_batch",
            "read_masked",
            "stored_hashes",
        ]
    )

    class Meta:
        verbose_name = _("datastore table")
        verbose_name_plural = _("datastore tables")

    def __str__(self) -> str:
        return self.table_name


class DowntimeReport(models.Model):
    """Planned upgrades and maintenance, and unplanned outages, of an agency system (Art. 10).
    Scheduled pulls skip planned windows, and planned windows do not count against
    stability."""

    class Kind(models.TextChoices):
        UPGRADE = "upgrade", _("Planned upgrade")
        MAINTENANCE = "maintenance", _("Planned maintenance")
        OUTAGE = "outage", _("Unplanned outage")

    information_system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("information system"),
        on_delete=models.PROTECT,
        related_name="downtime_reports",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    description = models.TextField(_("description"), max_length=2000)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("downtime report")
        verbose_name_plural = _("downtime reports")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="downtime_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.information_system} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_planned(self) -> bool:
        return self.kind != self.Kind.OUTAGE


# --- Quality (Art. 10; GB/T 36344 dimensions and the regulation's stability) ----------------


class Dimension(models.TextChoices):
    NORMATIVE = "normative", _("Normativeness")
    COMPLETENESS = "completeness", _("Completeness")
    ACCURACY = "accuracy", _("Accuracy")
    CONSISTENCY = "consistency", _("Consistency")
    TIMELINESS = "timeliness", _("Timeliness")
    ACCESSIBILITY = "accessibility", _("Accessibility")
    STABILITY = "stability", _("Stability")


class QualityRule(models.Model):
    """One check of a resource's data. Derived rules come from its items and data elements
    and are rebuilt when the published items change; custom rules are added by the bureau
    with the constrained rule builder (never SQL typed by a user)."""

    class Kind(models.TextChoices):
        NOT_NULL = "not_null", _("Required value present")
        FORMAT = "format", _("Value matches the format")
        CODE_LIST = "code_list", _("Value is in the code list")
        UNIQUE_KEY = "unique_key", _("Key is unique")
        DUPLICATE_ROWS = "duplicate_rows", _("No duplicate rows")
        RANGE = "range", _("Value within range")
        REFERENCE = "reference", _("Value exists in another resource")
        FRESHNESS = "freshness", _("Updated within the update cycle")
        FUTURE_FLAG = "future_flag", _("No update flag in the future")
        REACHABLE = "reachable", _("Channel reachable")
        SUCCESS_RATE = "success_rate", _("Channel success rate")
        CUSTOM = "custom", _("Custom condition")

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.CASCADE, related_name="quality_rules"
    )
    name = models.CharField(_("rule name"), max_length=200)
    dimension = models.CharField(_("dimension"), max_length=16, choices=Dimension.choices)
    kind = models.CharField(_("rule kind"), max_length=16, choices=Kind.choices)
    # The datastore column checked (blank for table-level rules).
    column = models.CharField(_("column"), max_length=63, blank=True)
    # Kind-specific parameters, e.g. {"pattern": ...}, {"code_list": id}, {"min": .., "max": ..},
    # {"resource": id, "column": ...}, {"conditions": [...], "join": "and"}, {"threshold": 0.95}.
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    derived = models.BooleanField(_("derived from the items"), default=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quality rule")
        verbose_name_plural = _("quality rules")
        ordering = ["resource", "dimension", "pk"]

    def __str__(self) -> str:
        return self.name


class QualityRun(models.Model):
    """One evaluation of all enabled rules of a resource."""

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly")
        BATCH = "batch", _("After a batch")
        MANUAL = "manual", _("On demand")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.CASCADE, related_name="quality_runs"
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="quality_runs"
    )
    rows = models.BigIntegerField(_("rows in the table"), default=0)
    # {dimension: score 0-100} for the dimensions that had rules.
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    score = models.DecimalField(_("overall score"), max_digits=5, decimal_places=2, null=True)
    error = models.TextField(_("error"), blank=True)
    job = models.ForeignKey(
        "kernel.BackgroundJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("quality run")
        verbose_name_plural = _("quality runs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["resource", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.created_at:%Y-%m-%d %H:%M}"


class QualityResult(models.Model):
    """What one rule found in one run."""

    run = models.ForeignKey(QualityRun, on_delete=models.CASCADE, related_name="results")
    rule = models.ForeignKey(QualityRule, on_delete=models.CASCADE, related_name="results")
    dimension = models.CharField(_("dimension"), max_length=16, choices=Dimension.choices)
    rows_checked = models.BigIntegerField(_("rows checked"), default=0)
    rows_failed = models.BigIntegerField(_("rows failing"), default=0)
    # Key values of a few failing rows, to find them.
    sample_keys = models.JSONField(_("sample failing keys"), default=list, blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    passed = models.BooleanField(_("passed"))
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("quality result")
        verbose_name_plural = _("quality results")
        ordering = ["run", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["run", "rule"], name="quality_result_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.rows_failed}/{self.rows_checked}"


class QualityIssue(models.Model):
    """An entry of the quality issue list (问题清单): a failing rule, assigned to the provider
    with a deadline in working days, answered, verified by the next run, closed by the
    bureau."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("quality issue state", "Open")
        ANSWERED = "answered", _("Answered")
        VERIFIED = "verified", _("Fixed (verified by a run)")
        CLOSED = "closed", _("Closed")
        ESCALATED = "escalated", _("Escalated")

    class Answer(models.TextChoices):
        FIXED = "fixed", _("Fixed")
        EXPLAINED = "explained", _("Explained")
        DISPUTED = "disputed", _("Disputed")

    resource = models.ForeignKey(
        Resource,
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        related_name="quality_issues",
    )
    rule = models.ForeignKey(
        QualityRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="issues"
    )
    provider = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    opened_by_run = models.ForeignKey(
        QualityRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_run = models.ForeignKey(
        QualityRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rows_failed = models.BigIntegerField(_("rows failing"), default=0)
    sample_keys = models.JSONField(_("sample failing keys"), default=list, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=16, choices=Answer.choices, blank=True)
    answer_text = models.TextField(_("explanation"), max_length=4000, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(_("flagged overdue"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quality issue")
        verbose_name_plural = _("quality issues")
        ordering = ["-created_at"]
        constraints = [
            # One live issue per rule: a rule that keeps failing updates it.
            models.UniqueConstraint(
                fields=["rule"],
                condition=~models.Q(state="closed"),
                name="quality_issue_one_live_per_rule",
            )
        ]
        indexes = [models.Index(fields=["provider", "state"])]

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.rule}"


# --- Objections (Art. 10: 异议 and 会商) -------------------------------------------------------


class Objection(models.Model):
    """A data user's objection to a resource or to some of its rows: the bureau accepts or
    rejects it, holds a consultation with provider and requester, the provider carries out
    the agreed outcome and reports back, the bureau closes it."""

    class Kind(models.TextChoices):
        ERROR = "error", _("Error")
        OMISSION = "omission", _("Omission")
        PERSONAL_INFO = "personal_info", _("Infringes personal information")
        TRADE_SECRET = "trade_secret", _("Infringes a trade secret")
        INTELLECTUAL_PROPERTY = "ip", _("Infringes intellectual property")

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted, consultation to hold")
        REJECTED = "rejected", _("Rejected")
        AGREED = "agreed", _("Outcome agreed, provider to carry it out")
        REPORTED = "reported", _("Carried out, reported back")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        CORRECT = "correct", _("Correct")
        SUPPLEMENT = "supplement", _("Supplement")
        DELETE = "delete", _("Delete")
        REJECT = "reject", _("Reject the objection")

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="objections"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.TextField(_("description"), max_length=4000)
    # Key values of the rows objected to ([] = the resource as a whole).
    row_keys = models.JSONField(_("rows objected to"), default=list, blank=True)
    evidence = models.FileField(_("evidence"), upload_to="objections/%Y/%m/", blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.SUBMITTED
    )
    step_deadline = models.DateTimeField(_("deadline of the current step"), null=True, blank=True)
    decision_reason = models.TextField(_("reasons of the decision"), max_length=4000, blank=True)
    consultation_at = models.DateTimeField(_("consultation held"), null=True, blank=True)
    consultation_participants = models.TextField(_("participants"), max_length=2000, blank=True)
    consultation_minutes = models.TextField(_("minutes"), max_length=8000, blank=True)
    outcome = models.CharField(
        _("agreed outcome"), max_length=16, choices=Outcome.choices, blank=True
    )
    outcome_detail = models.TextField(_("what is to be done"), max_length=4000, blank=True)
    provider_report = models.TextField(_("provider's report"), max_length=4000, blank=True)
    # The rows as they were when the objection was filed and after the provider acted:
    # {"columns": [...], "before": [[...]], "after": [[...]]}.
    changed_rows = models.JSONField(_("changed rows"), default=dict, blank=True)
    # The day (Asia/Shanghai) the overdue current step was last flagged: once a day at most.
    overdue_flagged_on = models.DateField(_("flagged overdue on"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "step_deadline"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.resource_id}"


class TimeLimit(models.Model):
    """Time limits of the quality and objection procedures, in working days, set by the
    bureau's administrators (defaults in `limits.py`)."""

    class Key(models.TextChoices):
        ISSUE_RECTIFY = "issue_rectify", _("Quality issue: provider answers and fixes")
        OBJECTION_DECIDE = "objection_decide", _("Objection: bureau accepts or rejects")
        OBJECTION_CONSULT = "objection_consult", _("Objection: consultation held")
        OBJECTION_CARRY_OUT = "objection_carry_out", _("Objection: provider carries out")
        OBJECTION_CLOSE = "objection_close", _("Objection: bureau closes")

    key = models.CharField(_("procedure step"), max_length=32, choices=Key.choices, unique=True)
    working_days = models.PositiveSmallIntegerField(_("working days"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.get_key_display()}: {self.working_days}"
