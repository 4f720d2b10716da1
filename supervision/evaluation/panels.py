"""Art. 29's use of the evaluation: when a reviewer decides an agency's IT project, its page
shows the agency's latest published score and rank (a kernel record panel of kind
"filing.project"; the filing chapter does not import supervision)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.panels import RecordPanel

from .selectors import latest_published_score


def project_panel(project, user):
    if not getattr(user, "is_authenticated", False):
        return None
    own = user.organization_id == project.organization_id
    reviewer = has_role(user, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER, Role.AUDITOR)
    if not (own or reviewer):
        return None
    score = latest_published_score(project.organization_id)
    title = _("Data work evaluation (Art. 29)")
    if score is None:
        return RecordPanel(
            title=title,
            lines=((pgettext("evaluation", "Latest result"), _("No published evaluation yet.")),),
        )
    total = score.run.agencies
    lines = (
        (pgettext("evaluation", "Plan"), score.run.plan.name),
        (pgettext("evaluation", "Measured up to"), f"{score.run.as_of:%Y-%m-%d}"),
        (pgettext("evaluation", "Score"), "—" if score.final is None else f"{score.final:.2f}"),
        (
            pgettext("evaluation", "Rank"),
            "—"
            if score.rank is None
            else _("%(rank)s of %(total)s") % {"rank": score.rank, "total": total},
        ),
    )
    if has_role(user, Role.CITY_REVIEWER, Role.AUDITOR) or own:
        url = reverse("supervision:run_agency", args=[score.run_id, project.organization_id])
        return RecordPanel(title=title, lines=lines, links=((_("The indicators behind it"), url),))
    return RecordPanel(title=title, lines=lines)
