"""What the company sells: products and the prices they are quoted at."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cartera.core.models import VersionedModel
from cartera.core.money import DECIMAL_PLACES, MAX_DIGITS, validate_currency
from cartera.core.text import normalize


class Unit(models.TextChoices):
    """How a product is counted on a quote line."""

    UNIT = "unit", _("unit")
    HOUR = "hour", _("hour")
    DAY = "day", _("day")
    MONTH = "month", _("month")
    YEAR = "year", _("year")
    LICENCE = "licence", _("licence")
    PACKAGE = "package", _("package")


class Segment(models.TextChoices):
    """The customer segment a price list applies to (the account's tier); blank: everyone."""

    ALL = "", _("All customers")
    A = "a", _("Tier A")
    B = "b", _("Tier B")
    C = "c", _("Tier C")


class Product(VersionedModel):
    """A product or service in the catalogue."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    family = models.CharField(_("family"), max_length=100, blank=True, default="")
    description = models.TextField(_("description"), blank=True, default="", max_length=5000)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.UNIT)
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    name_key = models.CharField(max_length=200, editable=False, default="")

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["name_key", "id"], name="product_name_idx"),
            models.Index(
                fields=["family", "name_key"],
                name="product_family_idx",
                condition=Q(is_active=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = normalize(self.name)[:200]
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "name_key", "updated_at"}
        super().save(*args, **kwargs)


class PriceList(VersionedModel):
    """Prices in one currency for one customer segment."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[validate_currency]
    )
    segment = models.CharField(
        _("customer segment"), max_length=1, choices=Segment.choices, blank=True, default=""
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["currency", "segment", "name"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        indexes = [
            models.Index(
                fields=["currency", "segment"],
                name="pricelist_pick_idx",
                condition=Q(is_active=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceListItem(models.Model):
    """A product's unit price on one price list."""

    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="prices"
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=MAX_DIGITS,
        decimal_places=DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="price_item_unique")
        ]
        indexes = [models.Index(fields=["product", "price_list"], name="price_item_product_idx")]

    def __str__(self) -> str:
        return f"{self.product} — {self.unit_price} {self.price_list.currency}"

    def get_additional_data(self) -> dict[str, Any]:
        """Price changes show on the product's history."""
        return {"product_id": self.product_id}
