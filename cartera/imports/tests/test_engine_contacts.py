"""Importing contacts (linked to their accounts) and interactions (on their timelines)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from auditlog.models import LogEntry

from cartera.accounts.models import Account
from cartera.accounts.services import create_account
from cartera.activities.models import Interaction
from cartera.contacts.models import Contact, ContactAccount
from cartera.core.testing import Book
from cartera.imports.models import ImportRowIssue

from .support import counts, csv_bytes, run_import, uploads

__all__ = ["uploads"]


def acme(book: Book) -> Account:
    account = create_account(
        actor=book.owner, data={"name": "Acme Ibérica", "website": "https://acme.example"}
    )
    account.external_id = "SF-001"
    account.save()
    return account


def test_contacts_link_to_their_account_by_external_id_domain_or_name(
    book: Book, uploads: Path
) -> None:
    account = acme(book)
    content = csv_bytes(
        [
            ["First Name", "Last Name", "Email", "Company", "Title"],
            ["Ana", "Pérez", "ana@acme.example", "SF-001", "CFO"],
            ["Luis", "Gómez", "luis@acme.example", "acme.example", ""],
            ["Eva", "Ruiz", "eva@other.example", "acme iberica", ""],
            ["Pau", "Vidal", "pau@acme.example", "", ""],  # by the email's domain
            ["Sin", "Cuenta", "sin@nowhere.example", "Nowhere Ltd", ""],
        ]
    )

    job = run_import(book.owner, content, kind="contacts")

    assert counts(job) == (4, 0, 0, 1)
    linked = set(account.contacts.values_list("first_name", flat=True))
    assert linked == {"Ana", "Luis", "Eva", "Pau"}
    ana = Contact.objects.get(email="ana@acme.example")
    assert (ana.last_name, ana.job_title, ana.name_key) == ("Pérez", "CFO", "perez ana")
    assert ContactAccount.objects.get(contact=ana).is_primary
    (issue,) = ImportRowIssue.objects.filter(job=job)
    assert (issue.row_number, issue.column) == (6, "Company")
    assert issue.reason == "No account you can see matches Nowhere Ltd."
    links = LogEntry.objects.filter(
        additional_data__import_job=job.pk, content_type__model="contactaccount"
    )
    assert links.count() == 4
    assert links.first().additional_data["account_id"] == account.pk


def test_contacts_are_matched_by_email_then_linked_to_another_account(
    book: Book, uploads: Path
) -> None:
    account = acme(book)
    content = csv_bytes(
        [["Email", "First Name", "Job Title", "Company"],
         ["JOSE@munoz.example", "José", "Director", "Acme Ibérica"]]
    )  # fmt: skip

    job = run_import(book.owner, content, kind="contacts")

    assert counts(job) == (0, 1, 0, 0)
    book.contact.refresh_from_db()
    assert book.contact.job_title == "Director"
    assert set(book.contact.accounts.all()) == {book.account, account}
    assert not ContactAccount.objects.get(contact=book.contact, account=account).is_primary
    again = run_import(book.owner, content, kind="contacts")
    assert counts(again) == (0, 0, 1, 0)


def test_contacts_without_email_match_by_name_at_the_same_account(
    book: Book, uploads: Path
) -> None:
    content = csv_bytes([["Name", "Account", "Phone"], ["José Pérez", "Muñoz Logística",
                                                           "600 111 222"]])  # fmt: skip

    job = run_import(book.owner, content, kind="contacts")
    again = run_import(book.owner, content, kind="contacts")

    assert counts(job) == (0, 1, 0, 0)
    assert counts(again) == (0, 0, 1, 0)
    assert Contact.objects.filter(last_name="Pérez").count() == 1


def test_an_outsider_cannot_change_or_take_the_books_contacts(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [["Email", "First Name", "Account"], ["jose@munoz.example", "Hacked", "Nordic Fisk AB"],
         ["new@fisk.example", "Nils", "Muñoz Logística"]]
    )  # fmt: skip

    job = run_import(book.outsider, content, kind="contacts")

    assert counts(job) == (0, 0, 0, 2)
    book.contact.refresh_from_db()
    assert book.contact.first_name == "José"
    reasons = dict(ImportRowIssue.objects.filter(job=job).values_list("row_number", "reason"))
    assert "someone else's book" in reasons[2]
    assert reasons[3] == "No account you can see matches Muñoz Logística."


def test_interactions_on_the_timeline_re_import_as_no_op(book: Book, uploads: Path) -> None:
    content = csv_bytes(
        [
            ["Activity ID", "Type", "Subject", "Date", "Company", "Contact", "Notes", "Duration",
             "Assigned To"],
            ["T-1", "Llamada", "Seguimiento", "31/12/2024 10:30", "Muñoz Logística",
             "jose@munoz.example", "Línea 1\nLínea 2", "1:30", "teammate@example.com"],
            ["", "Reunión", "Visita", "02/01/2025", "muñoz logistica", "José Pérez",
             "<b>ok</b><script>x()</script>", "", ""],
            ["T-3", "status change", "Nope", "02/01/2025", "Muñoz Logística", "", "", "", ""],
            ["T-4", "call", "Lost", "02/01/2025", "Unknown SA", "", "", "", ""],
            ["T-5", "call", "No such contact", "03/01/2025", "Muñoz Logística", "Nobody", "",
             "", "Nobody Known"],
        ]
    )  # fmt: skip

    job = run_import(book.owner, content, kind="interactions")

    assert counts(job) == (3, 0, 0, 2)
    assert job.warning_count == 1
    call = Interaction.objects.get(external_id="T-1")
    assert (call.kind, call.account, call.contact, call.author) == (
        "call",
        book.account,
        book.contact,
        book.teammate,
    )
    assert call.duration_minutes == 90
    assert call.body == "<p>Línea 1<br>Línea 2</p>"
    local = call.occurred_at.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2024, 12, 31, 10, 30)
    visit = Interaction.objects.get(subject="Visita")
    assert (visit.kind, visit.contact, visit.body) == ("meeting", book.contact, "<b>ok</b>")
    orphan = Interaction.objects.get(external_id="T-5")
    assert orphan.contact is None and orphan.author == book.owner
    reasons = dict(ImportRowIssue.objects.filter(job=job).values_list("row_number", "reason"))
    assert reasons[4] == "Status changes are logged when the status changes."
    assert reasons[5] == "No account you can see matches Unknown SA."
    assert "No single contact" in reasons[6]

    again = run_import(book.owner, content, kind="interactions")

    assert counts(again) == (0, 0, 3, 2)
    assert Interaction.objects.filter(account=book.account, subject="Visita").count() == 1


def test_interactions_need_an_account_the_importer_can_see(book: Book, uploads: Path) -> None:
    content = csv_bytes([["Account", "Subject"], ["Nordic Fisk AB", "Hello"]])

    job = run_import(book.owner, content, kind="interactions")

    assert counts(job) == (0, 0, 0, 1)
    assert not Interaction.objects.filter(subject="Hello").exists()
