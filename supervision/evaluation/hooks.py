"""What supervision.evaluation registers, called from AppConfig.ready(): menu entries, the
IT-project panel of the filing chapter (Art. 29's use of the results), the demo seeder and
the tasks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def register() -> None:
    from wuhan_pdr.kernel.navigation import NavItem, register_nav
    from wuhan_pdr.kernel.panels import register_record_panel

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from . import tasks as _tasks  # noqa: F401  (celery tasks)
    from .panels import project_panel
    from .permissions import is_agency_member, sees_all

    register_nav(
        NavItem(
            "evaluation",
            pgettext_lazy("evaluation", "Evaluation"),
            "supervision:plans",
            sees_all,
            order=10,
            group="supervision_group",
        )
    )
    register_nav(
        NavItem(
            "evaluation_mine",
            _("Our evaluation results"),
            "supervision:my_results",
            is_agency_member,
            order=11,
            group="supervision_group",
        )
    )
    register_record_panel("filing.project", project_panel)
