from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """The product catalogue and its price lists per currency and customer segment."""

    name = "cartera.catalog"
    label = "catalog"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        from cartera.core.audit import register

        from .models import PriceList, PriceListItem, Product

        register(Product, exclude=["name_key", "version"])
        register(PriceList, exclude=["version"])
        register(PriceListItem)
