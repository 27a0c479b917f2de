"""Exporting the timeline: columns and types, plain-text details, filters, query counts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from cartera.accounts.services import create_account, trash_account
from cartera.activities import selectors
from cartera.activities.exports import html_to_text
from cartera.activities.models import Interaction
from cartera.activities.services import log_interaction
from cartera.core.testing import Book, fresh
from cartera.core.tests.test_export import as_dicts, read_csv, read_xlsx

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
MOMENT = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)


def _export(client: Client, fmt: str, **query: Any) -> list[list[Any]]:
    response = client.get(reverse("activities:export"), {**query, "format": fmt})
    return read_csv(response) if fmt == "csv" else read_xlsx(response)


def _meeting(book: Book) -> Interaction:
    interaction = log_interaction(
        actor=book.owner,
        account=book.account,
        data={
            "kind": "meeting",
            "direction": "inbound",
            "subject": "Revisión trimestral",
            "body": "<p>Hola &amp; adiós</p><ul><li>Uno</li><li>Dos</li></ul><p>Fin<br>línea</p>",
            "occurred_at": MOMENT,
            "duration_minutes": 45,
            "contact": book.contact.pk,
        },
    )
    Interaction.objects.filter(pk=interaction.pk).update(external_id="EV-9")
    return interaction


def _in_tokyo(book: Book) -> Any:
    owner = fresh(book.owner)
    owner.time_zone = "Asia/Tokyo"
    owner.save(update_fields=["time_zone"])
    return owner


def test_csv_has_every_column_newest_first(client: Client, book: Book) -> None:
    _meeting(book)
    client.force_login(_in_tokyo(book))
    rows = as_dicts(_export(client, "csv"))
    assert [row["Subject"] for row in rows] == ["Kick-off call", "Revisión trimestral"]
    assert rows[1] == {
        "When": "2026-03-02 18:15",  # 09:15 UTC on a Tokyo clock
        "Type": "Meeting",
        "Direction": "Inbound",
        "Subject": "Revisión trimestral",
        "Account": "Muñoz Logística",
        "Contact": "José Pérez",
        "Duration (minutes)": "45",
        "Logged by": "Olga Owner",
        "Details": "Hola & adiós\nUno\nDos\nFin\nlínea",
        "External id": "EV-9",
    }


def test_xlsx_has_typed_cells(client: Client, book: Book) -> None:
    _meeting(book)
    client.force_login(_in_tokyo(book))
    rows = _export(client, "xlsx", kind="meeting")
    assert rows[0] == _export(client, "csv")[0]
    row = as_dicts(rows)[0]
    assert row["When"] == dt.datetime(2026, 3, 2, 18, 15)
    assert row["Duration (minutes)"] == 45
    assert row["Details"].startswith("Hola & adiós\nUno")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("plain & simple", "plain & simple"),
        ("<p>a</p><p>b</p>", "a\nb"),
        ("<p>x &lt;y&gt;</p>", "x <y>"),
        ("<p>a</p><p></p><p></p><p></p><p>b</p>", "a\n\nb"),
        ("", ""),
    ],
)
def test_rich_text_details_become_plain_text(body: str, text: str) -> None:
    assert html_to_text(body) == text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_hostile_and_unicode_cells(client: Client, book: Book, fmt: str) -> None:
    log_interaction(
        actor=book.owner,
        account=book.account,
        data={"kind": "note", "subject": "@SUM(A1) 🚀", "body": "-2+3"},
    )
    log_interaction(
        actor=book.owner,
        account=book.account,
        data={"kind": "note", "subject": '=HYPERLINK("http://x","y")'},
    )
    client.force_login(book.owner)
    rows = as_dicts(_export(client, fmt, kind="note"))
    subjects = sorted(row["Subject"] for row in rows)
    assert subjects == ['\'=HYPERLINK("http://x","y")', "'@SUM(A1) 🚀"]
    assert "'-2+3" in [row["Details"] for row in rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_filters_apply(client: Client, book: Book, fmt: str) -> None:
    other = create_account(actor=book.owner, data={"name": "Otra"})
    log_interaction(actor=book.owner, account=other, data={"kind": "call", "subject": "Otra"})
    log_interaction(
        actor=book.owner, account=book.account, data={"kind": "email", "subject": "Correo"}
    )
    client.force_login(book.owner)
    calls = _export(client, fmt, kind="call")
    assert sorted(row[3] for row in calls[1:]) == ["Kick-off call", "Otra"]
    here = _export(client, fmt, kind="call,email", account=str(book.account.pk))
    assert sorted(row[3] for row in here[1:]) == ["Correo", "Kick-off call"]
    with_jose = _export(client, fmt, contact=str(book.contact.pk))
    assert [row[3] for row in with_jose[1:]] == ["Kick-off call"]


def test_interactions_of_trashed_accounts_are_not_exported(client: Client, book: Book) -> None:
    other = create_account(actor=book.owner, data={"name": "Doomed"})
    log_interaction(actor=book.owner, account=other, data={"kind": "call", "subject": "Gone"})
    trash_account(actor=book.owner, account=other, expected_version=other.version)
    client.force_login(book.owner)
    assert [row[3] for row in _export(client, "csv")[1:]] == ["Kick-off call"]


@pytest.mark.parametrize("query", [{"kind": "party"}, {"format": "ods"}, {"account": "0"}])
def test_bad_filters_or_format_are_a_400_page(client: Client, book: Book, query: dict) -> None:
    client.force_login(book.owner)
    assert client.get(reverse("activities:export"), query).status_code == 400


# --- query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("extra", [2, 25])
def test_queries_do_not_grow_with_rows(
    client: Client,
    book: Book,
    django_assert_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    extra: int,
) -> None:
    monkeypatch.setattr(selectors, "CHUNK_SIZE", 10)
    Interaction.objects.bulk_create(
        [
            Interaction(
                account=book.account,
                contact=book.contact,
                author=book.owner,
                kind="email",
                subject=f"Bulk {n}",
            )
            for n in range(extra)
        ]
    )
    client.force_login(book.owner)
    # session, user, the interactions with account, contact and author joined: one query
    # however many rows and chunks.
    with django_assert_num_queries(3):
        rows = _export(client, fmt)
    assert len(rows) == extra + 2
    assert {row["Logged by"] for row in as_dicts(rows)} == {"Olga Owner"}


# --- the timeline page's buttons --------------------------------------------------------------


def test_timeline_offers_both_formats_for_exactly_the_current_filters(
    client: Client, book: Book
) -> None:
    client.force_login(book.owner)
    body = client.get(reverse("activities:list"), {"kind": "call"}).content.decode()
    base = reverse("activities:export")
    assert f'href="{base}?kind=call"' in body
    assert f'href="{base}?kind=call&amp;format=xlsx"' in body
    htmx = client.get(reverse("activities:list"), {"kind": "email"}, HTTP_HX_REQUEST="true")
    assert f'href="{base}?kind=email&amp;format=xlsx"' in htmx.content.decode()


@pytest.mark.parametrize(("persona", "shown"), [("manager", True), ("read_only", False)])
def test_import_button_for_people_who_write(
    client: Client, book: Book, persona: str, shown: bool
) -> None:
    client.force_login(book.persona(persona))
    body = client.get(reverse("activities:list")).content.decode()
    try:
        target = f'href="{reverse("imports:new")}?kind=interactions"'
    except NoReverseMatch:  # the import pages are not installed yet: no dead button
        assert "?kind=interactions" not in body
        return
    assert (target in body) is shown
