"""The board's speed work: cards written by ``{% board_cards %}`` (the markup of the template
loop they replace), slim card reads, and the visible accounts as one array parameter."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.template import engines
from django.utils import timezone, translation

from cartera.accounts.models import Account
from cartera.core.testing import Book, client_for, fresh
from cartera.sales import selectors, services
from cartera.sales.filters import OpportunityFilters
from cartera.sales.models import (
    Opportunity,
    Pipeline,
    array_literal,
    deal_visibility,
    in_ids,
)
from cartera.sales.templatetags.board_tags import board_cards

#: The loop ``sales/partials/board_column.html`` had before the tag.
TEMPLATE_LOOP = """{% load l10n %}
    {% for deal in cards %}
    <li class="board-card card shadow-sm" data-deal="{{ deal.pk|unlocalize }}" data-etag='"{{ deal.pk|unlocalize }}-{{ deal.version|unlocalize }}"'>
      <div class="card-body p-2">
        <a class="fw-semibold text-decoration-none d-block text-truncate" href="{% url 'sales:detail' deal.pk %}" title="{{ deal.name }}">{{ deal.name }}</a>
        {% if deal.account %}<div class="small text-truncate">{{ deal.account.name }}</div>{% endif %}
        <div class="d-flex justify-content-between flex-wrap column-gap-2 small mt-1">
          <span class="fw-semibold">{{ deal.amount|money:deal.currency }}</span>
          <span class="text-body-secondary">{% if deal.status == "open" %}{{ deal.expected_close_date|date:"SHORT_DATE_FORMAT"|default:"—" }}{% else %}{{ deal.closed_on|date:"SHORT_DATE_FORMAT" }}{% endif %}</span>
        </div>
        <div class="d-flex justify-content-between align-items-center small mt-1 gap-1">
          <span class="text-truncate text-body-secondary"><i class="bi bi-person" aria-hidden="true"></i> {{ deal.owner }}</span>
          {% include "sales/partials/aging_badge.html" %}
        </div>
      </div>
    </li>
    {% endfor %}"""  # noqa: E501


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def _cards(book: Book, pipeline: Pipeline) -> list[Opportunity]:
    """Open deals in the first column (with and without account or close day), one won."""
    today = timezone.localdate()
    specs = [
        ("Fleet <renewal> & co", book.account, "12000.00", "EUR", today),
        ("Yen “deal”", book.account, "1234567.00", "JPY", None),
        ("No account", None, "0.50", "USD", today + dt.timedelta(days=400)),
    ]
    for name, account, amount, currency, close in specs:
        services.create_opportunity(
            actor=book.owner,
            data={
                "name": name,
                "account": account,
                "amount": Decimal(amount),
                "currency": currency,
                "expected_close_date": close,
            },
        )
    won = services.create_opportunity(
        actor=book.owner, data={"name": "Won one", "account": book.account, "amount": "5.00"}
    )
    services.move_opportunity(
        actor=book.owner,
        opportunity=won,
        stage=services.won_stage(pipeline),
        expected_version=won.version,
    )
    board = selectors.board(
        fresh(book.owner), pipeline, OpportunityFilters(), card_fields=selectors.BOARD_CARD_FIELDS
    )
    cards = [card for column in board.columns for card in column.cards]
    assert len(cards) == 4
    # Stuck for 1 and for 1,234 days (set in memory: rendering only).
    cards[0].is_stuck, cards[0].days_in_stage = True, 1
    cards[1].is_stuck, cards[1].days_in_stage = True, 1234
    return cards


@pytest.mark.parametrize("language", ["en", "es"])
def test_board_cards_write_the_template_loop_markup(
    book: Book, pipeline: Pipeline, language: str, django_assert_num_queries
) -> None:
    cards = _cards(book, pipeline)
    loop = engines["django"].from_string(TEMPLATE_LOOP)
    with translation.override(language), django_assert_num_queries(0):
        expected = loop.render({"cards": cards})
        written = board_cards(cards)
    assert squeeze(written) == squeeze(expected)
    assert "Fleet &lt;renewal&gt; &amp; co" in written
    assert ("día en la etapa" if language == "es" else "1 day in stage") in written


def test_board_page_reads_only_the_card_columns(
    book: Book, pipeline: Pipeline, django_assert_max_num_queries
) -> None:
    _cards(book, pipeline)
    client = client_for(book.owner)
    client.get("/deals/board/")
    with django_assert_max_num_queries(20) as captured:
        response = client.get("/deals/board/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="board-card card') == 4 and "Yen “deal”" in html
    card_reads = [q["sql"] for q in captured.captured_queries if "ORDER BY" in q["sql"]]
    card_reads = [sql for sql in card_reads if '"sales_opportunity"."stage_id" =' in sql]
    assert card_reads, "the board read its cards"
    for sql in card_reads:
        # Columns no card shows stay in the database (``BOARD_CARD_FIELDS``).
        assert '"sales_opportunity"."search_text"' not in sql
        assert '"sales_opportunity"."next_step"' not in sql
        assert '"accounts_account"."description"' not in sql
        assert '"users_user"."password"' not in sql


def test_the_api_board_still_returns_whole_deals(book: Book, deal: Opportunity) -> None:
    response = client_for(book.owner).get(f"/api/v1/pipelines/{deal.pipeline_id}/board")
    assert response.status_code == 200
    card = response.json()["columns"][0]["cards"][0]
    assert card["name"] == "Fleet renewal" and "next_step" in card


def test_visible_accounts_are_one_parameter_on_postgresql(book: Book, deal: Opportunity) -> None:
    ids = [book.account.pk, *range(10_000_000, 10_003_000)]
    query = Opportunity.objects.filter(in_ids("account_id", ids))
    sql, params = query.query.sql_with_params()
    if connection.vendor == "postgresql":
        # One parameter: the array's text form (``{1,2,…}``), written once, cast in the SQL.
        assert "unnest" in sql and len(params) == 1
        assert params[0] == "{" + ",".join(map(str, ids)) + "}" == array_literal(ids)
    else:
        assert len(params) == len(ids)
    assert list(query) == [deal]
    assert list(Opportunity.objects.filter(in_ids("account_id", ids, probe=True))) == [deal]
    assert not Opportunity.objects.filter(in_ids("account_id", ids[1:])).exists()


def test_scoped_visibility_is_exact_with_the_array(book: Book, pipeline: Pipeline) -> None:
    """The owner sees their deals and the deals on their accounts owned by others, no more."""
    theirs = services.create_opportunity(
        actor=book.owner, data={"name": "Theirs", "account": book.account}
    )
    on_their_account = services.create_opportunity(
        actor=book.director,
        data={"name": "On their account", "account": book.account, "owner": book.outsider},
    )
    elsewhere = services.create_opportunity(
        actor=book.director,
        data={"name": "Elsewhere", "account": book.outsider_account, "owner": book.outsider},
    )
    owner = fresh(book.owner)
    visibility = deal_visibility(owner)
    assert visibility is not None and isinstance(visibility.accounts, list)
    assert set(visibility.accounts) == set(
        Account.objects.filter(owner=book.owner).values_list("pk", flat=True)
    ) | {book.account.pk}
    seen = set(selectors.visible_opportunities(owner).values_list("pk", flat=True))
    assert theirs.pk in seen and on_their_account.pk in seen and elsewhere.pk not in seen
    through = visibility.through_accounts()
    assert through is not None
    assert list(Opportunity.objects.filter(through).values_list("pk", flat=True)) == [
        on_their_account.pk
    ]


def _walk(client: Any, pipeline: Pipeline, stage_id: int, first_html: str) -> list[int]:
    """Follow a column's "Show more" buttons to the end; the deal ids in the order shown."""
    column = first_html.split(f'id="column-{stage_id}"', 1)[1].split("</section>", 1)[0]
    ids = [int(pk) for pk in re.findall(r'data-deal="(\d+)"', column)]
    html = column
    while match := re.search(r'hx-get="([^"]*more=[^"]*)"', html):
        url = match.group(1).replace("&amp;", "&")
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.content.decode()
        assert 'hx-swap-oob="true"' in html
        ids += [int(pk) for pk in re.findall(r'data-deal="(\d+)"', html)]
    return ids


