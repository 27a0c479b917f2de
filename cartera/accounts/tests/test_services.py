"""Account services: access, audit, concurrency."""

from __future__ import annotations

import pytest

from cartera.accounts.selectors import get_account_for_user
from cartera.accounts.services import update_account
from cartera.core.errors import Conflict, Forbidden, NotFound
from cartera.core.testing import EXPECTED_ACCESS, Book, fresh


@pytest.mark.parametrize("persona", sorted(EXPECTED_ACCESS))
def test_account_visibility_and_write_follow_personas(book: Book, persona: str) -> None:
    user = fresh(book.persona(persona))
    can_see, can_write = EXPECTED_ACCESS[persona]
    if not can_see:
        with pytest.raises(NotFound):
            get_account_for_user(user, book.account.pk)
        return
    account = get_account_for_user(user, book.account.pk)
    if can_write:
        update_account(
            actor=user,
            account=account,
            changes={"city": "Sevilla"},
            expected_version=account.version,
        )
        assert get_account_for_user(user, book.account.pk).city == "Sevilla"
    else:
        with pytest.raises(Forbidden):
            update_account(
                actor=user,
                account=account,
                changes={"city": "Sevilla"},
                expected_version=account.version,
            )
        assert get_account_for_user(user, book.account.pk).city == ""


def test_stale_version_is_refused_and_changes_nothing(book: Book) -> None:
    account = get_account_for_user(book.owner, book.account.pk)
    stale = account.version
    update_account(
        actor=book.owner, account=account, changes={"city": "Bilbao"}, expected_version=stale
    )
    other = get_account_for_user(fresh(book.teammate), book.account.pk)
    with pytest.raises(Conflict):
        update_account(
            actor=book.teammate, account=other, changes={"city": "Vigo"}, expected_version=stale
        )
    assert get_account_for_user(book.owner, book.account.pk).city == "Bilbao"
