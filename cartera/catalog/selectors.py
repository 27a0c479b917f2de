"""Reads of the catalogue: products, price lists and the price a product is quoted at."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Prefetch, QuerySet, Value, When

from cartera.core.errors import NotFound
from cartera.core.pagination import Page, keyset_page

from .exports import PRODUCT_EXPORT
from .filters import ProductFilters
from .models import PriceList, PriceListItem, Product


def price_for(*, product: Product | int, currency: str, segment: str = "") -> Decimal | None:
    """The unit price of ``product`` in ``currency`` for a customer of ``segment``.

    An active price list of that currency and segment wins; otherwise the active all-customers
    list of that currency; ``None`` if neither prices the product. One query
    (``price_item_product_idx`` + ``pricelist_pick_idx``). When several active lists of the same
    currency and segment price the product, the one with the lowest id (the oldest) wins, so the
    answer is stable.
    """
    product_id = product.pk if isinstance(product, Product) else product
    segments = [""] if not segment else [segment, ""]
    row = (
        PriceListItem.objects.filter(
            product_id=product_id,
            price_list__currency=(currency or "").upper(),
            price_list__segment__in=segments,
            price_list__is_active=True,
        )
        .annotate(
            rank=Case(
                When(price_list__segment="", then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "price_list_id")
        .values_list("unit_price", flat=True)
        .first()
    )
    return row


def prices_for(*, products: list[int], currency: str, segment: str = "") -> dict[int, Decimal]:
    """``price_for`` for many products at once (one query): product id → unit price."""
    segments = [""] if not segment else [segment, ""]
    rows = (
        PriceListItem.objects.filter(
            product_id__in=products,
            price_list__currency=(currency or "").upper(),
            price_list__segment__in=segments,
            price_list__is_active=True,
        )
        .order_by("product_id", "price_list_id")
        .values_list("product_id", "price_list__segment", "unit_price")
    )
    found: dict[int, tuple[int, Decimal]] = {}
    for product_id, list_segment, unit_price in rows:
        rank = 1 if list_segment == "" else 0
        if product_id not in found or rank < found[product_id][0]:
            found[product_id] = (rank, unit_price)
    return {pk: price for pk, (_rank, price) in found.items()}


def visible_products(user: Any) -> QuerySet[Product]:
    """Products anyone signed in may read (the catalogue is shared)."""
    return Product.objects.all()


def get_product(pk: int | str) -> Product:
    """One product with its prices, or ``NotFound``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    product = (
        Product.objects.prefetch_related(
            Prefetch(
                "prices",
                queryset=PriceListItem.objects.select_related("price_list").order_by(
                    "price_list__currency", "price_list__segment", "price_list__name"
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )
    if product is None:
        raise NotFound()
    return product


def get_price_list(pk: int | str) -> PriceList:
    """One price list with its items and their products, or ``NotFound``."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    price_list = (
        PriceList.objects.prefetch_related(
            Prefetch(
                "items",
                queryset=PriceListItem.objects.select_related("product").order_by(
                    "product__name_key", "product_id"
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )
    if price_list is None:
        raise NotFound()
    return price_list


def price_lists() -> QuerySet[PriceList]:
    """Every price list, by currency, segment and name."""
    return PriceList.objects.order_by("currency", "segment", "name")


def product_list(
    user: Any, filters: ProductFilters, *, cursor: str | None = None, limit: int | None = None
) -> Page[Product]:
    """One keyset page of the catalogue in the filters' order (one query)."""
    return keyset_page(
        filters.apply(visible_products(user)), ordering=filters.ordering, cursor=cursor, limit=limit
    )


def product_export_rows(user: Any, filters: ProductFilters) -> Iterator[dict[str, Any]]:
    """Every product matching ``filters`` as ``values()`` rows for the export."""
    queryset = filters.apply(visible_products(user)).order_by(*filters.ordering)
    return queryset.values(*PRODUCT_EXPORT.fields()).iterator(chunk_size=2000)


def product_families() -> list[str]:
    """The families in use, for the filter bar."""
    return list(
        Product.objects.exclude(family="")
        .order_by("family")
        .values_list("family", flat=True)
        .distinct()
    )
