"""The one bulk writer (cartera.core.bulk), under the big demos and the import engine: every
column, right values, ids, sequences, indexes; live inserts and updates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from cartera.accounts.models import Account
from cartera.accounts.services import create_account
from cartera.activities.models import Interaction
from cartera.contacts.models import Contact, ContactAccount
from cartera.core import bulk as live
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


# --- live records: insert(), update(), new() (the import engine) ---------------------------


def test_new_builds_what_the_model_constructor_builds() -> None:
    values = {**ACCOUNT_VALUES, "owner_id": 3}
    made = live.new(Account, **values)
    assert columns(made) == columns(Account(**values)) | {
        "created_at": made.created_at,
        "updated_at": made.updated_at,
    }
    assert made.pk is None and made._state.adding
    assert live.new(Account, name="Otra").name == "Otra"  # the cached factory, again


@pytest.mark.django_db
def test_live_inserts_take_ids_from_the_sequence_and_read_back(book: Book) -> None:
    from phonenumber_field.phonenumber import PhoneNumber

    contacts = [
        live.new(
            Contact,
            first_name=f"Persona {n}",
            email=f"live{n}@example.com",
            phone=PhoneNumber.from_string("+34 912 345 678"),
        )
        for n in range(3)
    ]
    for contact in contacts:
        contact.refresh_search_fields()
    with transaction.atomic():
        live.insert(Contact, contacts)
    ids = [contact.pk for contact in contacts]
    assert all(ids) and len(set(ids)) == 3
    assert all(not contact._state.adding for contact in contacts)
    again = Contact.objects.get(pk=ids[0])
    assert str(again.phone.as_e164) == "+34912345678"
    assert again.created_at is not None and again.updated_at is not None
    assert again.name_key == contacts[0].name_key
    # An ordinary insert afterwards gets a fresh id: no sequence to reset.
    assert Contact.objects.create(first_name="Ordinary").pk not in ids


@pytest.mark.django_db
def test_live_inserts_write_json_and_aware_times(book: Book) -> None:
    moment = timezone.now() - timedelta(days=3)
    entry = live.new(
        LogEntry,
        content_type_id=ContentType.objects.get_for_model(Account).pk,
        object_pk=str(book.account.pk),
        object_id=book.account.pk,
        object_repr="Acme",
        action=LogEntry.Action.UPDATE,
        changes={"name": ["Old \t name", "Ñu\nnew"]},
        changes_text="",
        actor_id=book.owner.pk,
        timestamp=moment,
        additional_data={"import_job": 7},
    )
    with transaction.atomic():
        live.insert(LogEntry, [entry])
    again = LogEntry.objects.get(pk=entry.pk)
    assert again.changes_dict == {"name": ["Old \t name", "Ñu\nnew"]}
    assert again.additional_data == {"import_job": 7}
    assert again.timestamp == moment


@pytest.mark.django_db
def test_live_updates_change_only_the_named_columns(book: Book) -> None:
    account = Account.objects.get(pk=book.account.pk)
    city, version = account.city, account.version
    account.name = "Renamed S.L."
    account.city = "Not written"
    account.version = version + 1
    with transaction.atomic():
        live.update(Account, [account], ["name", "version"])
    again = Account.objects.get(pk=account.pk)
    assert (again.name, again.city, again.version) == ("Renamed S.L.", city, version + 1)
    live.update(Account, [], ["name"])  # nothing to do
    live.update(Account, [account], [])
