"""The public data sets beside the repository import cleanly, every row accounted for."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from auditlog.models import LogEntry

from cartera.accounts.models import Account
from cartera.contacts.models import Contact, ContactAccount
from cartera.core.testing import Book

from .support import CRM_ACCOUNTS, NORTHWIND_CUSTOMERS, counts, error_csv, run_import, uploads

__all__ = ["uploads"]

# On CI the data sets must be there: a missing file fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not NORTHWIND_CUSTOMERS.exists() and os.environ.get("CI") != "true",
    reason="the shared data sets are not beside the repository (set CARTERA_SHARED_DATA)",
)


def test_northwind_customers_become_91_accounts_each_with_its_contact(
    book: Book, uploads: Path
) -> None:
    content = NORTHWIND_CUSTOMERS.read_bytes()

    job = run_import(book.owner, content, name="customers.csv")

    assert job.status == "done"
    assert counts(job) == (91, 0, 0, 0)
    assert job.processed_rows == job.total_rows == 91
    imported = Account.objects.exclude(external_id="")
    assert imported.count() == 91
    alfki = imported.get(external_id="ALFKI")
    assert (alfki.name, alfki.city, alfki.postal_code, alfki.country.code) == (
        "Alfreds Futterkiste",
        "Berlin",
        "12209",
        "DE",
    )
    assert alfki.owner == book.owner and alfki.created_by == book.owner
    assert str(alfki.phone) != ""
    (maria,) = alfki.contacts.all()
    assert (maria.first_name, maria.last_name, maria.job_title) == (
        "Maria",
        "Anders",
        "Sales Representative",
    )
    assert ContactAccount.objects.get(contact=maria, account=alfki).is_primary
    assert Contact.objects.filter(account_links__account__in=imported).distinct().count() == 91
    assert imported.get(external_id="ANATR").city == "México D.F."
    # Old French and Mexican numbers are kept as written, with a warning on their row.
    assert job.warning_count == 15
    report = error_csv(job)
    assert report[0][-3:] == ["Row", "Column", "Reason"]
    assert {line[-2] for line in report[1:]} == {"Phone"}


def test_northwind_again_changes_nothing(book: Book, uploads: Path) -> None:
    content = NORTHWIND_CUSTOMERS.read_bytes()
    run_import(book.owner, content, name="customers.csv")
    entries = LogEntry.objects.count()
    versions = list(Account.objects.order_by("pk").values_list("version", flat=True))

    again = run_import(book.owner, content, name="customers.csv")

    assert counts(again) == (0, 0, 91, 0)
    assert LogEntry.objects.count() == entries
    assert list(Account.objects.order_by("pk").values_list("version", flat=True)) == versions
    assert Contact.objects.count() == 91 + 1  # the book's own contact


def test_crm_accounts_with_their_parent_companies(book: Book, uploads: Path) -> None:
    content = CRM_ACCOUNTS.read_bytes()

    job = run_import(
        book.owner,
        content,
        name="accounts.csv",
        extra={"revenue": "annual_revenue_millions"},
        defaults={"currency": "USD"},
    )

    assert job.status == "done"
    assert counts(job) == (85, 0, 0, 0)
    assert job.warning_count == 0
    imported = Account.objects.exclude(pk__in=[book.account.pk, book.outsider_account.pk])
    assert imported.count() == 85
    assert imported.exclude(parent=None).count() == 15
    acme = imported.get(name="Acme Corporation")
    assert acme.annual_revenue == Decimal("1100040000.00")
    assert acme.currency == "USD"
    assert acme.industry == "technology"  # "technolgy" in the file
    assert acme.size == "1001-5000"
    assert acme.country.code == "US"
    assert imported.get(name="Bluth Company").parent == acme
    # "Cheers" comes before its parent "Massive Dynamic" in the file: the second pass links it.
    assert imported.get(name="Cheers").parent == imported.get(name="Massive Dynamic")
    assert {a.industry for a in imported} <= {
        "technology", "healthcare", "retail", "software", "media", "agency", "finance",
        "telecom", "services",
    }  # fmt: skip
    assert imported.get(name="Bioholding").country.code == "PH"  # "Philipines"

    again = run_import(
        book.owner,
        content,
        name="accounts.csv",
        extra={"revenue": "annual_revenue_millions"},
        defaults={"currency": "USD"},
    )
    assert counts(again) == (0, 0, 85, 0)