def test_show_more_walks_each_column_in_order(
    book: Book, pipeline: Pipeline, django_assert_max_num_queries
) -> None:
    today = timezone.localdate()
    for index in range(70):
        # Ties on the day and deals without one: the keyset must not skip or repeat any.
        close = None if index % 5 == 0 else today + dt.timedelta(days=index % 4)
        services.create_opportunity(
            actor=book.owner,
            data={
                "name": f"Deal {index:02}",
                "account": book.account,
                "expected_close_date": close,
            },
        )
    won_stage = services.won_stage(pipeline)
    for deal in Opportunity.objects.order_by("pk")[:25]:
        services.move_opportunity(
            actor=book.owner,
            opportunity=deal,
            stage=won_stage,
            expected_version=deal.version,
            changed_at=timezone.now() - dt.timedelta(days=deal.pk % 3),
        )
    owner = fresh(book.owner)
    client = client_for(book.owner)
    html = client.get("/deals/board/").content.decode()
    assert html.count('class="board-card card') == 2 * selectors.BOARD_PAGE_CARDS
    assert "Show more" in html and "Showing 20 of 25" in html and "Showing 20 of 45" in html
    for stage in [pipeline.stages.order_by("position").first(), won_stage]:
        assert stage is not None
        everything = selectors.board(owner, pipeline, OpportunityFilters(), per_column=1000)
        expected = [
            card.pk for column in everything.columns if column.stage == stage
            for card in column.cards
        ]  # fmt: skip
        assert len(expected) == (25 if stage == won_stage else 45)
        assert _walk(client, pipeline, stage.pk, html) == expected
    first = pipeline.stages.order_by("position").first()
    assert first is not None
    response = client.get(
        f"/deals/board/?more={first.pk}&after=-.999999999&shown=20&total=25",
        headers={"HX-Request": "true"},
    )
    assert "Showing 20 of 25" in response.content.decode()  # nothing after the last position
    with django_assert_max_num_queries(8):  # session, user, pipeline, visibility, stages, cards
        client.get(
            f"/deals/board/?more={first.pk}&after=2000-01-01.1&shown=20&total=25",
            headers={"HX-Request": "true"},
        )


@pytest.mark.parametrize("after", ["nonsense", "2026-13-01.5", "2026-01-01.x", ""])
def test_show_more_with_a_bad_position_is_a_clear_422(
    book: Book, pipeline: Pipeline, after: str
) -> None:
    first = pipeline.stages.order_by("position").first()
    assert first is not None
    response = client_for(book.owner).get(
        f"/deals/board/?more={first.pk}&after={after}", headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "This is not a board position." in response.content.decode()


def test_show_more_of_another_pipelines_stage_is_404(book: Book, pipeline: Pipeline) -> None:
    response = client_for(book.owner).get(
        "/deals/board/?more=999999&after=-.1", headers={"HX-Request": "true"}
    )
    assert response.status_code == 404
