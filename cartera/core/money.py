"""Money: ``Decimal`` amounts with an ISO 4217 currency code, never floats.

Every document (opportunity, price list, quote) carries one ``currency``; its amounts are
``DecimalField`` columns. Arithmetic happens in ``Decimal`` and is rounded once, where a figure
is stated (a line total, a tax amount, a document total), half-up to the currency's minor unit
as Babel's CLDR data gives it (2 for EUR and USD, 0 for JPY and CLP, 3 for KWD).
Amounts in different currencies are never added together: reports group by currency.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

#: Columns that hold money: 16 digits, 2 decimals (units up to 99,999,999,999,999.99).
MAX_DIGITS = 16
DECIMAL_PLACES = 2


@lru_cache(maxsize=512)
def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-get_currency_precision(currency))


def round_money(value: Decimal | int | str, currency: str) -> Decimal:
    """``value`` rounded half-up to ``currency``'s minor unit: ``round_money("2.675", "EUR")``
    is ``Decimal("2.68")``; ``round_money("1234.5", "JPY")`` is ``Decimal("1235")``."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    return amount.quantize(_exponent(currency.upper()), rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal | int) -> Decimal:
    """``percent`` % of ``amount``, unrounded (round with ``round_money`` where it is stated)."""
    return amount * Decimal(percent) / Decimal(100)


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 code Babel knows."""
    return code.upper() in _currencies()


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def validate_currency(code: str) -> None:
    """Field validator: a three-letter ISO 4217 code."""
    if not is_currency(code or ""):
        raise ValidationError(_("Enter a three-letter ISO 4217 currency code."), code="currency")
