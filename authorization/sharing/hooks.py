"""What authorization.sharing registers with the kernel and other apps, called from
AppConfig.ready(): menu entries, work queues, the assessment subject "share_grant", the
IT-project acceptance check (Art. 11), the demo seeder and the periodic tasks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from catalog.filing.services import register_acceptance_check
    from wuhan_pdr.kernel.navigation import NavItem, register_nav

    from . import demo as _demo  # noqa: F401  (registers its seeder)
    from . import tasks as _tasks  # noqa: F401  (celery tasks)
    from .assessments import register as register_assessment_subject
    from .checks import resource_has_supply_path
    from .permissions import is_agency_member, is_data_officer, may_review_risk
    from .queues import register as register_queues

    for item in (
        NavItem("share_requests", _("Our share requests"), "sharing:requests", is_agency_member),
        NavItem("share_review", _("Share requests to decide"), "sharing:review", is_data_officer),
        NavItem("grants", _("Our grants"), "sharing:grants", is_agency_member),
        NavItem("data_usage", _("Use of our data"), "sharing:data_usage", is_data_officer),
        NavItem("sharing_risk", _("Sharing risk review"), "sharing:risk", may_review_risk),
    ):
        register_nav(item)
    register_queues()
    register_assessment_subject()
    register_acceptance_check(resource_has_supply_path)
