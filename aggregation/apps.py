from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AggregationConfig(AppConfig):
    name = "aggregation"
    verbose_name = _("Provision and aggregation (Ch. 3, 5)")

    def ready(self) -> None:
        from catalog.filing.services import register_acceptance_check
        from catalog.masking import register_sample_source
        from catalog.standards.impact import register_stored_data_counter

        from . import tasks  # noqa: F401  (durable tasks register themselves)
        from .assessments import register as register_assessment_subject
        from .checks import resource_has_working_channel
        from .impact import counter as stored_data_counter
        from .objections import demo as _objections_demo  # noqa: F401  (registers its seeder)
        from .objections import tasks as _objections_tasks  # noqa: F401
        from .objections.actions import register as register_objection_action
        from .objections.queues import register as register_objections
        from .quality import demo as _quality_demo  # noqa: F401  (registers its seeder)
        from .quality import tasks as _quality_tasks  # noqa: F401
        from .quality.queues import register as register_quality
        from .queues import register
        from .readfunctions import register as register_masking_observer
        from .selectors import stored_samples

        register()
        register_assessment_subject()
        register_objections()
        register_quality()
        register_acceptance_check(resource_has_working_channel)
        register_objection_action()
        register_stored_data_counter(stored_data_counter)
        register_sample_source(stored_samples)
        register_masking_observer()
