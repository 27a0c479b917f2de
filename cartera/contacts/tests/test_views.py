"""Contact pages: list, export, detail, forms, trash, and the account autocomplete."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cartera.activities.services import log_interaction
from cartera.contacts.models import Contact
from cartera.contacts.services import create_contact, trash_contact, update_contact
from cartera.core.testing import EXPECTED_ACCESS, Book, read_status, write_status

PERSONAS = list(EXPECTED_ACCESS)
HTMX = {"HX-Request": "true"}


def contact_data(book: Book, **changes: Any) -> dict[str, Any]:
    """A valid contact form submission for the book's account."""
    data: dict[str, Any] = {
        "first_name": "Lucía",
        "last_name": "Gómez",
        "job_title": "Head of Logistics",
        "email": "lucia@munoz.example",
        "secondary_email": "",
        "phone": "+34 912 345 678",
        "mobile": "",
        "buying_role": "decision_maker",
        "preferred_channel": "phone",
        "report_preference": "detailed",
        "special_requests": "Calls after 10:00 only.",
        "accounts": [book.account.pk],
    }
    data.update(changes)
    return data


def snapshot(contact: Contact) -> tuple[Any, ...]:
    """The contact's saved state, to prove a refused write changed nothing."""
    fresh = Contact.objects.get(pk=contact.pk)
    links = sorted(fresh.account_links.values_list("account_id", flat=True))
    return (fresh.first_name, fresh.email, fresh.version, fresh.deleted_at, tuple(links))


# Who sees and changes what


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_detail_follows_the_access_rule(client: Client, book: Book, persona: str) -> None:
    client.force_login(book.persona(persona))
    response = client.get(reverse("contacts:detail", args=[book.contact.pk]))
    assert response.status_code == read_status(persona)


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_edit_page_follows_the_access_rule(
    client: Client, book: Book, persona: str
) -> None:
    client.force_login(book.persona(persona))
    response = client.get(reverse("contacts:edit", args=[book.contact.pk]))
    assert response.status_code == write_status(persona)


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_edit_post_follows_the_access_rule(
    client: Client, book: Book, persona: str
) -> None:
    before = snapshot(book.contact)
    client.force_login(book.persona(persona))
    data = contact_data(book, first_name="Changed", version=book.contact.version)
    response = client.post(reverse("contacts:edit", args=[book.contact.pk]), data)
    expected = write_status(persona)
    if expected == 200:
        assert response.status_code == 302
        assert Contact.objects.get(pk=book.contact.pk).first_name == "Changed"
    else:
        assert response.status_code == expected
        assert snapshot(book.contact) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_trash_follows_the_access_rule(client: Client, book: Book, persona: str) -> None:
    before = snapshot(book.contact)
    client.force_login(book.persona(persona))
    response = client.post(
        reverse("contacts:trash", args=[book.contact.pk]), {"version": book.contact.version}
    )
    expected = write_status(persona)
    if expected == 200:
        assert response.status_code == 302
        assert Contact.objects.get(pk=book.contact.pk).is_deleted
    else:
        assert response.status_code == expected
        assert snapshot(book.contact) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_create_follows_the_access_rule(client: Client, book: Book, persona: str) -> None:
    client.force_login(book.persona(persona))
    count = Contact.objects.count()
    response = client.post(reverse("contacts:create"), contact_data(book))
    expected = write_status(persona)
    if expected == 200:
        assert response.status_code == 302
        assert Contact.objects.count() == count + 1
    elif persona == "outsider":
        # The outsider may create contacts, just not at an account they cannot see.
        assert response.status_code == 422
        assert "accounts" in response.context["form"].errors
        assert Contact.objects.count() == count
    else:
        assert response.status_code == expected
        assert Contact.objects.count() == count


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_list_and_export_follow_the_access_rule(
    client: Client, book: Book, persona: str
) -> None:
    client.force_login(book.persona(persona))
    can_see, _can_write = EXPECTED_ACCESS[persona]
    listing = client.get(reverse("contacts:list"))
    assert listing.status_code == 200
    assert (book.contact in listing.context["page"].items) is can_see
    export = client.get(reverse("contacts:export"))
    assert export.status_code == 200
    assert ("Pérez" in b"".join(export.streaming_content).decode()) is can_see


