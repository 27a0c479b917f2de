"""Target pages: leaderboard, setting a target, the trend page, edit and delete."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cartera.core.testing import Book, client_for
from cartera.reports.tests.conftest import Deals
from cartera.targets.models import Target
from cartera.targets.services import set_target

pytestmark = pytest.mark.django_db


def _target(book: Book, **extra: Any) -> Target:
    data = {
        "user": book.owner.pk,
        "period_kind": "quarter",
        "period_start": dt.date(2026, 1, 1),
        "metric": "won_amount",
        "value": "2000",
        "currency": "EUR",
        **extra,
    }
    return set_target(actor=book.director, data=data)


def test_leaderboard_page(deals: Deals) -> None:
    target = _target(deals.book)
    html = (
        client_for(deals.book.owner)
        .get("/targets/", {"period_kind": "quarter", "period": "2026-03-31"})
        .content.decode()
    )
    assert f'href="/targets/{target.pk}/"' in html
    assert "50.00 %" in html and "€1,000.00" in html
    assert 'id="report-chart"' in html
    assert 'id="target-form"' not in html  # reps set no targets


def test_manager_sets_a_target_from_the_page(book: Book) -> None:
    client = client_for(book.manager)
    page = client.get("/targets/").content.decode()
    assert 'id="target-form"' in page
    assert f'value="user:{book.outsider.pk}"' not in page  # not their team
    response = client.post(
        "/targets/new",
        {
            "subject": f"user:{book.owner.pk}",
            "period_kind": "month",
            "period_start": "2026-03-01",
            "metric": "won_amount",
            "value": "1500",
            "currency": "eur",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.user, target.currency, target.created_by) == (book.owner, "EUR", book.manager)


def test_bad_target_shows_errors(book: Book) -> None:
    response = client_for(book.manager).post(
        "/targets/new",
        {
            "subject": f"user:{book.owner.pk}",
            "period_kind": "month",
            "period_start": "2026-03-15",
            "metric": "won_amount",
            "value": "1500",
            "currency": "EUR",
        },
    )
    assert response.status_code == 422
    assert "first day" in response.content.decode()
    assert not Target.objects.exists()


def test_rep_cannot_post_a_target(book: Book) -> None:
    response = client_for(book.owner).post(
        "/targets/new",
        {"subject": f"user:{book.owner.pk}", "period_kind": "month",
         "period_start": "2026-03-01", "metric": "deal_count", "value": "3"},
    )  # fmt: skip
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_detail_trend_edit_and_stale_edit(deals: Deals) -> None:
    target = _target(deals.book)
    client = client_for(deals.book.manager)
    page = client.get(f"/targets/{target.pk}/")
    assert page.status_code == 200
    assert 'id="trend-table"' in page.content.decode()
    ok = client.post(
        f"/targets/{target.pk}/edit",
        {"value": "3000", "currency": "EUR", "version": target.version},
    )
    assert ok.status_code == 302
    stale = client.post(
        f"/targets/{target.pk}/edit", {"value": "1", "currency": "EUR", "version": target.version}
    )
    assert stale.status_code == 412
    assert "Someone else changed this target" in stale.content.decode()
    assert Target.objects.get(pk=target.pk).value == 3000


def test_unseen_target_is_404_and_read_only_cannot_edit(book: Book) -> None:
    target = _target(book)
    assert client_for(book.outsider).get(f"/targets/{target.pk}/").status_code == 404
    response = client_for(book.read_only).post(
        f"/targets/{target.pk}/edit", {"value": "1", "currency": "EUR", "version": target.version}
    )
    assert response.status_code == 403
    response = client_for(book.read_only).post(
        f"/targets/{target.pk}/delete", {"version": target.version}
    )
    assert response.status_code == 403
    assert Target.objects.filter(pk=target.pk, value=2000).exists()


def test_delete_from_the_page(book: Book) -> None:
    target = _target(book)
    response = client_for(book.director).post(
        f"/targets/{target.pk}/delete", {"version": target.version}
    )
    assert response.status_code == 302
    assert not Target.objects.exists()


def test_leaderboard_page_query_count(deals: Deals, django_assert_num_queries: Any) -> None:
    from cartera.core.testing import fresh

    book = deals.book
    for person in (book.owner, book.teammate, book.outsider):
        _target(book, user=person.pk)
    _target(book, user=None, team=book.team.pk)
    client = client_for(fresh(book.director))
    url = "/targets/?period_kind=quarter&period=2026-01-01"
    client.get(url)
    # session, user, targets, won per owner, won per team, people and teams for the form
    with django_assert_num_queries(7):
        assert client.get(url).status_code == 200
