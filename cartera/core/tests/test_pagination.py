"""Keyset pagination: stable pages in both directions, hostile cursors refused cleanly."""

from __future__ import annotations

import pytest

from cartera.accounts.models import Account
from cartera.core.errors import InvalidInput
from cartera.core.pagination import MAX_LIMIT, clamp_limit, encode_cursor, keyset_page
from cartera.core.testing import Book


@pytest.fixture
def thirty_accounts(book: Book) -> list[int]:
    rows = []
    for index in range(30):
        account = Account(name=f"Cuenta {index // 3:02d}", owner=book.owner)  # duplicate names
        account.refresh_search_fields()
        rows.append(account)
    Account.objects.bulk_create(rows)
    return list(Account.objects.order_by("name_key", "pk").values_list("pk", flat=True))


def _walk_forward(ordering: tuple[str, ...], limit: int) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = keyset_page(Account.objects.all(), ordering=ordering, cursor=cursor, limit=limit)
        pages.append([a.pk for a in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_forward_pages_cover_every_row_once_even_with_equal_sort_keys(
    thirty_accounts: list[int],
) -> None:
    pages = _walk_forward(("name_key", "pk"), limit=7)
    flat = [pk for page in pages for pk in page]
    assert flat == thirty_accounts
    assert [len(p) for p in pages] == [7, 7, 7, 7, 4]


def test_descending_order_pages_in_reverse(thirty_accounts: list[int]) -> None:
    pages = _walk_forward(("-name_key", "-pk"), limit=8)
    assert [pk for page in pages for pk in page] == list(reversed(thirty_accounts))


def test_previous_cursor_returns_the_page_before(thirty_accounts: list[int]) -> None:
    ordering = ("name_key", "pk")
    first = keyset_page(Account.objects.all(), ordering=ordering, limit=10)
    assert first.previous_cursor is None
    second = keyset_page(
        Account.objects.all(), ordering=ordering, cursor=first.next_cursor, limit=10
    )
    back = keyset_page(
        Account.objects.all(), ordering=ordering, cursor=second.previous_cursor, limit=10
    )
    assert [a.pk for a in back.items] == [a.pk for a in first.items]
    assert back.previous_cursor is None
    assert back.next_cursor is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        encode_cursor(["a"], backward=False),
        "eyJ2IjogW1sxXSwgWzJdXSwgImIiOiBmYWxzZX0",
    ],
)
def test_malformed_cursor_is_a_field_error(thirty_accounts: list[int], cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        keyset_page(Account.objects.all(), ordering=("name_key", "pk"), cursor=cursor, limit=5)
    assert "cursor" in caught.value.field_errors


def test_limit_is_clamped() -> None:
    assert clamp_limit(None) == 50
    assert clamp_limit(0) == 50
    assert clamp_limit(-3) == 1
    assert clamp_limit(10_000) == MAX_LIMIT


def test_a_page_costs_one_query_however_deep(
    thirty_accounts: list[int], django_assert_num_queries
) -> None:
    page = keyset_page(Account.objects.all(), ordering=("name_key", "pk"), limit=5)
    for _ in range(4):
        page = keyset_page(
            Account.objects.all(), ordering=("name_key", "pk"), cursor=page.next_cursor, limit=5
        )
    with django_assert_num_queries(1):  # SELECT … WHERE (name_key, pk) after cursor LIMIT 6
        keyset_page(
            Account.objects.all(), ordering=("name_key", "pk"), cursor=page.next_cursor, limit=5
        )
