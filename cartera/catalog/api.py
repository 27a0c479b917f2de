"""REST operations of the catalog app: products, price lists, prices."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Query, Router, Status

from cartera.core.api import (
    READ_ERRORS,
    VERSIONED_WRITE_ERRORS,
    WRITE_ERRORS,
    PageOut,
    PageQuery,
    expected_version,
    not_modified,
    page_out,
    request_actor,
    with_etag,
)
from cartera.core.export import EXPORT_ERRORS, EXPORT_OPENAPI, ExportQuery, export_response

from . import selectors, services
from .exports import PRODUCT_EXPORT
from .filters import ProductFilters
from .schemas import (
    PriceIn,
    PriceItemOut,
    PriceListDetailOut,
    PriceListIn,
    PriceListOut,
    PriceListPatch,
    PriceOut,
    PriceQuery,
    ProductDetailOut,
    ProductIn,
    ProductOut,
    ProductPatch,
)

router = Router(tags=["catalog"])


@router.get("/products", response={200: PageOut[ProductOut], **READ_ERRORS})
def list_products(
    request: HttpRequest, filters: Query[ProductFilters], page: Query[PageQuery]
) -> Any:
    """The catalogue, filtered and sorted as on the product list."""
    return page_out(
        selectors.product_list(
            request_actor(request), filters, cursor=page.cursor, limit=page.limit
        )
    )


@router.get("/products/export", response=EXPORT_ERRORS, openapi_extra=EXPORT_OPENAPI)
def export_products(
    request: HttpRequest, filters: Query[ProductFilters], options: Query[ExportQuery]
) -> HttpResponseBase:
    """Every product matching the list's filters, as CSV (streamed) or XLSX."""
    rows = selectors.product_export_rows(request_actor(request), filters)
    return export_response(PRODUCT_EXPORT, rows, options.format)


@router.post("/products", response={201: ProductDetailOut, **WRITE_ERRORS})
def create_product(request: HttpRequest, response: HttpResponse, payload: ProductIn) -> Any:
    """Add a product (administrators and directors)."""
    product = services.create_product(
        actor=request_actor(request), data=payload.model_dump(exclude_unset=True)
    )
    product = selectors.get_product(product.pk)
    with_etag(response, product)
    response["Location"] = f"{request.path.rstrip('/')}/{product.pk}"
    return Status(201, product)


@router.get("/products/{pk}", response={200: ProductDetailOut, 304: None, **READ_ERRORS})
def get_product(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One product with its prices on every list."""
    product = selectors.get_product(pk)
    if cached := not_modified(request, product):
        return cached
    with_etag(response, product)
    return product


@router.patch("/products/{pk}", response={200: ProductDetailOut, **VERSIONED_WRITE_ERRORS})
def update_product(
    request: HttpRequest, response: HttpResponse, pk: int, payload: ProductPatch
) -> Any:
    """Change the fields sent; needs ``If-Match`` (412 if someone changed it first)."""
    actor = request_actor(request)
    product = selectors.get_product(pk)
    services.ensure_can_manage_catalog(actor)
    version = expected_version(request, product)
    services.update_product(
        actor=actor,
        product=product,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    product = selectors.get_product(pk)
    with_etag(response, product)
    return product


@router.get("/products/{pk}/price", response={200: PriceOut, **READ_ERRORS})
def get_product_price(request: HttpRequest, pk: int, query: Query[PriceQuery]) -> Any:
    """The unit price the product is quoted at for a currency and customer segment."""
    product = selectors.get_product(pk)
    price = selectors.price_for(product=product, currency=query.currency, segment=query.segment)
    return {
        "product": product.pk,
        "currency": query.currency.upper(),
        "segment": query.segment,
        "unit_price": None if price is None else str(price),
    }


@router.get("/price-lists", response={200: list[PriceListOut], **READ_ERRORS})
def list_price_lists(request: HttpRequest) -> Any:
    """Every price list."""
    return list(selectors.price_lists())


@router.post("/price-lists", response={201: PriceListDetailOut, **WRITE_ERRORS})
def create_price_list(request: HttpRequest, response: HttpResponse, payload: PriceListIn) -> Any:
    """Add a price list (administrators and directors)."""
    price_list = services.create_price_list(
        actor=request_actor(request), data=payload.model_dump(exclude_unset=True)
    )
    price_list = selectors.get_price_list(price_list.pk)
    with_etag(response, price_list)
    response["Location"] = f"{request.path.rstrip('/')}/{price_list.pk}"
    return Status(201, price_list)


@router.get("/price-lists/{pk}", response={200: PriceListDetailOut, 304: None, **READ_ERRORS})
def get_price_list(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One price list with its prices."""
    price_list = selectors.get_price_list(pk)
    if cached := not_modified(request, price_list):
        return cached
    with_etag(response, price_list)
    return price_list


@router.patch("/price-lists/{pk}", response={200: PriceListDetailOut, **VERSIONED_WRITE_ERRORS})
def update_price_list(
    request: HttpRequest, response: HttpResponse, pk: int, payload: PriceListPatch
) -> Any:
    """Change the fields sent; needs ``If-Match``."""
    actor = request_actor(request)
    price_list = selectors.get_price_list(pk)
    services.ensure_can_manage_catalog(actor)
    version = expected_version(request, price_list)
    services.update_price_list(
        actor=actor,
        price_list=price_list,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    price_list = selectors.get_price_list(pk)
    with_etag(response, price_list)
    return price_list


@router.put("/price-lists/{pk}/prices/{product_pk}", response={200: PriceItemOut, **WRITE_ERRORS})
def set_price(request: HttpRequest, pk: int, product_pk: int, payload: PriceIn) -> Any:
    """Set a product's unit price on the list."""
    actor = request_actor(request)
    item = services.set_price(
        actor=actor,
        price_list=selectors.get_price_list(pk),
        product=selectors.get_product(product_pk),
        unit_price=payload.unit_price,
    )
    return item


@router.delete("/price-lists/{pk}/prices/{product_pk}", response={204: None, **WRITE_ERRORS})
def remove_price(request: HttpRequest, pk: int, product_pk: int) -> Any:
    """Take a product off the list."""
    services.remove_price(
        actor=request_actor(request),
        price_list=selectors.get_price_list(pk),
        product=selectors.get_product(product_pk),
    )
    return Status(204, None)
