from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Leads: capture, research, assignment, scoring and conversion."""

    name = "cartera.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import AssignmentRule, Lead, LeadActivity, LeadForm, ScoringRule

        register(Lead, exclude=["search_text", "name_key", "domain", "version", "score_reasons"])
        register(LeadActivity)
        register(LeadForm)
        register(AssignmentRule, exclude=["last_assigned"])
        register(ScoringRule)
