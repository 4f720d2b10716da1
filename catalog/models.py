"""The public data resource catalog (Ch. 4, Art. 12-14).

A `Resource` is a catalog entry's lasting identity: its code and provider. Its content lives
in `ResourceVersion`s: the first is filed as a draft; a published resource is revised by
filing a new version, which goes through review while the published one stays visible.
`CatalogEntry` is the public read model: one row per published resource, denormalised and
indexed for search and facets, rewritten in the same transaction as each publication.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from security.models import Grade
from wuhan_pdr.accounts.models import Organization

from .datatypes import DataType


class Classification(models.Model):
    """A node of one of the three classification trees (基础 / 主题 / 部门)."""

    class Tree(models.TextChoices):
        BASE = "base", _("Base")
        THEME = "theme", _("Theme")
        DEPARTMENT = "department", _("Department")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    tree = models.CharField(_("tree"), max_length=16, choices=Tree.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ShareType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("Shared unconditionally")
    CONDITIONAL = "conditional", _("Shared under conditions")
    NONE = "none", _("Not shared")


class OpenType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("Open unconditionally")
    CONDITIONAL = "conditional", _("Open under conditions")
    NONE = "none", _("Not open")


class UpdateCycle(models.TextChoices):
    REALTIME = "realtime", _("Real time")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")
    IRREGULAR = "irregular", _("Irregular")


class UpdateMode(models.TextChoices):
    INCREMENTAL = "incremental", _("Incremental")
    FULL = "full", _("Full")


class ResourceFormat(models.TextChoices):
    FILE = "file", _("Electronic file")
    SPREADSHEET = "spreadsheet", _("Spreadsheet")
    DATABASE = "database", _("Database table")
    IMAGE = "image", _("Image")
    STREAM = "stream", _("Stream")
    SELF_DESCRIBING = "self_describing", _("Self-describing format")
    API = "api", _("Service API")


class ShareMethod(models.TextChoices):
    PLATFORM = "platform", _("Through the sharing platform")
    API = "api", _("Interface (API)")
    FILE = "file", _("File download")
    MEDIA = "media", _("Storage media")


class Resource(models.Model):
    code = models.CharField(_("resource code"), max_length=40, unique=True)
    provider = models.ForeignKey(
        Organization, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="resources"
    )
    classification = models.ForeignKey(
        Classification, verbose_name=_("classification"), on_delete=models.PROTECT, related_name="+"
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    published_version = models.OneToOneField(
        "ResourceVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("catalog resource")
        verbose_name_plural = _("catalog resources")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["classification", "sequence"], name="resource_seq_unique"
            )
        ]

    def __str__(self) -> str:
        return self.code


class ResourceVersion(models.Model):
    """The content of a catalog entry as filed, reviewed and published."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        AGENCY_APPROVED = "agency_approved", _("Approved by the agency")
        REVIEWED = "reviewed", _("Reviewed")
        PUBLISHED = "published", _("Published")
        RETURNED = "returned", _("Returned for changes")
        SUPERSEDED = "superseded", _("Superseded")
        RETIRED = "retired", _("Retired")

    EDITABLE_STATES = (State.DRAFT, State.RETURNED)
    # The catalog content of a version: what filing sets, revising copies and the diff shows.
    CONTENT_FIELDS = (
        "name",
        "summary",
        "source_system",
        "format",
        "grade",
        "share_type",
        "share_conditions",
        "share_method",
        "share_legal_basis",
        "open_type",
        "open_conditions",
        "open_legal_basis",
        "operation_eligible",
        "update_cycle",
        "update_mode",
    )

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    step_deadline = models.DateTimeField(_("deadline of the current step"), null=True, blank=True)

    name = models.CharField(_("resource name"), max_length=200)
    summary = models.TextField(_("summary"), max_length=2000, blank=True)
    source_system = models.CharField(_("source information system"), max_length=200, blank=True)
    themes = models.ManyToManyField(
        Classification, verbose_name=_("themes"), blank=True, related_name="+"
    )
    format = models.CharField(
        _("format"), max_length=20, choices=ResourceFormat.choices, default=ResourceFormat.DATABASE
    )
    grade = models.ForeignKey(
        Grade, verbose_name=_("security grade"), on_delete=models.PROTECT, related_name="+"
    )
    share_type = models.CharField(
        _("share type"), max_length=16, choices=ShareType.choices, default=ShareType.CONDITIONAL
    )
    share_conditions = models.TextField(_("share conditions"), blank=True)
    share_method = models.CharField(
        _("share method"), max_length=16, choices=ShareMethod.choices, default=ShareMethod.PLATFORM
    )
    share_legal_basis = models.TextField(_("legal basis for not sharing"), blank=True)
    open_type = models.CharField(
        _("open type"), max_length=16, choices=OpenType.choices, default=OpenType.NONE
    )
    open_conditions = models.TextField(_("open conditions"), blank=True)
    open_legal_basis = models.TextField(_("legal basis for not opening"), blank=True)
    operation_eligible = models.BooleanField(_("eligible for authorized operation"), default=False)
    update_cycle = models.CharField(
        _("update cycle"), max_length=16, choices=UpdateCycle.choices, default=UpdateCycle.MONTHLY
    )
    update_mode = models.CharField(
        _("update mode"), max_length=16, choices=UpdateMode.choices, default=UpdateMode.FULL
    )
    related_resources = models.ManyToManyField(
        Resource, verbose_name=_("related resources"), blank=True, related_name="+"
    )
    change_note = models.CharField(_("what changed"), max_length=200, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[themes, related_resources])

    class Meta:
        verbose_name = _("resource version")
        verbose_name_plural = _("resource versions")
        ordering = ["resource", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "number"], name="version_number_unique"),
            # At most one version of a resource is in the works at a time.
            models.UniqueConstraint(
                fields=["resource"],
                condition=models.Q(
                    state__in=["draft", "submitted", "agency_approved", "reviewed", "returned"]
                ),
                name="one_open_version_per_resource",
            ),
        ]
        indexes = [models.Index(fields=["state", "step_deadline"])]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE_STATES


