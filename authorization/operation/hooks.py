"""What authorization.operation registers with the kernel and other apps, called from
AppConfig.ready(): its menu entries (group "operation_group"), work queues, beat task and
demo seeder."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav


def _operator(user) -> bool:
    from .permissions import is_operator

    return is_operator(user)


def _workspace(user) -> bool:
    from wuhan_pdr.accounts.roles import Role, has_role

    from .permissions import is_bureau_reviewer, is_operator

    return bool(
        getattr(user, "is_authenticated", False)
        and (
            is_operator(user)
            or is_bureau_reviewer(user)
            or has_role(user, Role.AUDITOR, Role.AGENCY_ADMIN)
        )
    )


def _city_reviewer(user) -> bool:
    from .permissions import is_city_reviewer

    return is_city_reviewer(user)


def register() -> None:
    from . import demo, queues, tasks  # noqa: F401  (the seeder and the beat task register)

    queues.register()
    G = "operation_group"
    register_nav(
        NavItem(
            "operation_authorizations",
            pgettext_lazy("operation", "Operation authorizations"),
            "operation:list",
            _workspace,
            order=10,
            group=G,
        )
    )
    register_nav(
        NavItem(
            "operation_products",
            _("Products and services"),
            "operation:products",
            _operator,
            order=20,
            group=G,
        )
    )
    register_nav(
        NavItem("operation_usage", _("Data usage"), "operation:usage", _operator, order=30, group=G)
    )
    register_nav(
        NavItem(
            "operation_disclosures",
            _("Yearly disclosure reports"),
            "operation:disclosures",
            _workspace,
            order=40,
            group=G,
        )
    )
    register_nav(
        NavItem(
            "operation_fees", _("Fee caps"), "operation:fees", _city_reviewer, order=50, group=G
        )
    )
    register_nav(
        NavItem(
            "operation_public",
            _("Authorization disclosures"),
            "disclosures:list",
            everyone,
            order=60,
            group=G,
        )
    )
