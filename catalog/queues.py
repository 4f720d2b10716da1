"""The catalog's entries in the navigation and in each role's work queue."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav, signed_in
from wuhan_pdr.kernel.showcase import HomeSection, register_home_section
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from .models import CatalogFeedback, ResourceVersion
from .permissions import FILER_ROLES, reviewable_providers_q

S = ResourceVersion.State
QUEUE_LENGTH = 10
HOME_NEWEST = 5
HOME_CLASSIFICATIONS = 8


def _items(qs) -> list[WorkItem]:
    now = timezone.now()
    return [
        WorkItem(
            title=f"{v.resource.code} {v.name}",
            url=reverse("catalog:version", kwargs={"pk": v.pk}),
            state=v.get_state_display(),
            deadline=v.step_deadline,
            overdue=bool(v.step_deadline and v.step_deadline < now),
        )
        for v in qs.select_related("resource").order_by("step_deadline", "-updated_at")[
            :QUEUE_LENGTH
        ]
    ]


def _to_fix(user):
    return _items(
        ResourceVersion.objects.filter(
            resource__provider_id=user.organization_id, state__in=[S.DRAFT, S.RETURNED]
        )
    )


def _to_approve(user):
    return _items(
        ResourceVersion.objects.filter(
            resource__provider_id=user.organization_id, state=S.SUBMITTED
        )
    )


def _to_review(user):
    return _items(
        ResourceVersion.objects.filter(
            reviewable_providers_q(user), state__in=[S.AGENCY_APPROVED, S.REVIEWED]
        )
    )


def _feedback_items(qs) -> list[WorkItem]:
    now = timezone.now()
    return [
        WorkItem(
            title=f"#{f.pk} {f.get_kind_display()} {f.resource.code if f.resource_id else ''}".strip(),
            url=reverse("catalog:feedback", kwargs={"pk": f.pk}),
            state=f.get_state_display(),
            deadline=f.step_deadline,
            overdue=bool(f.step_deadline and f.step_deadline < now),
        )
        for f in qs.select_related("resource").order_by("step_deadline", "pk")[:QUEUE_LENGTH]
    ]


def _feedback_to_answer(user):
    """Reports waiting for the provider's proposal (new, or sent back by the bureau)."""
    return _feedback_items(
        CatalogFeedback.objects.filter(
            provider_id=user.organization_id,
            state__in=[CatalogFeedback.State.OPEN, CatalogFeedback.State.RETURNED],
        )
    )


def _feedback_to_adjust(user):
    """Adjustments the bureau agreed to, waiting for the provider to make them."""
    return _feedback_items(
        CatalogFeedback.objects.filter(
            provider_id=user.organization_id, state=CatalogFeedback.State.AGREED
        )
    )


def _feedback_to_decide(user):
    """Proposals waiting for the responsible bureau's agreement."""
    return _feedback_items(
        CatalogFeedback.objects.filter(
            reviewable_providers_q(user, prefix="provider"),
            state__in=CatalogFeedback.PROPOSAL_STATES,
        )
    )


def _files(user) -> bool:
    return has_role(user, *FILER_ROLES)


def _reviews(user) -> bool:
    return has_role(user, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER)


def _home_catalog(request) -> dict:
    """The public home page's way into the catalog: its search, the classifications that
    hold the most entries the visitor may see, and the newest of them."""
    from .selectors import CatalogQuery, catalog_search

    result = catalog_search(CatalogQuery(), viewer=request.user)
    return {
        "total": result.total,
        "classifications": result.facets.get("classification", [])[:HOME_CLASSIFICATIONS],
        "newest": list(result.entries.select_related("classification")[:HOME_NEWEST]),
    }


def register() -> None:
    register_home_section(
        HomeSection("catalog", "catalog/_home_catalog.html", _home_catalog, order=10)
    )
    register_nav(NavItem("catalog", _("Catalog"), "catalog:list", everyone, order=10))
    register_nav(NavItem("catalog_mine", _("My resources"), "catalog:mine", _files, order=20))
    register_nav(
        NavItem("catalog_review", _("Catalog review"), "catalog:review", _reviews, order=30)
    )
    register_nav(
        NavItem("catalog_feedback", _("Feedback"), "catalog:feedback_list", signed_in, order=40)
    )
    register_nav(
        NavItem("catalog_releases", _("District releases"), "catalog:releases", everyone, order=45)
    )
    register_queue(
        QueueSource(
            "feedback_to_answer",
            _("Catalog feedback waiting for your proposal"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _feedback_to_answer,
            order=13,
        )
    )
    register_queue(
        QueueSource(
            "feedback_to_adjust",
            _("Agreed catalog adjustments to make"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _feedback_to_adjust,
            order=13,
        )
    )
    register_queue(
        QueueSource(
            "feedback_to_decide",
            _("Catalog feedback proposals to agree on"),
            frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            _feedback_to_decide,
            order=14,
        )
    )
    register_queue(
        QueueSource(
            "catalog_to_fix",
            _("Catalog drafts and returned entries"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _to_fix,
            order=10,
        )
    )
    register_queue(
        QueueSource(
            "catalog_to_approve",
            _("Catalog entries to approve"),
            frozenset({Role.AGENCY_ADMIN}),
            _to_approve,
            order=11,
        )
    )
    register_queue(
        QueueSource(
            "catalog_to_review",
            _("Catalog entries to review and publish"),
            frozenset({Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER}),
            _to_review,
            order=12,
        )
    )
