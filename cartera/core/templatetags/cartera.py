"""Template filters for locale-aware money and small display helpers."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from django import template
from django.utils import translation

register = template.Library()

_BABEL_LOCALES = {"es": "es_ES", "en": "en_US"}


def babel_locale() -> str:
    """The Babel locale of the active language."""
    language = (translation.get_language() or "en").split("-")[0]
    return _BABEL_LOCALES.get(language, "en_US")


@register.filter
def money(amount: Decimal | int | float | None, currency: str = "EUR") -> str:
    """``44701`` with ``USD`` → ``$44,701.00`` in English, ``44.701,00 US$`` in Spanish."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(str(amount)), currency or "EUR", locale=babel_locale())
