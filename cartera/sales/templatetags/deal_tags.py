"""The deal list's rows, written in Python (``{% deal_table_rows page.items %}``).

A template loop over 50 deals rendered ~25 nodes per row, two ``{% include %}``s (status and
aging badges), two ``{% blocktranslate %}``s, a Babel currency format and two ``{% url %}``s;
that was most of the page's time. The markup is the loop's, whitespace aside
(``cartera/sales/tests/test_deal_rows.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency
from django import template
from django.utils import translation
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from cartera.core.display import DateFormatter, escape_text, pk_url
from cartera.core.templatetags.cartera import babel_locale

register = template.Library()

#: One row of the deal list (``sales/partials/list_results.html``); every value is escaped.
DEAL_ROW = """
    <tr>
      <td><a href="{url}">{name}</a>{next_step}</td>
      <td>{account}</td>
      <td>{status_badge}
 {stage}<div class="small text-body-secondary">{pipeline}</div></td>
      <td class="text-end text-nowrap">{amount}</td>
      <td class="text-end">{probability} %</td>
      <td class="text-nowrap">{close}</td>
      <td>{owner}</td>
      <td>{aging}</td>
    </tr>"""
NEXT_STEP = '<div class="small text-body-secondary text-truncate" style="max-width: 24rem">{}</div>'
NO_ACCOUNT = '<span class="text-body-secondary">—</span>'
STATUS_BADGES = {
    "won": ('<span class="badge text-bg-success">{}</span>', "Won"),
    "lost": ('<span class="badge text-bg-danger">{}</span>', "Lost"),
}
OPEN_BADGE = ('<span class="badge text-bg-primary">{}</span>', "Open")
STUCK_BADGE = (
    '<span class="badge text-bg-warning" title="{title}">'
    '<i class="bi bi-hourglass-split" aria-hidden="true"></i> {days}</span>'
)
AGE_BADGE = '<span class="badge text-bg-light border" title="{title}">{days}</span>'


@lru_cache(maxsize=8192)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    """``{{ amount|money:currency }}`` (Babel), kept per amount, currency and locale."""
    return escape_text(format_currency(amount, currency, locale=locale))


@lru_cache(maxsize=4096)
def _number(value: int, language: str) -> str:
    """``{{ value }}`` of an integer in ``language`` (the active one), escaped."""
    return escape_text(localize(value))


@lru_cache(maxsize=64)
def _status_badges(language: str) -> dict[str, str]:
    """``sales/partials/status_badge.html`` of each status in ``language`` (the active one)."""
    badges = {
        status: markup.format(escape_text(gettext(label)))
        for status, (markup, label) in STATUS_BADGES.items()
    }
    markup, label = OPEN_BADGE
    badges[""] = markup.format(escape_text(gettext(label)))
    return badges


def status_badge_html(status: str) -> str:
    """``sales/partials/status_badge.html`` for ``status``."""
    badges = _status_badges(_language())
    return badges.get(status, badges[""])


@lru_cache(maxsize=4096)
def _aging(days: int, stuck: bool, usual: int | None, status: str, language: str) -> str:
    shown = _number(days, language)
    if stuck:
        title = gettext("Usually %(usual)s days in this stage") % {
            "usual": escape_text(localize(usual))
        }
        text = ngettext("%(days)s day in stage", "%(days)s days in stage", days) % {"days": shown}
        # As ``{% blocktranslate %}``: the values are escaped, the translation is not.
        return STUCK_BADGE.format(title=title, days=text)
    if status == "open":
        text = ngettext("%(days)s day", "%(days)s days", days) % {"days": shown}
        return AGE_BADGE.format(title=escape_text(gettext("Time in this stage")), days=text)
    return ""


def aging_badge_html(deal: Any) -> str:
    """``sales/partials/aging_badge.html`` for a deal that went through ``annotate_aging``."""
    usual = deal.stage.usual_days if deal.is_stuck else None
    return _aging(deal.days_in_stage, bool(deal.is_stuck), usual, deal.status, _language())


def _language() -> str:
    return translation.get_language() or "en"


@register.simple_tag
def deal_table_rows(deals: Iterable[Any]) -> SafeString:
    """The ``<tr>``s of the deal list for deals read by ``opportunity_list``."""
    deal_url, account_url = pk_url("sales:detail"), pk_url("accounts:detail")
    dates, locale, language = DateFormatter(), babel_locale(), _language()
    badges = _status_badges(language)
    html = []
    for deal in deals:
        if deal.status == "open":
            close = dates.day(deal.expected_close_date) or "—"
        else:
            close = dates.day(deal.closed_on)
        account = NO_ACCOUNT
        if deal.account_id is not None:
            account = (
                f'<a href="{escape_text(account_url(deal.account_id))}">'
                f"{escape_text(deal.account.name)}</a>"
            )
        amount = "" if deal.amount is None else _money(deal.amount, deal.currency or "EUR", locale)
        html.append(
            DEAL_ROW.format(
                url=escape_text(deal_url(deal.pk)),
                name=escape_text(deal.name),
                next_step=NEXT_STEP.format(escape_text(deal.next_step)) if deal.next_step else "",
                account=account,
                status_badge=badges.get(deal.status, badges[""]),
                stage=escape_text(deal.stage.name),
                pipeline=escape_text(deal.pipeline.name),
                amount=amount,
                probability=_number(deal.probability, language),
                close=escape_text(close),
                owner=escape_text(deal.owner),
                aging=_aging(
                    deal.days_in_stage,
                    bool(deal.is_stuck),
                    deal.stage.usual_days if deal.is_stuck else None,
                    deal.status,
                    language,
                ),
            )
        )
    return mark_safe("".join(html))  # noqa: S308 (every value is escaped above)
