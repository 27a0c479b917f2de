from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotesConfig(AppConfig):
    """Quotes (proposals): line items, discounts and approvals, versions, PDF, acceptance."""

    name = "cartera.quotes"
    label = "quotes"
    verbose_name = _("Quotes")
