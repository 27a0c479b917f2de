"""What a product export holds: one column spec for the list page and the API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cartera.core.export import Column, ExportSpec, Row, field

from .models import Unit

PRODUCT_COLUMNS: tuple[Column[Row], ...] = (
    field(_("SKU"), "sku", width=14),
    field(_("Name"), "name", width=32),
    field(_("Family"), "family", width=18),
    field(_("Unit"), "unit", "choice", Unit.choices, width=10),
    field(_("Tax rate (%)"), "tax_rate", "number", width=10),
    field(_("Active"), "is_active", "bool", width=8),
    field(_("Description"), "description", width=40),
    field(_("Created"), "created_at", "datetime", width=18),
    field(_("Updated"), "updated_at", "datetime", width=18),
)

PRODUCT_EXPORT: ExportSpec[Row] = ExportSpec("products", _("Products"), PRODUCT_COLUMNS)
