from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuotesConfig(AppConfig):
    """Quotes (proposals): line items, discounts and approvals, versions, PDF, acceptance."""

    name = "cartera.quotes"
    label = "quotes"
    verbose_name = _("Quotes")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import Quote, QuoteApproval, QuoteLine, QuoteResponse, QuoteSettings

        register(Quote, exclude=["version", "token_hash"])
        register(QuoteLine)
        register(QuoteApproval)
        register(QuoteResponse)
        register(QuoteSettings)