class DataItem(models.Model):
    """A column of a resource (信息项)."""

    DataType = DataType
    CONTENT_FIELDS = (
        "name",
        "english_name",
        "data_type",
        "length",
        "is_key",
        "is_update_flag",
        "nullable",
        "grade",
        "masking_rule",
        "description",
        "element",
    )

    version = models.ForeignKey(ResourceVersion, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("item name"), max_length=100)
    english_name = models.CharField(_("column name"), max_length=64, blank=True)
    data_type = models.CharField(_("data type"), max_length=1, choices=DataType.choices)
    length = models.PositiveIntegerField(_("length"), null=True, blank=True)
    is_key = models.BooleanField(_("key"), default=False)
    is_update_flag = models.BooleanField(_("update flag"), default=False)
    nullable = models.BooleanField(_("may be empty"), default=True)
    grade = models.ForeignKey(
        Grade,
        verbose_name=_("item grade"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    masking_rule = models.ForeignKey(
        "security.MaskingRule",
        verbose_name=_("masking rule"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the data element's rule, if any."),
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    element = models.ForeignKey(
        "catalog.DataElement",
        verbose_name=_("data element"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        help_text=_("The version of the standard data element this item follows."),
    )

    class Meta:
        verbose_name = _("data item")
        verbose_name_plural = _("data items")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="item_position_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CatalogEntry(models.Model):
    """The public catalog's read model: one row per published resource."""

    resource = models.OneToOneField(
        Resource, on_delete=models.CASCADE, primary_key=True, related_name="entry"
    )
    version = models.OneToOneField(ResourceVersion, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    provider_name = models.CharField(max_length=100)
    division_code = models.CharField(max_length=6)
    classification = models.ForeignKey(Classification, on_delete=models.PROTECT, related_name="+")
    share_type = models.CharField(max_length=16, choices=ShareType.choices)
    open_type = models.CharField(max_length=16, choices=OpenType.choices)
    grade = models.ForeignKey(Grade, on_delete=models.PROTECT, related_name="+")
    update_cycle = models.CharField(max_length=16, choices=UpdateCycle.choices)
    published_at = models.DateTimeField()
    search = SearchVectorField()

    class Meta:
        verbose_name = _("catalog entry")
        verbose_name_plural = _("catalog entries")
        indexes = [
            # One GIN index over the search vector and the facet columns (btree_gin), so a
            # search with facets narrows rows inside the index before touching the table.
            GinIndex(
                fields=[
                    "search",
                    "provider",
                    "division_code",
                    "classification",
                    "share_type",
                    "open_type",
                    "grade",
                    "update_cycle",
                ],
                name="catalog_entry_search_gin",
            ),
            models.Index(fields=["-published_at"]),
            models.Index(fields=["provider"]),
            models.Index(fields=["division_code"]),
            models.Index(fields=["classification"]),
        ]

    def __str__(self) -> str:
        return self.name


class CatalogFeedback(models.Model):
    """A data requester's report that the catalog misses, outdates or gets wrong something
    (Art. 14). The catalog is adjusted after the bureau and the provider agree: the provider
    proposes how it will adjust the entry, or that no adjustment is needed; the responsible
    bureau (district or city, as for filing review) agrees or sends the proposal back with a
    comment; only an agreed adjustment is then made, linking the new version. The bureau may
    also reject the report with reasons."""

    class Kind(models.TextChoices):
        OMISSION = "omission", _("Omission: a resource is missing")
        OUTDATED = "outdated", _("Outdated entry")
        ERROR = "error", _("Error in the entry")
        DATA_QUALITY = "data_quality", _("Data quality problem")
        MISMATCH = "mismatch", _("Mounted data does not match the entry")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the provider's proposal")
        ADJUSTMENT_PROPOSED = (
            "adjustment_proposed",
            _("Adjustment proposed: waiting for the bureau"),
        )
        NO_CHANGE_PROPOSED = (
            "no_change_proposed",
            _("No adjustment proposed: waiting for the bureau"),
        )
        RETURNED = "returned", _("Proposal sent back to the provider")
        AGREED = "agreed", _("Adjustment agreed: waiting for the provider")
        ADJUSTED = "adjusted", _("Adjusted")
        NO_CHANGE = "no_change", _("Closed: no adjustment needed")
        REJECTED = "rejected", _("Rejected by the bureau")
        # Before the bureau's agreement was required (migration 0009 moved these rows to
        # RETURNED); kept so that the recorded moves of that time still read well.
        ANSWERED = "answered", _("Answered by the provider")

    CLOSED_STATES = (State.ADJUSTED, State.NO_CHANGE, State.REJECTED)
    PROPOSAL_STATES = (State.ADJUSTMENT_PROPOSED, State.NO_CHANGE_PROPOSED)
    # Whose move it is: the provider's (propose, adjust) or the bureau's (agree, send back).
    PROVIDER_STATES = (State.OPEN, State.RETURNED, State.AGREED)

    provider = models.ForeignKey(
        Organization, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="+"
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=_("resource"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.TextField(_("description"), max_length=4000)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=24, choices=State.choices, default=State.OPEN)
    answer = models.TextField(_("provider's proposal"), blank=True, max_length=4000)
    bureau_comment = models.TextField(_("bureau's comment"), blank=True, max_length=4000)
    rejection_reason = models.TextField(_("reasons for rejection"), blank=True, max_length=4000)
    adjusted_version = models.ForeignKey(
        ResourceVersion,
        verbose_name=_("adjusted in version"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    step_deadline = models.DateTimeField(_("deadline of the current step"), null=True, blank=True)
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("catalog feedback")
        verbose_name_plural = _("catalog feedback")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_closed(self) -> bool:
        return self.state in self.CLOSED_STATES

    @property
    def proposes_adjustment(self) -> bool | None:
        """What the provider's current (or agreed) proposal is: adjust (True), leave the
        entry as it is (False), or nothing proposed yet (None)."""
        if self.state in (self.State.ADJUSTMENT_PROPOSED, self.State.AGREED, self.State.ADJUSTED):
            return True
        if self.state in (self.State.NO_CHANGE_PROPOSED, self.State.NO_CHANGE):
            return False
        return None


class DistrictRelease(models.Model):
    """A district bureau's dated release of its district's reviewed catalog (Art. 13): the
    reviewed entries it publishes and a snapshot of every published entry of the district."""

    division = models.ForeignKey(
        "accounts.Division", verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField(_("release number"))
    released_at = models.DateTimeField(_("released"), auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    published_now = models.PositiveIntegerField(_("entries published with this release"), default=0)
    versions = models.ManyToManyField(ResourceVersion, verbose_name=_("entries"), related_name="+")

    class Meta:
        verbose_name = _("district catalog release")
        verbose_name_plural = _("district catalog releases")
        ordering = ["-released_at"]
        constraints = [
            models.UniqueConstraint(fields=["division", "number"], name="release_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.division.name} #{self.number}"


# The standards part of the catalog (data elements, code lists, change requests).
# Agency filing at scale: the census, and Excel bulk filings.
from .bulk.models import BulkFiling  # noqa: E402
from .filing.models import (  # noqa: E402
    CensusConfirmation,
    CollectionListEntry,
    CompilationCampaign,
    InformationSystem,
    ITProject,
    ProjectDataEntry,
)
from .standards.models import (  # noqa: E402
    CodeList,
    CodeValue,
    DataElement,
    ElementChangeRequest,
    ElementImpactCount,
)

__all__ = [
    "BulkFiling",
    "InformationSystem",
    "CensusConfirmation",
    "CollectionListEntry",
    "CompilationCampaign",
    "ITProject",
    "ProjectDataEntry",
    "CatalogEntry",
    "CatalogFeedback",
    "Classification",
    "CodeList",
    "CodeValue",
    "DataElement",
    "DataItem",
    "DistrictRelease",
    "ElementChangeRequest",
    "ElementImpactCount",
    "OpenType",
    "Resource",
    "ResourceFormat",
    "ResourceVersion",
    "ShareMethod",
    "ShareType",
    "UpdateCycle",
    "UpdateMode",
]
