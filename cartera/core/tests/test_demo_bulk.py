"""The bulk writer under the big demos: every column, right values, ids, sequences, indexes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.accounts.services import create_account
from cartera.activities.models import Interaction
from cartera.contacts.models import Contact, ContactAccount
from cartera.core.bulk import (
    BulkInserter,
    indexes_built_after,
    insertable_fields,
    instance_factory,
    next_free_id,
    reset_sequences,
)
from cartera.core.testing import Book

ACCOUNT_VALUES: dict[str, Any] = {
    "name": "Muñoz y Pérez Logística S.L.",
    "legal_name": "Muñoz y Pérez Logística S.L.",
    "tax_id": "B12345678",
    "industry": "logistics",
    "size": "51-200",
    "website": "https://www.munozyperez.es/contacto",
    "email": "contacto@munozyperez.es",
    "phone": "+34 912 34 56 78",
    "city": "Málaga",
    "country": "ES",
    "tier": "b",
    "status": "active",
    "annual_revenue": Decimal("1234567.00"),
    "currency": "EUR",
    "version": 1,
}


def columns(obj: Any) -> dict[str, Any]:
    """Every concrete column of ``obj`` but its id, as Python values."""
    return {
        field.attname: getattr(obj, field.attname)
        for field in insertable_fields(type(obj))
        if not field.primary_key
    }


def test_factory_builds_what_the_model_constructor_builds() -> None:
    now = timezone.now()
    values = {**ACCOUNT_VALUES, "owner_id": 3, "created_at": now, "updated_at": now}
    made = instance_factory(Account)(**values)
    built = Account(**values)
    assert columns(made) == columns(built)
    assert made._state.adding and made.pk is None
    # Fields not given get their defaults, callable ones called per instance.
    interaction = instance_factory(Interaction)(account_id=1, kind="call", subject="Hola")
    assert interaction.direction == "outbound"
    assert interaction.external_id == ""
    assert interaction.occurred_at is not None
    assert interaction.contact_id is None


def test_factory_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match="nickname"):
        instance_factory(Contact)(first_name="Ana", nickname="Anita")


@pytest.mark.django_db
def test_rows_read_back_exactly_as_saved_ones(book: Book) -> None:
    created = timezone.now() - timedelta(days=400)
    updated = created + timedelta(days=30)
    values = {**ACCOUNT_VALUES, "owner_id": book.owner.pk, "created_by_id": book.owner.pk}
    saved = Account(**values)
    saved.save()
    bulk = instance_factory(Account)(**values, created_at=created, updated_at=updated)
    bulk.refresh_search_fields()
    with transaction.atomic(), BulkInserter(Account) as inserter:
        pk = inserter.add(bulk)
    assert inserter.count == 1
    again = Account.objects.get(pk=pk)
    expected = columns(Account.objects.get(pk=saved.pk))
    found = columns(again)
    # The explicit timestamps are kept (an ordinary save or bulk_create would overwrite them).
    assert (found.pop("created_at"), found.pop("updated_at")) == (created, updated)
    expected.pop("created_at"), expected.pop("updated_at")
    assert found == expected
    assert str(again.phone) == "+34 912 34 56 78"
    assert again.domain == "munozyperez.es"
    assert again.country.code == "ES"


@pytest.mark.django_db
def test_ids_follow_the_table_and_sequences_move_past_them(book: Book) -> None:
    first = next_free_id(Contact)
    make = instance_factory(Contact)
    with transaction.atomic(), BulkInserter(Contact) as inserter:
        ids = [
            inserter.add(make(first_name=f"Persona {n}", email=f"p{n}@example.com"))
            for n in range(2500)  # more than one SQLite batch
        ]
        explicit = inserter.add(make(id=first + 5000, first_name="Explicit"))
        after = inserter.add(make(first_name="After"))
    assert ids == list(range(first, first + 2500))
    assert (explicit, after) == (first + 5000, first + 5001)
    assert Contact.objects.filter(pk__gte=first).count() == 2502
    reset_sequences(Contact)
    account = create_account(actor=book.owner, data={"name": "Nueva", "country": "ES"})
    assert account.pk
    contact = Contact.objects.create(first_name="Ordinary")
    assert contact.pk > first + 5001


@pytest.mark.django_db
def test_a_failed_load_leaves_nothing(book: Book) -> None:
    make = instance_factory(ContactAccount)
    before = ContactAccount.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        with BulkInserter(ContactAccount) as inserter:
            inserter.add(make(contact_id=book.contact.pk, account_id=book.outsider_account.pk))
        raise RuntimeError("interrupted")
    assert ContactAccount.objects.count() == before


def schema(tables: list[str]) -> tuple[list[Any], list[Any]]:
    """Index and foreign-key definitions of ``tables`` (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), condeferrable, condeferred"
            " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1",
            [tables],
        )
        return indexes, cursor.fetchall()


@pytest.mark.django_db
def test_indexes_are_built_again_after_the_load(book: Book) -> None:
    tables = [Contact._meta.db_table, ContactAccount._meta.db_table]
    vendor = connection.vendor
    before = schema(tables) if vendor == "postgresql" else None
    messages: list[str] = []
    make = instance_factory(Contact)
    with (
        transaction.atomic(),
        indexes_built_after(Contact, ContactAccount, progress=messages.append),
    ):
        if vendor == "postgresql":
            during = schema(tables)
            assert len(during[0]) < len(before[0])  # type: ignore[index]
            assert not any("FOREIGN KEY" in row[1] for row in during[1])
        contact = make(first_name="Zoe", last_name="Ñúñez", email="z@example.com")
        contact.refresh_search_fields()
        with BulkInserter(Contact) as inserter:
            pk = inserter.add(contact)
    assert Contact.objects.filter(pk=pk, name_key="nunez zoe").exists()
    if vendor == "postgresql":
        assert schema(tables) == before
        assert messages[0].startswith("  indexes:")
    else:
        assert messages == []


@pytest.mark.django_db
def test_an_interrupted_load_keeps_the_indexes(book: Book) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("indexes are only rebuilt on PostgreSQL")
    tables = [Interaction._meta.db_table]
    before = schema(tables)
    with pytest.raises(RuntimeError), transaction.atomic(), indexes_built_after(Interaction):
        raise RuntimeError("killed")
    assert schema(tables) == before


def test_indexes_outside_a_transaction_are_refused() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a no-op elsewhere")
    with pytest.raises(RuntimeError), indexes_built_after(Interaction):
        pass  # pragma: no cover
