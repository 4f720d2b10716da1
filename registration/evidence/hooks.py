"""What registration.evidence registers with the kernel and other apps, called from
AppConfig.ready()."""

from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav


def _sees_deposits(user) -> bool:
    from catalog.permissions import FILER_ROLES
    from wuhan_pdr.accounts.roles import Role, has_role

    return bool(
        getattr(user, "is_authenticated", False)
        and has_role(user, *FILER_ROLES, Role.OPERATOR, Role.REGISTRAR, Role.AUDITOR)
    )


def register() -> None:
    from . import demo, tasks  # noqa: F401  (the seeder and the durable task register)

    register_nav(
        NavItem(
            "evidence_deposits",
            pgettext_lazy("menu", "Evidence deposits"),
            "evidence:list",
            _sees_deposits,
            order=81,
            group="registration_group",
        )
    )
    register_nav(
        NavItem(
            "evidence_verify",
            pgettext_lazy("menu", "Verify evidence"),
            "evidence:verify",
            everyone,
            order=82,
            group="registration_group",
        )
    )
