"""The product list's filters, defined once for the list page, the export and the API."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet
from pydantic import BaseModel, ConfigDict, Field

from cartera.core.text import normalize

from .models import Product, Unit

ProductSort = Literal["name", "-name", "sku", "-sku"]

PRODUCT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "name": ("name_key", "pk"),
    "-name": ("-name_key", "-pk"),
    "sku": ("sku", "pk"),
    "-sku": ("-sku", "-pk"),
}


class ProductFilters(BaseModel):
    """What the user filtered the product list by."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=200, description="Search name, SKU and description")
    family: list[str] = Field(default_factory=list)
    unit: list[Unit] = Field(default_factory=list)
    is_active: bool | None = None
    sort: ProductSort = "name"

    def apply(self, queryset: QuerySet[Product]) -> QuerySet[Product]:
        """Narrow ``queryset`` to these filters."""
        conditions = Q()
        if self.family:
            conditions &= Q(family__in=self.family)
        if self.unit:
            conditions &= Q(unit__in=self.unit)
        if self.is_active is not None:
            conditions &= Q(is_active=self.is_active)
        if self.q and self.q.strip():
            for word in self.q.split():
                conditions &= (
                    Q(name_key__contains=normalize(word))
                    | Q(sku__icontains=word)
                    | Q(description__icontains=word)
                )
        return queryset.filter(conditions)

    @property
    def ordering(self) -> tuple[str, ...]:
        """Keyset ordering for the chosen sort."""
        return PRODUCT_ORDERINGS[self.sort]
