"""Account services: access, audit, concurrency."""

from __future__ import annotations

import pytest

from cartera.accounts.models import Account
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


def test_create_records_audit_entry_with_actor(book: Book) -> None:
    from auditlog.models import LogEntry

    entry = (
        LogEntry.objects.get_for_object(book.account).filter(action=LogEntry.Action.CREATE).get()
    )
    assert entry.actor == book.owner
    assert entry.changes["name"] == ["None", "Muñoz Logística"]


def test_update_records_before_and_after_only_for_changed_fields(book: Book) -> None:
    from cartera.accounts.selectors import account_history

    account = get_account_for_user(book.owner, book.account.pk)
    update_account(
        actor=book.owner,
        account=account,
        changes={"city": "Madrid", "name": account.name},
        expected_version=account.version,
    )
    latest = account_history(book.owner, account).first()
    assert latest is not None
    assert latest.actor == book.owner
    assert latest.changes == {"city": ["", "Madrid"]}


def test_status_change_lands_on_the_timeline(book: Book) -> None:
    from cartera.activities.models import Interaction, InteractionKind

    account = get_account_for_user(book.owner, book.account.pk)
    update_account(
        actor=book.owner,
        account=account,
        changes={"status": "at_risk"},
        expected_version=account.version,
    )
    entry = Interaction.objects.filter(account=account, kind=InteractionKind.STATUS_CHANGE).get()
    assert entry.subject == "Status changed from Active to At risk"
    assert entry.author == book.owner


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"phone": "12"}, "phone"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"email": "not-an-email"}, "email"),
        ({"currency": "XXXX"}, "currency"),
        ({"status": "bogus"}, "status"),
        ({"country": "ZZ"}, "country"),
        ({"city": "Vigo\x00"}, "city"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"description": "x" * 10_001}, "description"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(book: Book, changes: dict, field: str) -> None:
    from cartera.core.errors import InvalidInput

    account = get_account_for_user(book.owner, book.account.pk)
    before = (account.version, account.name, account.city)
    with pytest.raises(InvalidInput) as caught:
        update_account(
            actor=book.owner, account=account, changes=changes, expected_version=account.version
        )
    assert field in caught.value.field_errors
    again = get_account_for_user(book.owner, book.account.pk)
    assert (again.version, again.name, again.city) == before


def test_parent_cannot_be_a_descendant(book: Book) -> None:
    from cartera.accounts.services import create_account
    from cartera.core.errors import InvalidInput

    child = create_account(actor=book.owner, data={"name": "Filial", "parent": book.account.pk})
    account = get_account_for_user(book.owner, book.account.pk)
    with pytest.raises(InvalidInput) as caught:
        update_account(
            actor=book.owner,
            account=account,
            changes={"parent": child.pk},
            expected_version=account.version,
        )
    assert "parent" in caught.value.field_errors


def test_parent_must_be_visible_to_the_actor(book: Book) -> None:
    from cartera.accounts.services import create_account
    from cartera.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        create_account(
            actor=book.owner, data={"name": "Sneaky", "parent": book.outsider_account.pk}
        )
    assert "parent" in caught.value.field_errors


def test_rep_cannot_give_an_account_to_someone_outside_their_scope(book: Book) -> None:
    from cartera.accounts.services import create_account
    from cartera.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        create_account(actor=book.owner, data={"name": "Gift", "owner": book.outsider.pk})
    assert "owner" in caught.value.field_errors
    assert not Account.objects.filter(name="Gift").exists()


def test_trash_and_restore(book: Book) -> None:
    from cartera.accounts.selectors import visible_accounts
    from cartera.accounts.services import restore_account, trash_account

    account = get_account_for_user(book.owner, book.account.pk)
    trash_account(actor=book.owner, account=account, expected_version=account.version)
    assert not visible_accounts(book.owner).filter(pk=account.pk).exists()
    with pytest.raises(NotFound):
        get_account_for_user(book.owner, account.pk)
    trashed = get_account_for_user(book.owner, account.pk, trashed=True)
    restore_account(actor=book.owner, account=trashed)
    assert get_account_for_user(book.owner, account.pk).deleted_at is None


def test_tags_are_set_and_audited(book: Book) -> None:
    account = get_account_for_user(book.owner, book.account.pk)
    update_account(
        actor=book.owner,
        account=account,
        changes={"tags": ["vip", "retail", "vip"]},
        expected_version=account.version,
    )
    assert sorted(account.tags.values_list("name", flat=True)) == ["retail", "vip"]


def test_team_membership_grants_access_and_shows_in_history(book: Book) -> None:
    from cartera.accounts.selectors import account_history
    from cartera.accounts.services import remove_team_member, set_team_member

    set_team_member(actor=book.owner, account=book.account, user=book.outsider, role="kam")
    assert get_account_for_user(fresh(book.outsider), book.account.pk).pk == book.account.pk
    remove_team_member(actor=book.owner, account=book.account, user=book.outsider)
    with pytest.raises(NotFound):
        get_account_for_user(fresh(book.outsider), book.account.pk)
    history = list(account_history(book.owner, book.account))
    assert sum(1 for e in history if e.content_type.model == "accountteammember") >= 3


def test_account_list_query_count_does_not_grow(book: Book, django_assert_num_queries) -> None:
    from cartera.accounts.filters import AccountFilters
    from cartera.accounts.selectors import account_list

    def add(count: int) -> None:
        rows = []
        for index in range(count):
            account = Account(name=f"Bulk {index}", owner=book.owner)
            account.refresh_search_fields()
            rows.append(account)
        Account.objects.bulk_create(rows)

    user = fresh(book.owner)
    scope_user_ids_cached = account_list(user, AccountFilters())  # warm the per-request scope
    assert scope_user_ids_cached.items
    add(2)
    # 1: accounts page (owner, parent joined)  2: tags prefetch
    with django_assert_num_queries(2):
        small = account_list(user, AccountFilters(), limit=100)
    add(48)
    with django_assert_num_queries(2):
        large = account_list(user, AccountFilters(), limit=100)
    assert len(large.items) == len(small.items) + 48
