"""Timeline pages: an account's timeline with quick-log, the full timeline, edits and deletes."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from cartera.accounts.services import create_account, update_account
from cartera.activities.models import Interaction, InteractionKind
from cartera.activities.services import log_interaction, update_interaction
from cartera.contacts.services import create_contact
from cartera.core.testing import EXPECTED_ACCESS, Book, read_status, write_status

PERSONAS = list(EXPECTED_ACCESS)
HTMX = {"HX-Request": "true"}


def edit_status(persona: str) -> int:
    """What a persona gets changing the book's interaction: only its author (the owner) and
    administrators may; others who see it get 403, the rest 404."""
    if not EXPECTED_ACCESS[persona][0]:
        return 404
    return 200 if persona in {"owner", "admin"} else 403


def quick_log(client: Client, book: Book, **data: Any) -> Any:
    """Post the quick-log form of the book's account the way htmx does."""
    payload = {"kind": "call", "subject": "Follow-up call", "body": "", **data}
    url = reverse("activities:quick_log", args=[book.account.pk])
    return client.post(url, payload, headers=HTMX)


def status_change(book: Book) -> Interaction:
    """A status change on the book's account, logged by the account service."""
    update_account(
        actor=book.owner,
        account=book.account,
        changes={"status": "at_risk"},
        expected_version=book.account.version,
    )
    return Interaction.objects.get(kind=InteractionKind.STATUS_CHANGE)


# The account timeline and its quick-log form


@pytest.mark.parametrize("persona", PERSONAS)
def test_account_timeline_follows_the_access_rule(client: Client, book: Book, persona: str) -> None:
    client.force_login(book.persona(persona))
    response = client.get(
        reverse("activities:account_timeline", args=[book.account.pk]), headers=HTMX
    )
    assert response.status_code == read_status(persona)
    if response.status_code == 200:
        content = response.content.decode()
        assert "Kick-off call" in content
        assert ("data-quick-log" in content) is EXPECTED_ACCESS[persona][1]


@pytest.mark.parametrize("persona", PERSONAS)
def test_quick_log_follows_the_access_rule(client: Client, book: Book, persona: str) -> None:
    client.force_login(book.persona(persona))
    count = Interaction.objects.count()
    response = quick_log(client, book)
    expected = write_status(persona)
    assert response.status_code == expected
    assert Interaction.objects.count() == count + (1 if expected == 200 else 0)


def test_quick_log_puts_the_new_entry_on_top_and_audits_it(client: Client, book: Book) -> None:
    client.force_login(book.teammate)
    response = quick_log(
        client, book, kind="meeting", subject="QBR with José", contact=book.contact.pk
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert '<div id="account-timeline">' in content
    assert content.index("QBR with José") < content.index("Kick-off call")
    created = Interaction.objects.get(subject="QBR with José")
    assert (created.kind, created.contact, created.author) == (
        "meeting",
        book.contact,
        book.teammate,
    )
    assert response.context["page"].items[0] == created
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Interaction),
        object_id=created.pk,
        action=LogEntry.Action.CREATE,
    )
    assert entry.actor == book.teammate
    # A fresh, empty form for the next entry.
    assert response.context["form"].is_bound is False


