"""Contact services: links to accounts, access through accounts, validation, concurrency."""

from __future__ import annotations

import pytest

from cartera.accounts.services import create_account, trash_account
from cartera.contacts.models import Contact, ContactAccount
from cartera.contacts.selectors import contact_history, get_contact_for_user, visible_contacts
from cartera.contacts.services import create_contact, restore_contact, trash_contact, update_contact
from cartera.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from cartera.core.testing import EXPECTED_ACCESS, Book, fresh


@pytest.mark.parametrize("persona", sorted(EXPECTED_ACCESS))
def test_contact_access_follows_the_account(book: Book, persona: str) -> None:
    user = fresh(book.persona(persona))
    can_see, can_write = EXPECTED_ACCESS[persona]
    if not can_see:
        with pytest.raises(NotFound):
            get_contact_for_user(user, book.contact.pk)
        return
    contact = get_contact_for_user(user, book.contact.pk)
    if can_write:
        update_contact(
            actor=user,
            contact=contact,
            changes={"job_title": "CFO"},
            expected_version=contact.version,
        )
        assert Contact.objects.get(pk=contact.pk).job_title == "CFO"
    else:
        with pytest.raises(Forbidden):
            update_contact(
                actor=user,
                contact=contact,
                changes={"job_title": "CFO"},
                expected_version=contact.version,
            )
        assert Contact.objects.get(pk=contact.pk).job_title == ""


def test_a_contact_needs_an_account_the_actor_can_see(book: Book) -> None:
    with pytest.raises(InvalidInput) as missing:
        create_contact(actor=book.owner, data={"first_name": "Ana"})
    assert "accounts" in missing.value.field_errors
    with pytest.raises(InvalidInput) as hidden:
        create_contact(
            actor=book.owner, data={"first_name": "Ana", "accounts": [book.outsider_account.pk]}
        )
    assert "accounts" in hidden.value.field_errors
    assert not Contact.objects.filter(first_name="Ana").exists()


def test_phone_is_validated_and_stored_in_e164(book: Book) -> None:
    contact = create_contact(
        actor=book.owner,
        data={"first_name": "Luis", "phone": "+34 600 123 456", "accounts": [book.account.pk]},
    )
    assert contact.phone.as_e164 == "+34600123456"
    with pytest.raises(InvalidInput) as caught:
        create_contact(
            actor=book.owner,
            data={"first_name": "Bad", "phone": "abc", "accounts": [book.account.pk]},
        )
    assert "phone" in caught.value.field_errors


def test_first_account_is_primary_and_links_are_audited(book: Book) -> None:
    second = create_account(actor=book.owner, data={"name": "Segunda SA"})
    contact = create_contact(
        actor=book.owner, data={"first_name": "Eva", "accounts": [second.pk, book.account.pk]}
    )
    links = {
        link.account_id: link.is_primary for link in ContactAccount.objects.filter(contact=contact)
    }
    assert links == {second.pk: True, book.account.pk: False}
    assert (
        contact_history(book.owner, contact).filter(content_type__model="contactaccount").count()
        == 2
    )


def test_replacing_links_keeps_the_ones_the_actor_cannot_see(book: Book) -> None:
    # The outsider's account is linked too; the owner cannot see it and must not remove it.
    ContactAccount.objects.create(
        contact=book.contact, account=book.outsider_account, is_primary=False
    )
    other = create_account(actor=book.owner, data={"name": "Tercera SL"})
    contact = get_contact_for_user(book.owner, book.contact.pk)
    update_contact(
        actor=book.owner,
        contact=contact,
        changes={"accounts": [other.pk]},
        expected_version=contact.version,
    )
    linked = set(
        ContactAccount.objects.filter(contact=contact).values_list("account_id", flat=True)
    )
    assert linked == {other.pk, book.outsider_account.pk}


def test_stale_contact_edit_is_refused(book: Book) -> None:
    contact = get_contact_for_user(book.owner, book.contact.pk)
    update_contact(
        actor=book.owner,
        contact=contact,
        changes={"job_title": "CEO"},
        expected_version=contact.version,
    )
    stale = get_contact_for_user(book.teammate, book.contact.pk)
    with pytest.raises(Conflict):
        update_contact(
            actor=book.teammate, contact=stale, changes={"job_title": "COO"}, expected_version=1
        )
    assert Contact.objects.get(pk=contact.pk).job_title == "CEO"


def test_contacts_of_a_trashed_account_are_hidden(book: Book) -> None:
    trash_account(actor=book.owner, account=book.account, expected_version=None)
    assert not visible_contacts(fresh(book.owner)).filter(pk=book.contact.pk).exists()


def test_trash_and_restore_contact(book: Book) -> None:
    contact = get_contact_for_user(book.owner, book.contact.pk)
    trash_contact(actor=book.owner, contact=contact, expected_version=contact.version)
    with pytest.raises(NotFound):
        get_contact_for_user(book.owner, contact.pk)
    restore_contact(
        actor=book.owner, contact=get_contact_for_user(book.owner, contact.pk, trashed=True)
    )
    assert get_contact_for_user(book.owner, contact.pk).deleted_at is None


def test_contact_list_query_count_does_not_grow(book: Book, django_assert_num_queries) -> None:
    from cartera.contacts.filters import ContactFilters
    from cartera.contacts.selectors import contact_list

    user = fresh(book.owner)
    contact_list(user, ContactFilters())  # warms the per-request scope

    def add(count: int) -> None:
        for index in range(count):
            contact = Contact(first_name=f"Persona {index}")
            contact.refresh_search_fields()
            contact.save()
            ContactAccount.objects.create(contact=contact, account=book.account)

    add(2)
    # 1: contacts page  2: their links to visible accounts, with the accounts
    with django_assert_num_queries(2):
        small = contact_list(user, ContactFilters(), limit=100)
    add(48)
    with django_assert_num_queries(2):
        large = contact_list(user, ContactFilters(), limit=100)
    assert len(large.items) == len(small.items) + 48
    assert all(c.visible_links for c in large.items)
