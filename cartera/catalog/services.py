"""Every write to the catalogue: products, price lists and their prices.

Administrators and directors manage the catalogue; everyone signed in reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cartera.core.audit import audited
from cartera.core.errors import Forbidden, InvalidInput
from cartera.core.services import apply_changes, claim_version, validate
from cartera.users.models import Role, User

from .models import PriceList, PriceListItem, Product

PRODUCT_FIELDS = frozenset(
    {"sku", "name", "family", "description", "unit", "tax_rate", "is_active"}
)
PRICE_LIST_FIELDS = frozenset({"name", "currency", "segment", "is_active"})


def can_manage_catalog(actor: User) -> bool:
    """Administrators and directors keep the catalogue and the price lists."""
    return bool(
        actor.is_active and (actor.role in {Role.ADMIN, Role.DIRECTOR} or actor.is_superuser)
    )


def ensure_can_manage_catalog(actor: User) -> None:
    """Refuse catalogue changes to everyone but administrators and directors."""
    if not can_manage_catalog(actor):
        raise Forbidden(_("Only administrators and directors can change the catalogue."))


def _normalise_product(values: dict[str, Any]) -> None:
    if isinstance(values.get("sku"), str):
        values["sku"] = values["sku"].strip().upper()


@transaction.atomic
def create_product(*, actor: User, data: Mapping[str, Any]) -> Product:
    """Add a product to the catalogue."""
    ensure_can_manage_catalog(actor)
    values = dict(data)
    _normalise_product(values)
    product = Product()
    apply_changes(product, values, allowed=PRODUCT_FIELDS)
    validate(product)
    with audited(actor):
        product.save()
    return product


@transaction.atomic
def update_product(
    *, actor: User, product: Product, changes: Mapping[str, Any], expected_version: int | None
) -> Product:
    """Change a product if nobody changed it since ``expected_version``."""
    ensure_can_manage_catalog(actor)
    values = dict(changes)
    _normalise_product(values)
    changed = apply_changes(product, values, allowed=PRODUCT_FIELDS)
    validate(product)
    claim_version(product, expected_version)
    with audited(actor):
        if changed:
            product.save(update_fields=[*changed, "version"])
    return product


@transaction.atomic
def create_price_list(*, actor: User, data: Mapping[str, Any]) -> PriceList:
    """Add a price list (one currency, one customer segment or everyone)."""
    ensure_can_manage_catalog(actor)
    values = dict(data)
    if isinstance(values.get("currency"), str):
        values["currency"] = values["currency"].strip().upper()
    price_list = PriceList()
    apply_changes(price_list, values, allowed=PRICE_LIST_FIELDS)
    validate(price_list)
    with audited(actor):
        price_list.save()
    return price_list


@transaction.atomic
def update_price_list(
    *,
    actor: User,
    price_list: PriceList,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> PriceList:
    """Change a price list if nobody changed it since ``expected_version``."""
    ensure_can_manage_catalog(actor)
    values = dict(changes)
    if isinstance(values.get("currency"), str):
        values["currency"] = values["currency"].strip().upper()
    changed = apply_changes(price_list, values, allowed=PRICE_LIST_FIELDS)
    validate(price_list)
    claim_version(price_list, expected_version)
    with audited(actor):
        if changed:
            price_list.save(update_fields=[*changed, "version"])
    return price_list


def _price(value: Any) -> Decimal:
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(field_errors={"unit_price": [_("Enter a number.")]}) from None
    if not price.is_finite() or price < 0:
        raise InvalidInput(field_errors={"unit_price": [_("Enter a price of zero or more.")]})
    return price


@transaction.atomic
def set_price(
    *, actor: User, price_list: PriceList, product: Product, unit_price: Any
) -> PriceListItem:
    """Set ``product``'s unit price on ``price_list`` (adds it or changes it)."""
    ensure_can_manage_catalog(actor)
    price = _price(unit_price)
    item = PriceListItem.objects.filter(price_list=price_list, product=product).first()
    if item is None:
        item = PriceListItem(price_list=price_list, product=product, unit_price=price)
    else:
        item.unit_price = price
    validate(item, exclude=["price_list", "product"])
    with audited(actor):
        item.save()
    return item


@transaction.atomic
def remove_price(*, actor: User, price_list: PriceList, product: Product) -> None:
    """Take ``product`` off ``price_list``."""
    ensure_can_manage_catalog(actor)
    with audited(actor):
        for item in PriceListItem.objects.filter(price_list=price_list, product=product):
            item.delete()
