from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Sales reports: pipeline, conversion, win rate, deal size, cycle, revenue."""

    name = "cartera.reports"
    label = "reports"
    verbose_name = _("Reports")
