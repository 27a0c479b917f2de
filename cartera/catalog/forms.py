"""Forms of the catalogue pages: they parse and render input; the services decide and save."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms.models import fields_for_model

from cartera.accounts.forms import style_widgets
from cartera.core.errors import DomainError
from cartera.core.views import add_domain_error

from .models import PriceList, Product

PRODUCT_FIELDS = ["sku", "name", "family", "unit", "tax_rate", "is_active", "description"]
PRICE_LIST_FIELDS = ["name", "currency", "segment", "is_active"]


class _ModelFieldsForm(forms.Form):
    model: type[Any]
    names: list[str]

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in fields_for_model(self.model, fields=self.names).items():
            self.fields[name] = cast(forms.Field, field)
        self.order_fields(self.names)
        style_widgets(self)

    def data_for_service(self) -> dict[str, Any]:
        """The cleaned values the service takes."""
        return {name: self.cleaned_data[name] for name in self.names}

    def add_domain_error(self, error: DomainError) -> None:
        """Show a service's refusal on the form."""
        add_domain_error(self, error)


class ProductForm(_ModelFieldsForm):
    """Create or edit a product."""

    model = Product
    names = PRODUCT_FIELDS


class PriceListForm(_ModelFieldsForm):
    """Create or edit a price list."""

    model = PriceList
    names = PRICE_LIST_FIELDS
