from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """Leads: capture, research, assignment, scoring and conversion."""

    name = "cartera.leads"
    label = "leads"
    verbose_name = _("Leads")
