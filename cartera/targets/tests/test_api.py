"""The targets API: list with attainment, create, ETag / If-Match, leaderboard, trend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cartera.core.testing import JSON, PERSONAS, PROBLEM, Book, client_for, fresh
from cartera.reports.tests.conftest import Deals
from cartera.targets.models import Target
from cartera.targets.services import set_target

pytestmark = pytest.mark.django_db

API = "/api/v1/targets"


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


def test_create_and_read_with_attainment(deals: Deals) -> None:
    book = deals.book
    client = client_for(book.manager)
    payload = {
        "team": book.team.pk,
        "period_kind": "quarter",
        "period_start": "2026-01-01",
        "metric": "won_amount",
        "value": "4000",
        "currency": "EUR",
    }
    response = client.post(API, payload, content_type=JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["achieved"], body["attainment"], body["shortage"]) == (
        "1000.00",
        "25.00",
        "3000.00",
    )
    assert response["ETag"] == f'"{body["id"]}-1"'
    read = client_for(book.owner).get(f"{API}/{body['id']}")
    assert read.status_code == 200
    assert read.json()["team_name"] == "Iberia"


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_permissions(book: Book, persona: str) -> None:
    payload = {
        "user": book.owner.pk,
        "period_start": "2026-03-01",
        "metric": "deal_count",
        "value": "3",
    }
    response = client_for(book.persona(persona)).post(API, payload, content_type=JSON)
    allowed = persona in {"admin", "director", "manager"}
    assert response.status_code == (201 if allowed else 403)
    assert Target.objects.exists() == allowed


def test_bad_input_is_a_422_problem(book: Book) -> None:
    client = client_for(book.director)
    for payload in (
        {"user": book.owner.pk, "period_start": "2026-03-15", "value": "3", "currency": "EUR"},
        {"user": book.owner.pk, "period_start": "2026-03-01", "value": "-3", "currency": "EUR"},
        {"user": book.owner.pk, "period_start": "2026-03-01", "value": "3"},
        {"period_start": "2026-03-01", "value": "3", "currency": "EUR"},
    ):
        response = client.post(API, payload, content_type=JSON)
        assert response.status_code == 422, payload
        assert response["Content-Type"] == PROBLEM


def test_patch_needs_if_match_and_refuses_a_stale_one(book: Book) -> None:
    target = _target(book)
    client = client_for(book.director)
    url = f"{API}/{target.pk}"
    assert client.patch(url, {"value": "1"}, content_type=JSON).status_code == 428
    etag = client.get(url)["ETag"]
    ok = client.patch(url, {"value": "2500"}, content_type=JSON, headers={"If-Match": etag})
    assert ok.status_code == 200
    assert ok.json()["value"] == "2500.00"
    stale = client.patch(url, {"value": "1"}, content_type=JSON, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert Target.objects.get(pk=target.pk).value == 2500


@pytest.mark.parametrize("persona", PERSONAS)
def test_delete_permissions(book: Book, persona: str) -> None:
    target = _target(book)
    response = client_for(book.persona(persona)).delete(
        f"{API}/{target.pk}", headers={"If-Match": target.etag}
    )
    expected = {
        "admin": 204,
        "director": 204,
        "manager": 204,
        "owner": 403,
        "read_only": 403,
        "teammate": 404,  # another person's target: unseen
        "outsider": 404,
    }[persona]
    assert response.status_code == expected
    assert Target.objects.filter(pk=target.pk).exists() == (expected != 204)


def test_list_leaderboard_and_trend(deals: Deals, django_assert_num_queries: Any) -> None:
    book = deals.book
    target = _target(book)
    _target(book, user=book.outsider.pk, value="700")
    client = client_for(fresh(book.director))
    listed = client.get(API, {"period_kind": "quarter"}).json()
    assert {row["user_name"] for row in listed} == {"Olga Owner", "Oscar Outsider"}
    board = client.get(f"{API}/leaderboard", {"period_kind": "quarter", "period": "2026-02-10"})
    assert [(row["rank"], row["user_name"], row["attainment"]) for row in board.json()] == [
        (1, "Oscar Outsider", "100.00"),
        (2, "Olga Owner", "50.00"),
    ]
    trend = client.get(f"{API}/{target.pk}/trend", {"periods": 2}).json()
    assert [(p["label"], p["target"], p["achieved"]) for p in trend] == [
        ("2025 Q4", None, "0.00"),
        ("2026 Q1", "2000.00", "1000.00"),
    ]
    # session, user, targets, won deals per owner (no team targets: no second aggregate)
    with django_assert_num_queries(4):
        client.get(f"{API}/leaderboard", {"period_kind": "quarter", "period": "2026-02-10"})
    outsider = client_for(book.outsider).get(f"{API}/{target.pk}")
    assert outsider.status_code == 404
