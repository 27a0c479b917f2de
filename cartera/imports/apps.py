from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Import jobs: files of accounts, contacts or interactions upserted in the background."""

    name = "cartera.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        from . import kinds_sales, mapping_sales

        mapping_sales.register()
        kinds_sales.register()
