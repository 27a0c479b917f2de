"""Timeline services: sanitising, access, contacts of the account only, concurrency."""

from __future__ import annotations

import pytest

from cartera.accounts.services import create_account
from cartera.activities.filters import InteractionFilters
from cartera.activities.models import Interaction, InteractionKind
from cartera.activities.selectors import account_timeline, get_interaction_for_user
from cartera.activities.services import delete_interaction, log_interaction, update_interaction
from cartera.contacts.services import create_contact
from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.testing import EXPECTED_ACCESS, Book, fresh


@pytest.mark.parametrize("persona", sorted(EXPECTED_ACCESS))
def test_logging_follows_account_access(book: Book, persona: str) -> None:
    user = fresh(book.persona(persona))
    can_see, can_write = EXPECTED_ACCESS[persona]
    before = Interaction.objects.count()
    if can_write:
        log_interaction(actor=user, account=book.account, data={"kind": "note", "subject": "Hola"})
        assert Interaction.objects.count() == before + 1
        return
    with pytest.raises(Forbidden if can_see else NotFound):
        log_interaction(actor=user, account=book.account, data={"kind": "note", "subject": "Hola"})
    assert Interaction.objects.count() == before


def test_body_is_sanitised(book: Book) -> None:
    entry = log_interaction(
        actor=book.owner,
        account=book.account,
        data={
            "kind": "email",
            "subject": "<img src=x onerror=alert(1)>",
            "body": '<p onclick="x()">Hola <b>José</b><script>alert(1)</script>'
            '<a href="javascript:x">l</a></p>',
        },
    )
    assert entry.body == '<p>Hola <b>José</b><a rel="noopener noreferrer nofollow">l</a></p>'
    assert entry.subject == "<img src=x onerror=alert(1)>"  # plain text, escaped when shown


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "call"}, "subject"),
        ({"kind": "fax", "subject": "x"}, "kind"),
        ({"kind": "status_change", "subject": "x"}, "kind"),
        ({"kind": "call", "subject": "x" * 201}, "subject"),
        ({"kind": "call", "subject": "x", "body": "a\x00b"}, "body"),
        ({"kind": "call", "subject": "x", "duration_minutes": -5}, "duration_minutes"),
    ],
)
def test_bad_interactions_are_refused(book: Book, data: dict, field: str) -> None:
    before = Interaction.objects.count()
    with pytest.raises(InvalidInput) as caught:
        log_interaction(actor=book.owner, account=book.account, data=data)
    assert field in caught.value.field_errors
    assert Interaction.objects.count() == before


def test_contact_must_belong_to_the_account(book: Book) -> None:
    other = create_account(actor=book.owner, data={"name": "Otra"})
    stranger = create_contact(actor=book.owner, data={"first_name": "Zoe", "accounts": [other.pk]})
    with pytest.raises(InvalidInput) as caught:
        log_interaction(
            actor=book.owner,
            account=book.account,
            data={"kind": "call", "subject": "x", "contact": stranger.pk},
        )
    assert "contact" in caught.value.field_errors


def test_status_changes_cannot_be_edited(book: Book) -> None:
    from cartera.accounts.services import update_account

    update_account(
        actor=book.owner, account=book.account, changes={"status": "churned"}, expected_version=None
    )
    entry = Interaction.objects.get(kind=InteractionKind.STATUS_CHANGE)
    with pytest.raises(Forbidden):
        update_interaction(
            actor=book.owner,
            interaction=entry,
            changes={"subject": "x"},
            expected_version=entry.version,
        )


def test_stale_interaction_edit_and_delete(book: Book) -> None:
    entry = get_interaction_for_user(book.owner, book.interaction.pk)
    update_interaction(
        actor=book.owner,
        interaction=entry,
        changes={"subject": "Nuevo"},
        expected_version=entry.version,
    )
    with pytest.raises(Conflict):
        delete_interaction(actor=book.owner, interaction=entry, expected_version=1)
    delete_interaction(actor=book.owner, interaction=entry, expected_version=entry.version)
    with pytest.raises(NotFound):
        get_interaction_for_user(book.owner, entry.pk)


def test_timeline_is_newest_first_and_query_count_is_flat(
    book: Book, django_assert_num_queries
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for days in range(5):
        log_interaction(
            actor=book.owner,
            account=book.account,
            data={
                "kind": "call",
                "subject": f"d{days}",
                "occurred_at": now - timedelta(days=days + 1),
            },
        )
    with django_assert_num_queries(1):  # interactions joined with author, contact and account
        page = account_timeline(book.account, InteractionFilters(), limit=3)
        subjects = [i.subject for i in page.items]
        authors = [i.author.full_name for i in page.items]
    assert subjects == ["Kick-off call", "d0", "d1"]
    assert set(authors) == {"Olga Owner"}
    rest = account_timeline(book.account, InteractionFilters(), cursor=page.next_cursor, limit=10)
    assert [i.subject for i in rest.items] == ["d2", "d3", "d4"]
