"""The visible account ids ``deal_visibility`` reads (three index scans, ``UNION ALL``) are the
accounts ``owner in scope OR on an account team of someone in scope`` selects, trashed accounts
and duplicates included, and the array goes to PostgreSQL as one text parameter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q

from cartera.accounts.models import Account, AccountTeamMember
from cartera.accounts.services import create_account, set_team_member, trash_account
from cartera.core.testing import Book, fresh
from cartera.sales import models as sales_models
from cartera.sales import selectors, services
from cartera.sales.filters import OpportunityFilters
from cartera.sales.models import IdList, Pipeline, array_literal, deal_visibility
from cartera.users.access import scope_user_ids

PERSONAS = ["director", "manager", "owner", "teammate", "read_only", "outsider"]


def _expected(user: object) -> set[int]:
    scope = scope_user_ids(user)
    assert scope is not None
    on_team = AccountTeamMember.objects.filter(user_id__in=scope).values("account_id")
    return set(
        Account.objects.filter(Q(owner_id__in=scope) | Q(pk__in=on_team)).values_list(
            "pk", flat=True
        )
    )


@pytest.fixture
def more_accounts(book: Book) -> None:
    # Trashed, owned: still seen (as before). Owned and on its own team: one id, not two.
    trashed = create_account(actor=book.owner, data={"name": "Gone SL", "country": "ES"})
    trash_account(actor=book.owner, account=trashed, expected_version=None)
    set_team_member(actor=book.owner, account=book.account, user=book.owner, role="coordinator")
    # Someone else's account they are on the team of.
    set_team_member(
        actor=book.outsider, account=book.outsider_account, user=book.teammate, role="kam"
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_ids_are_the_or_querys(book: Book, more_accounts: None, persona: str) -> None:
    user = book.persona(persona)
    visibility = deal_visibility(user)
    if scope_user_ids(user) is None:
        assert visibility is None
        return
    assert visibility is not None
    assert isinstance(visibility.accounts, IdList)
    assert len(visibility.accounts) == len(set(visibility.accounts))  # no duplicates
    assert set(visibility.accounts) == _expected(user)


def test_more_rows_than_the_limit_keep_the_subquery(
    book: Book, more_accounts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sales_models, "VISIBLE_ACCOUNTS_LIMIT", 1)
    monkeypatch.setattr(sales_models, "VISIBLE_ACCOUNTS_ARRAY_LIMIT", 1)
    visibility = deal_visibility(book.owner)
    assert visibility is not None and not isinstance(visibility.accounts, list)
    assert set(visibility.accounts) == _expected(book.owner)


@pytest.mark.django_db
def test_the_array_literal_is_written_once() -> None:
    ids = IdList([3, 1, 2])
    assert array_literal(ids) == "{3,1,2}" == array_literal([3, 1, 2])
    assert array_literal(ids) is array_literal(ids)  # cached on the list
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT CAST(%s AS bigint[])", [array_literal(ids)])
            assert cursor.fetchone()[0] == [3, 1, 2]


@pytest.mark.parametrize("persona", PERSONAS)
def test_board_cards_with_the_per_row_test_are_the_same(
    book: Book,
    more_accounts: None,
    pipeline: Pipeline,
    persona: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many visible accounts: the cards test each deal's account owner; the same cards."""
    deals = [
        ("Theirs", book.account, book.owner),
        ("On their account", book.account, book.outsider),
        ("Elsewhere", book.outsider_account, book.outsider),
        ("Teammate's elsewhere", book.outsider_account, book.teammate),
        ("No account", None, book.outsider),
    ]
    for name, account, owner in deals:
        services.create_opportunity(
            actor=book.director, data={"name": name, "account": account, "owner": owner}
        )
    user = fresh(book.persona(persona))

    def cards() -> dict[int, list[int]]:
        board = selectors.board(user, pipeline, OpportunityFilters())
        return {column.stage.pk: [card.pk for card in column.cards] for column in board.columns}

    expected = cards()
    monkeypatch.setattr(selectors, "VISIBLE_ACCOUNTS_LIMIT", 0)
    assert cards() == expected
    seen = set(selectors.visible_opportunities(user).values_list("pk", flat=True))
    assert {pk for column in expected.values() for pk in column} == seen
    if persona == "owner":
        assert len(seen) == 2  # theirs and the one on their account