def test_read_only_cannot_open_the_new_contact_form(client: Client, book: Book) -> None:
    client.force_login(book.read_only)
    assert client.get(reverse("contacts:create")).status_code == 403


def test_trashed_contact_is_restored_from_its_page(client: Client, book: Book) -> None:
    trash_contact(actor=book.owner, contact=book.contact, expected_version=book.contact.version)
    client.force_login(book.teammate)
    page = client.get(reverse("contacts:detail", args=[book.contact.pk]))
    assert page.status_code == 200
    assert "This contact is in the trash." in page.content.decode()
    response = client.post(reverse("contacts:restore", args=[book.contact.pk]))
    assert response.status_code == 302
    assert not Contact.objects.get(pk=book.contact.pk).is_deleted


def test_outsider_cannot_restore_a_contact(client: Client, book: Book) -> None:
    trash_contact(actor=book.owner, contact=book.contact, expected_version=book.contact.version)
    client.force_login(book.outsider)
    assert client.post(reverse("contacts:restore", args=[book.contact.pk])).status_code == 404
    assert Contact.objects.get(pk=book.contact.pk).is_deleted


# The list, its filters and the export


def test_contact_list_filters_by_search_role_and_account(client: Client, book: Book) -> None:
    other = create_contact(
        actor=book.owner,
        data={"first_name": "Ana", "buying_role": "gatekeeper", "accounts": [book.account.pk]},
    )
    client.force_login(book.owner)
    by_name = client.get(reverse("contacts:list"), {"q": "perez"}).context["page"].items
    assert by_name == [book.contact]
    by_role = client.get(reverse("contacts:list"), {"buying_role": "gatekeeper"})
    assert by_role.context["page"].items == [other]
    by_account = client.get(reverse("contacts:list"), {"account": book.account.pk})
    assert set(by_account.context["page"].items) == {book.contact, other}
    assert "Contacts at Muñoz Logística" in by_account.content.decode()


def test_contact_list_filters_do_not_contact(client: Client, book: Book) -> None:
    blocked = create_contact(
        actor=book.owner,
        data={"first_name": "Nadie", "do_not_contact": True, "accounts": [book.account.pk]},
    )
    client.force_login(book.owner)
    response = client.get(reverse("contacts:list"), {"do_not_contact": "true"})
    assert response.context["page"].items == [blocked]
    assert "Do not contact" in response.content.decode()


def test_contact_list_sorts_and_pages_with_cursors(client: Client, book: Book) -> None:
    for name in ["Zoe", "Bea", "Carla"]:
        create_contact(actor=book.owner, data={"first_name": name, "accounts": [book.account.pk]})
    client.force_login(book.owner)
    first = client.get(reverse("contacts:list"), {"sort": "-name", "limit": 2})
    names = [c.first_name for c in first.context["page"].items]
    assert names == ["Zoe", "José", "Carla", "Bea"]  # the page size is the view's, not ?limit
    assert first.context["page"].next_cursor is None


def test_contact_list_htmx_gets_only_the_results(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("contacts:list"), {"q": "jose"}, headers=HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert "José Pérez" in content


@pytest.mark.parametrize(
    "query",
    [{"buying_role": "emperor"}, {"sort": "salary"}, {"cursor": "garbage"}, {"bogus": "1"}],
)
def test_contact_list_explains_bad_filters(
    client: Client, book: Book, query: dict[str, str]
) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("contacts:list"), query)
    assert response.status_code == 400
    assert "Some filters are not valid" in response.content.decode()


