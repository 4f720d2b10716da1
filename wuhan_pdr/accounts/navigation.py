from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.navigation import (
    NavGroup,
    NavItem,
    everyone,
    register_nav,
    register_nav_group,
    signed_in,
)

from .permissions import can_reset_two_factor, organizations_managed_by


def manages_users(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_manages_users", None)
    if cached is None:
        cached = user._manages_users = organizations_managed_by(user).exists()
    return cached


def is_site_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_staff and user.is_active)


# The menu bar's drop-downs: the platform arranges the chapters' entries here, by key.
MENU_GROUPS = (
    NavGroup(
        "catalog_group",
        _("Catalog"),
        order=10,
        members=(
            "catalog",
            "catalog_mine",
            "filing",
            "catalog_review",
            "catalog_feedback",
            "catalog_releases",
            "standards",
        ),
    ),
    NavGroup(
        "aggregation_group",
        _("Aggregation and quality"),
        order=60,
        members=(
            "aggregation",
            "aggregation_board",
            "downtime",
            "quality",
            "quality_board",
            "objections",
        ),
    ),
    NavGroup(
        "sharing_group",
        _("Sharing and open data"),
        order=70,
        members=(
            "open_data",
            "share_requests",
            "share_review",
            "grants",
            "data_usage",
            "open_applications",
            "sandbox",
            "sharing_risk",
        ),
    ),
    # Entries join these by naming the group (NavItem.group).
    NavGroup("operation_group", _("Authorized operation"), order=75),
    NavGroup("registration_group", pgettext_lazy("menu", "Registration"), order=80),
    NavGroup("supervision_group", pgettext_lazy("menu", "Supervision"), order=82),
    NavGroup(
        "security_group",
        _("Security"),
        order=85,
        members=(
            "security_assessments",
            "security_data_tools",
            "security_incidents",
            "masking_rules",
            "security_backups",
            "manage_two_factor",
            "audit_log",
        ),
    ),
    NavGroup(
        "manage_group",
        _("Management"),
        order=90,
        members=("manage_users", "manage_orgs", "admin"),
    ),
)


def register() -> None:
    for group in MENU_GROUPS:
        register_nav_group(group)
    register_nav(NavItem("home", _("Home"), "kernel:home", everyone, order=0))
    register_nav(NavItem("directory", _("Organizations"), "accounts:directory", everyone, order=80))
    register_nav(
        NavItem("manage_users", _("Users"), "accounts:manage_users", manages_users, order=90)
    )
    register_nav(
        NavItem(
            "manage_orgs",
            _("Organization management"),
            "accounts:manage_organizations",
            manages_users,
            order=91,
        )
    )
    register_nav(
        NavItem(
            "manage_two_factor",
            _("Two-factor login of users"),
            "accounts:manage_two_factor",
            can_reset_two_factor,
            order=92,
        )
    )
    register_nav(NavItem("api_docs", _("API"), "api-docs", signed_in, order=95))
    register_nav(NavItem("admin", _("Administration"), "admin:index", is_site_admin, order=99))
