"""The deal list's rows, written by ``{% deal_table_rows %}``: the markup of the template loop
they replace (whitespace between tags aside), in English and Spanish."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import timezone, translation

from cartera.core.testing import Book, fresh
from cartera.sales import selectors, services
from cartera.sales.filters import OpportunityFilters
from cartera.sales.models import Opportunity, Pipeline
from cartera.sales.templatetags.deal_tags import deal_table_rows

#: The loop ``sales/partials/list_results.html`` had before the tag.
TEMPLATE_LOOP = """{% load l10n %}
    {% for deal in page.items %}
    <tr>
      <td><a href="{% url 'sales:detail' deal.pk %}">{{ deal.name }}</a>{% if deal.next_step %}<div class="small text-body-secondary text-truncate" style="max-width: 24rem">{{ deal.next_step }}</div>{% endif %}</td>
      <td>{% if deal.account %}<a href="{% url 'accounts:detail' deal.account_id %}">{{ deal.account.name }}</a>{% else %}<span class="text-body-secondary">—</span>{% endif %}</td>
      <td>{% include "sales/partials/status_badge.html" with status=deal.status %} {{ deal.stage.name }}<div class="small text-body-secondary">{{ deal.pipeline.name }}</div></td>
      <td class="text-end text-nowrap">{{ deal.amount|money:deal.currency }}</td>
      <td class="text-end">{{ deal.probability }} %</td>
      <td class="text-nowrap">{% if deal.status == "open" %}{{ deal.expected_close_date|date:"SHORT_DATE_FORMAT"|default:"—" }}{% else %}{{ deal.closed_on|date:"SHORT_DATE_FORMAT" }}{% endif %}</td>
      <td>{{ deal.owner }}</td>
      <td>{% include "sales/partials/aging_badge.html" %}</td>
    </tr>
    {% endfor %}"""  # noqa: E501


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def _deals(book: Book, pipeline: Pipeline) -> list[Opportunity]:
    today = timezone.localdate()
    specs = [
        ("Fleet <renewal> & co", book.account, "12000.00", "EUR", today, "Call “Ana” & Bob"),
        ("Yen deal", book.account, "1234567.00", "JPY", None, ""),
        ("No account", None, "0.50", "USD", today + dt.timedelta(days=400), ""),
    ]
    for name, account, amount, currency, close, step in specs:
        services.create_opportunity(
            actor=book.owner,
            data={
                "name": name,
                "account": account,
                "amount": Decimal(amount),
                "currency": currency,
                "expected_close_date": close,
                "next_step": step,
            },
        )
    page = selectors.opportunity_list(fresh(book.owner), OpportunityFilters(sort="name"))
    deals = list(page.items)
    assert len(deals) == 3
    # The states the badges tell apart, set in memory (rendering only): stuck for 1 and for
    # 1,234 days, open, won and lost with and without a close day.
    deals[0].is_stuck, deals[0].days_in_stage = True, 1
    deals[1].is_stuck, deals[1].days_in_stage = True, 1234
    more = []
    for status, closed_on in [("won", today), ("lost", None), ("open", None)]:
        copy = selectors.opportunity_list(fresh(book.owner), OpportunityFilters(sort="name")).items[
            2
        ]
        copy.status, copy.closed_on, copy.is_stuck, copy.days_in_stage = (
            status,
            closed_on,
            False,
            0 if status == "open" else 5,
        )
        more.append(copy)
    return deals + more


@pytest.mark.parametrize("language", ["en", "es"])
def test_rows_are_the_template_loops_markup(book: Book, pipeline: Pipeline, language: str) -> None:
    deals = _deals(book, pipeline)
    template = engines["django"].from_string(TEMPLATE_LOOP)
    with translation.override(language), timezone.override("America/New_York"):
        expected = template.render({"page": {"items": deals}})
        written = str(deal_table_rows(deals))
    assert squeeze(written) == squeeze(expected)
    assert "&lt;renewal&gt; &amp; co" in written and "<renewal>" not in written


def test_list_page_query_count_and_rows(
    book: Book, pipeline: Pipeline, django_assert_num_queries
) -> None:
    for index in range(30):
        services.create_opportunity(
            actor=book.owner, data={"name": f"Deal {index:03}", "account": book.account}
        )
    from cartera.core.testing import client_for

    client = client_for(book.owner)
    client.get("/deals/")  # warm caches (session, content types)
    # session, user, "owns many accounts?" (no), the accounts they see, page of deals, then
    # the filter bar: owners, teams, pipelines; a fixed number whatever the row count.
    with django_assert_num_queries(8):
        response = client.get("/deals/")
    html = response.content.decode()
    assert response.status_code == 200 and html.count('<a href="/deals/') >= 30