def test_export_is_exactly_the_filtered_contacts_with_safe_cells(
    client: Client, book: Book
) -> None:
    create_contact(
        actor=book.owner,
        data={"first_name": "=HYPERLINK(1)", "last_name": "Evil", "accounts": [book.account.pk]},
    )
    create_contact(actor=book.owner, data={"first_name": "Other", "accounts": [book.account.pk]})
    client.force_login(book.owner)
    response = client.get(reverse("contacts:export"), {"q": "evil"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["First name", "Last name"]
    assert len(rows) == 2
    assert rows[1][0] == "'=HYPERLINK(1)"
    assert rows[1][11] == "Muñoz Logística"


def test_export_refuses_bad_filters(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    assert client.get(reverse("contacts:export"), {"sort": "nope"}).status_code == 400


def _make_contacts(book: Book, rows: int) -> None:
    for number in range(rows - 1):  # the book already has one
        create_contact(
            actor=book.owner,
            data={"first_name": f"Person {number}", "accounts": [book.account.pk]},
        )


@pytest.mark.parametrize("rows", [2, 50])
def test_contact_list_query_count_does_not_grow(
    client: Client, book: Book, django_assert_num_queries: Any, rows: int
) -> None:
    _make_contacts(book, rows)
    client.force_login(book.owner)
    # session, user, one page of contacts, their visible account links with the accounts
    with django_assert_num_queries(4):
        response = client.get(reverse("contacts:list"))
    assert len(response.context["page"].items) == rows


@pytest.mark.parametrize("rows", [2, 50])
def test_contact_export_query_count_does_not_grow(
    client: Client, book: Book, django_assert_num_queries: Any, rows: int
) -> None:
    _make_contacts(book, rows)
    client.force_login(book.owner)
    # session, user, the contacts (one chunk), their visible account links with the accounts
    with django_assert_num_queries(4):
        response = client.get(reverse("contacts:export"))
        lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == rows + 1


# Creating and editing


def test_new_contact_can_be_pre_linked_to_an_account(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("contacts:create"), {"account": book.account.pk})
    assert response.status_code == 200
    assert response.context["chosen_accounts"] == [book.account]
    assert f'name="accounts" value="{book.account.pk}"' in response.content.decode()


def test_new_contact_cannot_be_pre_linked_to_an_unseen_account(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("contacts:create"), {"account": book.outsider_account.pk})
    assert response.status_code == 404


def test_create_contact_links_accounts_primary_first(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.post(reverse("contacts:create"), contact_data(book))
    contact = Contact.objects.get(email="lucia@munoz.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", args=[contact.pk])
    assert contact.account_links.get().is_primary
    assert contact.phone.as_e164 == "+34912345678"
    page = client.get(response["Location"]).content.decode()
    assert 'href="tel:+34912345678"' in page
    assert "+34 912 34 56 78" in page
    assert 'href="mailto:lucia@munoz.example"' in page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"first_name": "Lu\x00cía"}, "first_name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"buying_role": "emperor"}, "buying_role"),
        ({"special_requests": "x" * 5001}, "special_requests"),
        ({"accounts": []}, "accounts"),
        ({"accounts": ["abc"]}, "accounts"),
        ({"accounts": ["999999"]}, "accounts"),
    ],
)
def test_create_contact_refuses_bad_input_and_saves_nothing(
    client: Client, book: Book, changes: dict[str, Any], field: str
) -> None:
    client.force_login(book.owner)
    count = Contact.objects.count()
    response = client.post(reverse("contacts:create"), contact_data(book, **changes))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert Contact.objects.count() == count


def test_create_contact_at_an_unseen_account_is_refused(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    count = Contact.objects.count()
    data = contact_data(book, accounts=[book.account.pk, book.outsider_account.pk])
    response = client.post(reverse("contacts:create"), data)
    assert response.status_code == 422
    assert response.context["form"].errors["accounts"] == ["Choose accounts you can see."]
    assert Contact.objects.count() == count
    # The account the user can see stays picked; the unseen one is not even named.
    assert response.context["chosen_accounts"] == [book.account]
    assert "Nordic Fisk" not in response.content.decode()


def test_hostile_text_is_rendered_escaped(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    hostile = "<script>alert(1)</script>"
    client.post(
        reverse("contacts:create"),
        contact_data(book, first_name=hostile, special_requests=hostile),
    )
    contact = Contact.objects.get(email="lucia@munoz.example")
    for url in [reverse("contacts:detail", args=[contact.pk]), reverse("contacts:list")]:
        content = client.get(url).content.decode()
        assert hostile not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_stale_edit_is_refused_with_the_input_kept(client: Client, book: Book) -> None:
    stale_version = book.contact.version
    update_contact(
        actor=book.teammate,
        contact=book.contact,
        changes={"job_title": "CFO"},
        expected_version=stale_version,
    )
    client.force_login(book.owner)
    data = contact_data(book, first_name="Mine", version=stale_version)
    response = client.post(reverse("contacts:edit", args=[book.contact.pk]), data)
    assert response.status_code == 412
    content = response.content.decode()
    assert "Someone else changed this record since you opened it." in content
    assert 'value="Mine"' in content
    saved = Contact.objects.get(pk=book.contact.pk)
    assert (saved.first_name, saved.job_title) == ("José", "CFO")


def test_edit_replaces_visible_accounts_and_keeps_the_version_moving(
    client: Client, book: Book
) -> None:
    client.force_login(book.owner)
    data = contact_data(book, first_name="José", version=book.contact.version)
    response = client.post(reverse("contacts:edit", args=[book.contact.pk]), data)
    assert response.status_code == 302
    saved = Contact.objects.get(pk=book.contact.pk)
    assert saved.version == book.contact.version + 1
    assert saved.job_title == "Head of Logistics"


def test_trash_needs_the_version(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.post(reverse("contacts:trash", args=[book.contact.pk]))
    assert response.status_code == 400
    assert not Contact.objects.get(pk=book.contact.pk).is_deleted


def test_stale_trash_is_refused(client: Client, book: Book) -> None:
    stale_version = book.contact.version
    update_contact(
        actor=book.teammate,
        contact=book.contact,
        changes={"job_title": "CFO"},
        expected_version=stale_version,
    )
    client.force_login(book.owner)
    response = client.post(
        reverse("contacts:trash", args=[book.contact.pk]), {"version": stale_version}
    )
    assert response.status_code == 412
    assert not Contact.objects.get(pk=book.contact.pk).is_deleted


# Detail: timeline and history


def test_detail_shows_timeline_history_and_accounts(client: Client, book: Book) -> None:
    update_contact(
        actor=book.teammate,
        contact=book.contact,
        changes={"job_title": "CFO"},
        expected_version=book.contact.version,
    )
    client.force_login(book.owner)
    response = client.get(reverse("contacts:detail", args=[book.contact.pk]))
    content = response.content.decode()
    assert "Kick-off call" in content
    assert reverse("accounts:detail", args=[book.account.pk]) in content
    history = response.context["history"]
    change = next(row for row in history if row["entry"].action == 1)
    assert change["entry"].actor == book.teammate
    assert change["changes"] == [{"field": "job title", "before": "", "after": "CFO"}]
    assert "Tomás Teammate" in content
    assert "CFO" in content
    # Bookkeeping columns and raw Python values never reach the page.
    assert "None →" not in content
    assert ">True<" not in content


def test_detail_warns_about_do_not_contact(client: Client, book: Book) -> None:
    update_contact(
        actor=book.owner,
        contact=book.contact,
        changes={"do_not_contact": True},
        expected_version=book.contact.version,
    )
    client.force_login(book.owner)
    content = client.get(reverse("contacts:detail", args=[book.contact.pk])).content.decode()
    assert "This person asked not to be contacted" in content


def test_contact_timeline_loads_more_in_pages(client: Client, book: Book) -> None:
    for number in range(25):
        log_interaction(
            actor=book.owner,
            account=book.account,
            data={"kind": "note", "subject": f"Note {number}", "contact": book.contact.pk},
        )
    client.force_login(book.owner)
    first = client.get(reverse("contacts:detail", args=[book.contact.pk]))
    assert len(first.context["page"].items) == 20
    more_url = first.context["more_url"]
    assert more_url.startswith(reverse("contacts:timeline", args=[book.contact.pk]))
    second = client.get(more_url, headers=HTMX)
    assert len(second.context["page"].items) == 6
    assert second.context["more_url"] is None
    assert "<html" not in second.content.decode()


def test_outsider_cannot_load_a_contacts_timeline(client: Client, book: Book) -> None:
    client.force_login(book.outsider)
    response = client.get(reverse("contacts:timeline", args=[book.contact.pk]))
    assert response.status_code == 404


# The account autocomplete


def test_account_options_offer_only_visible_matches(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("contacts:account_options"), {"q": "munoz"})
    assert response.context["accounts"] == [book.account]
    assert f'data-pick="{book.account.pk}"' in response.content.decode()
    hidden = client.get(reverse("contacts:account_options"), {"q": "nordic"})
    assert hidden.context["accounts"] == []


def test_account_options_without_a_query_list_nothing(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("contacts:account_options"))
    assert response.context["accounts"] == []
