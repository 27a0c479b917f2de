from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    """Pipelines, stages and opportunities: where account teams win business."""

    name = "cartera.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import (
            LossReason,
            Opportunity,
            OpportunityContact,
            OpportunityLine,
            Pipeline,
            Stage,
        )

        register(Pipeline)
        register(Stage)
        register(LossReason)
        register(
            Opportunity,
            exclude=["name_key", "search_text", "version", "stage_entered_at", "status"],
        )
        register(OpportunityContact)
        register(OpportunityLine)
