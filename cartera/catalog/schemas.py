"""API shapes of products, price lists and prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from cartera.core.api import Id, InputSchema

from .models import Segment, Unit

Money = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
Rate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class ProductRef(Schema):
    """A product as other objects point to it."""

    pk: int
    sku: str
    name: str


class ProductOut(Schema):
    """A product of the catalogue."""

    pk: int
    sku: str
    name: str
    family: str
    description: str
    unit: Unit
    tax_rate: str = Field(description="Percent, decimal string")
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tax_rate(obj: object) -> str:
        """Exact decimal as text."""
        return str(obj.tax_rate)  # type: ignore[attr-defined]


class ProductPriceOut(Schema):
    """A product's price on one list."""

    price_list: int = Field(description="Price list id")
    price_list_name: str
    currency: str
    segment: str
    unit_price: str

    @staticmethod
    def resolve_price_list(obj: object) -> int:
        return obj.price_list_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_price_list_name(obj: object) -> str:
        return obj.price_list.name  # type: ignore[attr-defined]

    @staticmethod
    def resolve_currency(obj: object) -> str:
        return obj.price_list.currency  # type: ignore[attr-defined]

    @staticmethod
    def resolve_segment(obj: object) -> str:
        return obj.price_list.segment  # type: ignore[attr-defined]

    @staticmethod
    def resolve_unit_price(obj: object) -> str:
        return str(obj.unit_price)  # type: ignore[attr-defined]


class ProductDetailOut(ProductOut):
    """A product with its prices on every list."""

    prices: list[ProductPriceOut]

    @staticmethod
    def resolve_prices(obj: object) -> list[object]:
        return list(obj.prices.all())  # type: ignore[attr-defined]


class ProductIn(InputSchema):
    """A new product."""

    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    family: Annotated[str, StringConstraints(max_length=100)] = ""
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    unit: Unit = Unit.UNIT
    tax_rate: Rate = Decimal("0")
    is_active: bool = True


class ProductPatch(InputSchema):
    """Product fields to change."""

    sku: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    family: Annotated[str, StringConstraints(max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    unit: Unit | None = None
    tax_rate: Rate | None = None
    is_active: bool | None = None


class PriceListOut(Schema):
    """A price list."""

    pk: int
    name: str
    currency: str
    segment: Segment
    is_active: bool
    version: int


class PriceItemOut(Schema):
    """One price on a list."""

    product: ProductRef
    unit_price: str

    @staticmethod
    def resolve_unit_price(obj: object) -> str:
        return str(obj.unit_price)  # type: ignore[attr-defined]


class PriceListDetailOut(PriceListOut):
    """A price list with its prices."""

    items: list[PriceItemOut]

    @staticmethod
    def resolve_items(obj: object) -> list[object]:
        return list(obj.items.all())  # type: ignore[attr-defined]


class PriceListIn(InputSchema):
    """A new price list."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    segment: Segment = Segment.ALL
    is_active: bool = True


class PriceListPatch(InputSchema):
    """Price list fields to change."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None
    segment: Segment | None = None
    is_active: bool | None = None


class PriceIn(InputSchema):
    """A product's unit price on a list."""

    unit_price: Money


class PriceQuery(Schema):
    """Which price to look up."""

    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    segment: Segment = Segment.ALL


class PriceOut(Schema):
    """The price a product is quoted at (null when no list prices it)."""

    product: Id
    currency: str
    segment: str
    unit_price: str | None
