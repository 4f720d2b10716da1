"""What registration.applications registers with the kernel and other apps, called from
AppConfig.ready(): the menu entries, the work queues, the demo seeder, the periodic task, and
the condition authorized operation asks before approval (Art. 23: resources registered)."""

from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.navigation import NavItem, everyone, register_nav


def register() -> None:
    from authorization.operation.checks import register_approval_check

    from . import demo, queues, tasks  # noqa: F401  (the seeder and the task register)
    from .permissions import uses_registration
    from .services import operation_registration_problems

    register_nav(
        NavItem(
            "registration_register",
            pgettext_lazy("registration", "Public register"),
            "registration:register",
            everyone,
            order=80,
            group="registration_group",
        )
    )
    register_nav(
        NavItem(
            "registration_applications",
            pgettext_lazy("registration", "Registration applications"),
            "registration:applications",
            uses_registration,
            order=81,
            group="registration_group",
        )
    )
    queues.register()
    register_approval_check(operation_registration_problems)