def test_quick_log_keeps_bold_and_strips_scripts(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    quick_log(client, book, body="<b>Renewal</b> agreed<script>alert(1)</script>")
    created = Interaction.objects.get(subject="Follow-up call")
    assert created.body == "<b>Renewal</b> agreed"
    content = client.get(
        reverse("activities:account_timeline", args=[book.account.pk]), headers=HTMX
    ).content.decode()
    assert "<b>Renewal</b> agreed" in content
    assert "<script>alert(1)</script>" not in content


def test_quick_log_subject_is_escaped(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = quick_log(client, book, subject="<img src=x onerror=alert(1)>")
    content = response.content.decode()
    assert "<img src=x" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "status_change"}, "kind"),
        ({"kind": "telepathy"}, "kind"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "Call\x00"}, "subject"),
        ({"body": "Hello\x00"}, "body"),
        ({"body": "x" * 50001}, "body"),
        ({"occurred_at": "yesterday-ish"}, "occurred_at"),
        ({"duration_minutes": "-5"}, "duration_minutes"),
        ({"contact": "abc"}, "contact"),
    ],
)
def test_quick_log_refuses_bad_input_with_field_errors(
    client: Client, book: Book, data: dict[str, str], field: str
) -> None:
    client.force_login(book.owner)
    count = Interaction.objects.count()
    response = quick_log(client, book, **data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert response["HX-Retarget"] == "#quick-log-form"
    assert 'id="quick-log-form"' in response.content.decode()
    assert Interaction.objects.count() == count


def test_quick_log_refuses_a_contact_of_another_account(client: Client, book: Book) -> None:
    other_account = create_account(actor=book.owner, data={"name": "Otra SL"})
    stranger = create_contact(
        actor=book.owner, data={"first_name": "Elsewhere", "accounts": [other_account.pk]}
    )
    client.force_login(book.owner)
    count = Interaction.objects.count()
    response = quick_log(client, book, contact=stranger.pk)
    assert response.status_code == 422
    assert "contact" in response.context["form"].errors
    assert Interaction.objects.count() == count


def test_quick_log_keeps_the_input_on_error(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = quick_log(client, book, subject="", body="My careful notes")
    assert "My careful notes" in response.content.decode()


def test_quick_log_without_htmx_goes_back_to_the_account(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    url = reverse("activities:quick_log", args=[book.account.pk])
    response = client.post(url, {"kind": "note", "subject": "Plain form"})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:detail", args=[book.account.pk])
    assert Interaction.objects.filter(subject="Plain form").exists()


def test_quick_log_is_a_post(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    url = reverse("activities:quick_log", args=[book.account.pk])
    assert client.get(url).status_code == 405


def test_quick_log_offers_only_the_accounts_contacts(client: Client, book: Book) -> None:
    other_account = create_account(actor=book.owner, data={"name": "Otra SL"})
    create_contact(
        actor=book.owner, data={"first_name": "Elsewhere", "accounts": [other_account.pk]}
    )
    client.force_login(book.owner)
    response = client.get(
        reverse("activities:account_timeline", args=[book.account.pk]), headers=HTMX
    )
    choices = dict(response.context["form"].fields["contact"].choices)
    assert list(choices)[1:] == [book.contact.pk]


def test_account_timeline_loads_more(client: Client, book: Book) -> None:
    for number in range(24):
        log_interaction(
            actor=book.owner, account=book.account, data={"kind": "note", "subject": f"N{number}"}
        )
    client.force_login(book.owner)
    url = reverse("activities:account_timeline", args=[book.account.pk])
    first = client.get(url, headers=HTMX)
    assert len(first.context["page"].items) == 20
    second = client.get(first.context["more_url"], headers=HTMX)
    content = second.content.decode()
    assert len(second.context["page"].items) == 5
    assert "data-quick-log" not in content
    assert "Kick-off call" in content


@pytest.mark.parametrize("rows", [2, 50])
def test_account_timeline_query_count_does_not_grow(
    client: Client, book: Book, django_assert_num_queries: Any, rows: int
) -> None:
    for number in range(rows - 1):  # the book already has one
        log_interaction(
            actor=book.owner,
            account=book.account,
            data={"kind": "call", "subject": f"Call {number}", "contact": book.contact.pk},
        )
    client.force_login(book.owner)
    url = reverse("activities:account_timeline", args=[book.account.pk])
    # session, user, the account, its contacts for the form, one page of entries with
    # author, contact and account
    with django_assert_num_queries(5):
        response = client.get(url, headers=HTMX)
    assert len(response.context["page"].items) == min(rows, 20)


# Every interaction


@pytest.mark.parametrize("persona", PERSONAS)
def test_interaction_list_shows_only_what_the_user_sees(
    client: Client, book: Book, persona: str
) -> None:
    client.force_login(book.persona(persona))
    response = client.get(reverse("activities:list"))
    assert response.status_code == 200
    assert (book.interaction in response.context["page"].items) is EXPECTED_ACCESS[persona][0]


def test_interaction_list_filters_by_kind(client: Client, book: Book) -> None:
    note = log_interaction(
        actor=book.owner, account=book.account, data={"kind": "note", "subject": "A note"}
    )
    client.force_login(book.owner)
    response = client.get(reverse("activities:list"), {"kind": "note"})
    assert response.context["page"].items == [note]
    partial = client.get(reverse("activities:list"), {"kind": "call"}, headers=HTMX)
    assert "<html" not in partial.content.decode()
    assert partial.context["page"].items == [book.interaction]


def test_interaction_list_explains_bad_filters(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    response = client.get(reverse("activities:list"), {"kind": "telepathy"})
    assert response.status_code == 400
    assert "Some filters are not valid" in response.content.decode()


@pytest.mark.parametrize("rows", [2, 50])
def test_interaction_list_query_count_does_not_grow(
    client: Client, book: Book, django_assert_num_queries: Any, rows: int
) -> None:
    for number in range(rows - 1):
        log_interaction(
            actor=book.owner,
            account=book.account,
            data={"kind": "email", "subject": f"Email {number}", "contact": book.contact.pk},
        )
    client.force_login(book.owner)
    # session, user, one page of entries with author, contact and account
    with django_assert_num_queries(3):
        response = client.get(reverse("activities:list"))
    assert len(response.context["page"].items) == min(rows, 20)


# Editing and deleting entries


@pytest.mark.parametrize("persona", PERSONAS)
def test_edit_follows_the_access_rule(client: Client, book: Book, persona: str) -> None:
    client.force_login(book.persona(persona))
    url = reverse("activities:edit", args=[book.interaction.pk])
    expected = edit_status(persona)
    assert client.get(url).status_code == expected
    response = client.post(
        url, {"kind": "call", "subject": "Renamed", "version": book.interaction.version}
    )
    saved = Interaction.objects.get(pk=book.interaction.pk)
    if expected == 200:
        assert response.status_code == 302
        assert saved.subject == "Renamed"
    else:
        assert response.status_code == expected
        assert (saved.subject, saved.version) == ("Kick-off call", book.interaction.version)


def test_edit_goes_back_to_a_safe_next_only(client: Client, book: Book) -> None:
    client.force_login(book.owner)
    url = reverse("activities:edit", args=[book.interaction.pk])
    data = {"kind": "call", "subject": "Renamed", "version": book.interaction.version}
    response = client.post(url, {**data, "next": "https://evil.example/"})
    assert response["Location"] == reverse("accounts:detail", args=[book.account.pk])
    data["version"] += 1
    response = client.post(url, {**data, "next": reverse("activities:list")})
    assert response["Location"] == reverse("activities:list")


def test_stale_edit_is_refused_with_the_input_kept(client: Client, book: Book) -> None:
    stale = book.interaction.version
    update_interaction(
        actor=book.admin,
        interaction=book.interaction,
        changes={"subject": "Theirs"},
        expected_version=stale,
    )
    client.force_login(book.owner)
    response = client.post(
        reverse("activities:edit", args=[book.interaction.pk]),
        {"kind": "call", "subject": "Mine", "version": stale},
    )
    assert response.status_code == 412
    assert 'value="Mine"' in response.content.decode()
    assert Interaction.objects.get(pk=book.interaction.pk).subject == "Theirs"


def test_status_changes_cannot_be_edited_or_deleted(client: Client, book: Book) -> None:
    change = status_change(book)
    client.force_login(book.owner)
    assert client.get(reverse("activities:edit", args=[change.pk])).status_code == 403
    response = client.post(
        reverse("activities:edit", args=[change.pk]),
        {"kind": "note", "subject": "Rewritten", "version": change.version},
    )
    assert response.status_code == 403
    response = client.post(
        reverse("activities:delete", args=[change.pk]), {"version": change.version}
    )
    assert response.status_code == 403
    assert Interaction.objects.get(pk=change.pk).subject == change.subject


def test_own_entries_offer_edit_and_delete(client: Client, book: Book) -> None:
    status_change(book)
    client.force_login(book.owner)
    response = client.get(
        reverse("activities:account_timeline", args=[book.account.pk]), headers=HTMX
    )
    content = response.content.decode()
    assert reverse("activities:edit", args=[book.interaction.pk]) in content
    change = Interaction.objects.get(kind=InteractionKind.STATUS_CHANGE)
    assert reverse("activities:edit", args=[change.pk]) not in content


@pytest.mark.parametrize("persona", PERSONAS)
def test_delete_follows_the_access_rule(client: Client, book: Book, persona: str) -> None:
    client.force_login(book.persona(persona))
    response = client.post(
        reverse("activities:delete", args=[book.interaction.pk]),
        {"version": book.interaction.version},
        headers=HTMX,
    )
    expected = edit_status(persona)
    assert response.status_code == expected
    exists = Interaction.objects.filter(pk=book.interaction.pk).exists()
    assert exists is (expected != 200)
    if expected == 200:
        assert response.content == b""


def test_stale_delete_is_refused(client: Client, book: Book) -> None:
    stale = book.interaction.version
    update_interaction(
        actor=book.admin,
        interaction=book.interaction,
        changes={"subject": "Theirs"},
        expected_version=stale,
    )
    client.force_login(book.owner)
    response = client.post(
        reverse("activities:delete", args=[book.interaction.pk]), {"version": stale}
    )
    assert response.status_code == 412
    assert Interaction.objects.filter(pk=book.interaction.pk).exists()


def test_quick_log_choice_lists_the_accounts_live_contacts(
    client: Client, book: Book, django_assert_max_num_queries: Any
) -> None:
    """The "with whom" choice: every live contact linked to the account, nothing else.

    It reads the account's links instead of testing each contact's visibility (the account was
    checked): the same contacts as the visibility rule gives, for everyone who sees the account.
    """
    from cartera.activities.views import _account_contacts
    from cartera.contacts.filters import ContactFilters
    from cartera.contacts.selectors import visible_contacts
    from cartera.contacts.services import trash_contact

    shared = create_contact(
        actor=book.admin,
        data={"first_name": "Ana", "last_name": "Shared", "accounts": [book.outsider_account.pk,
                                                                       book.account.pk]},
    )  # fmt: skip
    gone = create_contact(
        actor=book.admin,
        data={"first_name": "Gus", "last_name": "Gone", "accounts": [book.account.pk]},
    )
    trash_contact(actor=book.admin, contact=gone, expected_version=gone.version)
    elsewhere = create_contact(
        actor=book.admin,
        data={
            "first_name": "Eli",
            "last_name": "Elsewhere",
            "accounts": [book.outsider_account.pk],
        },
    )
    for persona in PERSONAS:
        user = book.persona(persona)
        if read_status(persona) != 200:
            continue
        with django_assert_max_num_queries(1):
            choices = _account_contacts(user, book.account)
        ids = [choice.pk for choice in choices]
        expected = list(
            ContactFilters(account=book.account.pk)
            .apply(visible_contacts(user))
            .order_by("name_key", "pk")
            .values_list("pk", flat=True)
        )
        assert ids == expected, persona
        assert shared.pk in ids and book.contact.pk in ids
        assert gone.pk not in ids and elsewhere.pk not in ids
    client.force_login(book.owner)
    response = client.get(
        reverse("activities:account_timeline", args=[book.account.pk]), headers=HTMX
    )
    assert "Ana Shared" in response.content.decode()
