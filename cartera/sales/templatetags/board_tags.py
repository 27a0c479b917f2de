"""The board's cards, written in Python (``{% board_cards column.cards %}``).

A template loop over 6 columns x 50 cards rendered ~20 nodes per card, an ``{% include %}`` of
the aging badge, a ``{% url %}``, two date filters and a Babel currency format: most of the
board's time. The markup is the loop's, whitespace aside (``sales/tests/test_board_speed.py``
compares them); the cards come from ``selectors.board`` with ``card_fields=BOARD_CARD_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from cartera.core.display import DateFormatter, escape_text, pk_url
from cartera.core.templatetags.cartera import babel_locale

from .deal_tags import _money, aging_badge_html

register = template.Library()

#: One card of ``sales/partials/board_column.html``; every value is escaped.
CARD = """
    <li class="board-card card shadow-sm" data-deal="{pk}" data-etag='"{pk}-{version}"'>
      <div class="card-body p-2">
        <a class="fw-semibold text-decoration-none d-block text-truncate" href="{url}" title="{name}">{name}</a>
        {account}
        <div class="d-flex justify-content-between flex-wrap column-gap-2 small mt-1">
          <span class="fw-semibold">{amount}</span>
          <span class="text-body-secondary">{close}</span>
        </div>
        <div class="d-flex justify-content-between align-items-center small mt-1 gap-1">
          <span class="text-truncate text-body-secondary"><i class="bi bi-person" aria-hidden="true"></i> {owner}</span>
          {aging}
        </div>
      </div>
    </li>"""  # noqa: E501
ACCOUNT = '<div class="small text-truncate">{}</div>'


@register.simple_tag
def board_cards(deals: Iterable[Any]) -> SafeString:
    """The ``<li>`` cards of a board column, for deals that went through ``annotate_aging``."""
    deal_url = pk_url("sales:detail")
    dates, locale = DateFormatter(), babel_locale()
    html = []
    for deal in deals:
        if deal.status == "open":
            close = dates.day(deal.expected_close_date) or "—"
        else:
            close = dates.day(deal.closed_on)
        amount = "" if deal.amount is None else _money(deal.amount, deal.currency or "EUR", locale)
        html.append(
            CARD.format(
                pk=deal.pk,
                version=deal.version,
                url=escape_text(deal_url(deal.pk)),
                name=escape_text(deal.name),
                account=(
                    ACCOUNT.format(escape_text(deal.account.name))
                    if deal.account_id is not None
                    else ""
                ),
                amount=amount,
                close=escape_text(close),
                owner=escape_text(deal.owner),
                aging=aging_badge_html(deal),
            )
        )
    return mark_safe("".join(html))  # noqa: S308 (every value is escaped above)
