"""Targets: who sets whose, validation, attainment, leaderboard, trend, concurrency, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry

from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.testing import PERSONAS, Book, fresh
from cartera.reports.tests.conftest import Deals, close, make_deal
from cartera.targets import selectors
from cartera.targets.models import Target, period_end_of, period_start_of, shift_period
from cartera.targets.services import delete_target, set_target, update_target

pytestmark = pytest.mark.django_db

Q1 = dt.date(2026, 1, 1)


def _amount(book: Book, actor: Any = None, **extra: Any) -> Target:
    data = {
        "user": book.owner.pk,
        "period_kind": "quarter",
        "period_start": Q1,
        "metric": "won_amount",
        "value": "2000",
        "currency": "EUR",
        **extra,
    }
    return set_target(actor=actor or book.director, data=data)


def test_periods() -> None:
    assert period_start_of("quarter", dt.date(2026, 5, 17)) == dt.date(2026, 4, 1)
    assert period_start_of("year", dt.date(2026, 5, 17)) == dt.date(2026, 1, 1)
    assert period_end_of("month", dt.date(2024, 2, 1)) == dt.date(2024, 2, 29)
    assert period_end_of("quarter", dt.date(2026, 10, 1)) == dt.date(2026, 12, 31)
    assert shift_period("quarter", dt.date(2026, 1, 1), -1) == dt.date(2025, 10, 1)
    assert shift_period("month", dt.date(2026, 12, 1), 1) == dt.date(2027, 1, 1)


# Who may set whose target: (persona, subject) → allowed.
SETTERS = {
    "admin": {"owner", "outsider", "team", "other_team", "manager"},
    "director": {"owner", "outsider", "team", "other_team", "manager"},
    "manager": {"owner", "team"},
    "owner": set(),
    "teammate": set(),
    "read_only": set(),
    "outsider": set(),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("subject", ["owner", "outsider", "team", "other_team", "manager"])
def test_who_may_set_whose_target(book: Book, persona: str, subject: str) -> None:
    actor = fresh(book.persona(persona))
    key = "team" if subject in {"team", "other_team"} else "user"
    data = {
        key: getattr(book, subject).pk,
        "period_kind": "month",
        "period_start": dt.date(2026, 3, 1),
        "metric": "deal_count",
        "value": 3,
    }
    if subject in SETTERS[persona]:
        target = set_target(actor=actor, data=data)
        assert target.created_by == actor
    else:
        with pytest.raises(Forbidden):
            set_target(actor=actor, data=data)
        assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"period_start": dt.date(2026, 2, 1)}, "period_start"),  # not a quarter's first day
        ({"currency": ""}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"value": "-1"}, "value"),
        ({"value": "abc"}, "value"),
        ({"user": None}, "user"),
        ({"user": 999999}, "user"),
    ],
)
def test_bad_input_is_refused_with_a_field_error(book: Book, extra: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _amount(book, **extra)
    assert field in caught.value.field_errors or "__all__" in caught.value.field_errors


def test_a_person_and_a_team_at_once_is_refused(book: Book) -> None:
    with pytest.raises(InvalidInput):
        _amount(book, team=book.team.pk)


def test_a_count_target_is_whole_and_needs_no_currency(book: Book) -> None:
    with pytest.raises(InvalidInput):
        _amount(book, metric="deal_count", value="2.5")
    target = _amount(book, metric="deal_count", value="4", currency="EUR")
    assert target.currency == ""


def test_one_target_per_subject_period_and_metric(book: Book) -> None:
    _amount(book)
    with pytest.raises(InvalidInput):
        _amount(book, value="5")


def test_attainment_counts_won_deals_in_the_period_and_currency(deals: Deals) -> None:
    book = deals.book
    target = _amount(book)  # Q1 2026, EUR 2000: the owner won 1000 EUR in February
    team = set_target(
        actor=book.manager,
        data={"team": book.team.pk, "period_kind": "quarter", "period_start": Q1,
              "metric": "won_amount", "value": "800", "currency": "EUR"},
    )  # fmt: skip
    usd = _amount(book, period_start=dt.date(2026, 4, 1), currency="USD", value="1000")
    count = _amount(book, metric="deal_count", period_kind="year", value="4", currency="")
    rows = {row.target.pk: row for row in selectors.attainment([target, team, usd, count])}
    assert (rows[target.pk].achieved, rows[target.pk].percent, rows[target.pk].shortage) == (
        Decimal("1000.00"),
        Decimal("50.00"),
        Decimal("1000.00"),
    )
    assert (rows[team.pk].percent, rows[team.pk].shortage) == (Decimal("125.00"), Decimal(0))
    assert (rows[usd.pk].achieved, rows[usd.pk].percent) == (Decimal("250.50"), Decimal("25.05"))
    assert (rows[count.pk].achieved, rows[count.pk].percent) == (Decimal(2), Decimal("50.00"))


def test_attainment_takes_two_queries_whatever_the_targets(
    deals: Deals, django_assert_num_queries: Any
) -> None:
    book = deals.book
    targets = [
        _amount(book, period_start=dt.date(2025 + n // 4, n % 4 * 3 + 1, 1)) for n in range(6)
    ]
    targets.append(
        set_target(
            actor=book.director,
            data={"team": book.team.pk, "period_start": Q1, "metric": "deal_count", "value": 1},
        )
    )
    with django_assert_num_queries(2):  # won deals per owner and month; per team and month
        selectors.attainment(targets)


def test_leaderboard_ranks_by_attainment(deals: Deals) -> None:
    book = deals.book
    _amount(book)  # owner: 50 %
    set_target(
        actor=book.director,
        data={"user": book.outsider.pk, "period_kind": "quarter", "period_start": Q1,
              "metric": "won_amount", "value": "700", "currency": "EUR"},
    )  # fmt: skip
    set_target(
        actor=book.director,
        data={"user": book.teammate.pk, "period_kind": "quarter", "period_start": Q1,
              "metric": "won_amount", "value": "100", "currency": "EUR"},
    )  # fmt: skip
    rows = selectors.leaderboard(
        book.director, period_kind="quarter", period_start=dt.date(2026, 2, 15)
    )
    assert [(row.rank, row.target.subject_name, row.percent) for row in rows] == [
        (1, "Oscar Outsider", Decimal("100.00")),
        (2, "Olga Owner", Decimal("50.00")),
        (3, "Tomás Teammate", Decimal("0.00")),
    ]
    # A rep's leaderboard holds only what they may read.
    mine = selectors.leaderboard(book.owner, period_kind="quarter", period_start=Q1)
    assert [row.target.subject_name for row in mine] == ["Olga Owner"]


def test_trend_over_the_last_periods(deals: Deals) -> None:
    book = deals.book
    owner = book.owner
    january = make_deal(owner, created=dt.date(2025, 12, 1), amount="300", currency="EUR")
    close(owner, january, deals.won_usd.stage, dt.date(2026, 1, 15))
    feb = _amount(book, period_kind="month", period_start=dt.date(2026, 2, 1), value="500")
    _amount(book, period_kind="month", period_start=dt.date(2026, 1, 1), value="600")
    points = selectors.trend(owner, feb, periods=3)
    assert [(p.label, p.target, p.achieved, p.percent) for p in points] == [
        ("2025-12", None, Decimal("0.00"), None),
        ("2026-01", Decimal("600.00"), Decimal("300.00"), Decimal("50.00")),
        ("2026-02", Decimal("500.00"), Decimal("1000.00"), Decimal("200.00")),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_reads_which_targets(book: Book, persona: str) -> None:
    own = _amount(book)
    team = _amount(book, user=None, team=book.team.pk)
    other = _amount(book, user=book.outsider.pk)
    teammate = _amount(book, user=book.teammate.pk)
    seen = set(selectors.visible_targets(fresh(book.persona(persona))).values_list("pk", flat=True))
    expected = {
        "owner": {own.pk, team.pk},
        "teammate": {teammate.pk, team.pk},
        "manager": {own.pk, team.pk, teammate.pk},
        "read_only": {own.pk, team.pk, teammate.pk},
        "outsider": {other.pk},
        "director": {own.pk, team.pk, other.pk, teammate.pk},
        "admin": {own.pk, team.pk, other.pk, teammate.pk},
    }[persona]
    assert seen == expected
    for target in (own, team, other, teammate):
        if target.pk not in expected:
            with pytest.raises(NotFound):
                selectors.get_target_for_user(fresh(book.persona(persona)), target.pk)


def test_update_with_a_stale_version_is_a_conflict_and_changes_nothing(book: Book) -> None:
    target = _amount(book)
    stale = target.version
    update_target(
        actor=book.manager, target=target, changes={"value": "2500"}, expected_version=stale
    )
    again = Target.objects.get(pk=target.pk)
    with pytest.raises(Conflict):
        update_target(
            actor=book.director, target=again, changes={"value": "9"}, expected_version=stale
        )
    assert Target.objects.get(pk=target.pk).value == Decimal("2500.00")


def test_manager_cannot_move_a_target_out_of_their_teams(book: Book) -> None:
    target = _amount(book, actor=book.manager)
    with pytest.raises(Forbidden):
        update_target(
            actor=book.manager,
            target=target,
            changes={"user": book.outsider.pk},
            expected_version=target.version,
        )
    assert Target.objects.get(pk=target.pk).user_id == book.owner.pk


def test_writes_are_audited(book: Book) -> None:
    target = _amount(book)
    update_target(
        actor=book.director, target=target, changes={"value": "10"}, expected_version=target.version
    )
    pk = target.pk
    delete_target(actor=book.director, target=target, expected_version=target.version)
    entries = LogEntry.objects.filter(object_pk=str(pk), content_type__model="target")
    assert sorted(entries.values_list("action", flat=True)) == [0, 1, 2]
    assert set(entries.values_list("actor_id", flat=True)) == {book.director.pk}
    assert not Target.objects.filter(pk=pk).exists()


def test_read_only_and_reps_cannot_delete(book: Book) -> None:
    target = _amount(book)
    for persona in ("owner", "read_only", "teammate"):
        with pytest.raises(Forbidden):
            delete_target(
                actor=book.persona(persona), target=target, expected_version=target.version
            )
    assert Target.objects.filter(pk=target.pk).exists()
