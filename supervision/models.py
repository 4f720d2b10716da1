"""The models of the supervision app live in its sub-packages; Django finds them here."""

from supervision.disputes.models import Dispute, DisputeMeeting  # noqa: F401
from supervision.evaluation.models import (  # noqa: F401
    AgencyScore,
    EvaluationPlan,
    EvaluationRun,
    IndicatorFigures,
    IndicatorValue,
    PlanIndicator,
    ReportCopy,
    ScoreAdjustment,
)
from supervision.inspections.models import (  # noqa: F401
    Finding,
    FindingEvidence,
    Inspection,
)
from supervision.rectification.models import (  # noqa: F401
    OrderEvidence,
    OrderSuggestion,
    RectificationOrder,
)
