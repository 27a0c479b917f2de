"""Account pages: who may see and do what, bad input, export, query counts, language."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from cartera.accounts.models import Account, AccountTeamMember
from cartera.accounts.services import (
    create_account,
    set_team_member,
    trash_account,
    update_account,
)
from cartera.core.testing import EXPECTED_ACCESS, PERSONAS, Book, fresh
from cartera.users.models import User

READ_PAGES = ["accounts:detail", "accounts:history", "accounts:contacts", "accounts:team"]


def _logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def _form_data(account: Account, **overrides: Any) -> dict[str, Any]:
    """What the edit form posts back for ``account`` unchanged, plus ``overrides``."""
    data: dict[str, Any] = {
        "name": account.name,
        "legal_name": account.legal_name,
        "tax_id": account.tax_id,
        "status": account.status,
        "tier": account.tier,
        "industry": account.industry,
        "size": account.size,
        "website": account.website,
        "email": account.email,
        "phone": str(account.phone or ""),
        "street": account.street,
        "city": account.city,
        "postal_code": account.postal_code,
        "region": account.region,
        "country": account.country.code or "",
        "annual_revenue": "" if account.annual_revenue is None else str(account.annual_revenue),
        "currency": account.currency,
        "description": account.description,
        "owner": account.owner_id,
        "parent": account.parent_id or "",
        "tags": ", ".join(tag.name for tag in account.tags.all()),
        "version": account.version,
    }
    if account.is_key_account:
        data["is_key_account"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _new_account_data(user: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Acme Ibérica",
        "status": "prospect",
        "tier": "b",
        "currency": "EUR",
        "owner": user.pk,
        "country": "ES",
        "tags": "retail, spain",
    }
    data.update(overrides)
    return data


def _stored(account: Account) -> Account:
    return Account.objects.get(pk=account.pk)


def _make_accounts(owner: User, count: int, **data: Any) -> list[Account]:
    return [
        create_account(actor=owner, data={"name": f"Extra {index:03d}", "tags": ["bulk"], **data})
        for index in range(count)
    ]


# --- Permission matrix -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", READ_PAGES)
def test_read_pages_follow_visibility(client: Client, book: Book, persona: str, page: str) -> None:
    can_see, _ = EXPECTED_ACCESS[persona]
    response = _logged_in(client, book.persona(persona)).get(reverse(page, args=[book.account.pk]))
    assert response.status_code == (200 if can_see else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_edit_page_needs_write_access(client: Client, book: Book, persona: str) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    response = _logged_in(client, book.persona(persona)).get(
        reverse("accounts:edit", args=[book.account.pk])
    )
    assert response.status_code == (200 if can_write else 403 if can_see else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_page_is_refused_to_read_only(client: Client, book: Book, persona: str) -> None:
    response = _logged_in(client, book.persona(persona)).get(reverse("accounts:create"))
    assert response.status_code == (403 if persona == "read_only" else 200)


@pytest.mark.parametrize("persona", PERSONAS)
def test_create_post_follows_write_access(client: Client, book: Book, persona: str) -> None:
    user = book.persona(persona)
    before = Account.objects.count()
    response = _logged_in(client, user).post(reverse("accounts:create"), _new_account_data(user))
    if persona == "read_only":
        assert response.status_code == 403
        assert Account.objects.count() == before
        return
    assert response.status_code == 302
    created = Account.objects.get(name="Acme Ibérica")
    assert response["Location"] == reverse("accounts:detail", args=[created.pk])
    assert created.owner == user
    assert sorted(tag.name for tag in created.tags.all()) == ["retail", "spain"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_edit_post_follows_access_and_denied_edits_change_nothing(
    client: Client, book: Book, persona: str
) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    account = _stored(book.account)
    response = _logged_in(client, book.persona(persona)).post(
        reverse("accounts:edit", args=[account.pk]), _form_data(account, city="Sevilla")
    )
    stored = _stored(account)
    if can_write:
        assert response.status_code == 302
        assert stored.city == "Sevilla"
        assert stored.version == account.version + 1
        assert stored.owner_id == book.owner.pk
    else:
        assert response.status_code == (403 if can_see else 404)
        assert (stored.city, stored.version) == ("", account.version)


@pytest.mark.parametrize("persona", PERSONAS)
def test_trash_follows_access(client: Client, book: Book, persona: str) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    account = _stored(book.account)
    response = _logged_in(client, book.persona(persona)).post(
        reverse("accounts:trash_account", args=[account.pk]), {"version": account.version}
    )
    stored = _stored(account)
    if can_write:
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:list")
        assert stored.deleted_at is not None
    else:
        assert response.status_code == (403 if can_see else 404)
        assert (stored.deleted_at, stored.version) == (None, account.version)


def test_trash_with_stale_version_keeps_the_account(client: Client, book: Book) -> None:
    account = _stored(book.account)
    update_account(
        actor=book.teammate, account=account, changes={"city": "Vigo"}, expected_version=1
    )
    response = _logged_in(client, book.owner).post(
        reverse("accounts:trash_account", args=[account.pk]), {"version": 1}, follow=True
    )
    assert response.status_code == 200
    assert "Someone else changed this account" in response.content.decode()
    assert _stored(account).deleted_at is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_restore_follows_access(client: Client, book: Book, persona: str) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    trash_account(actor=book.owner, account=book.account, expected_version=None)
    response = _logged_in(client, book.persona(persona)).post(
        reverse("accounts:restore", args=[book.account.pk])
    )
    stored = _stored(book.account)
    if can_write:
        assert response.status_code == 302
        assert stored.deleted_at is None
    else:
        assert response.status_code == (403 if can_see else 404)
        assert stored.deleted_at is not None


@pytest.mark.parametrize("persona", PERSONAS)
def test_trash_page_lists_only_visible_trashed_accounts(
    client: Client, book: Book, persona: str
) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    trash_account(actor=book.owner, account=book.account, expected_version=None)
    response = _logged_in(client, book.persona(persona)).get(reverse("accounts:trash"))
    assert response.status_code == 200
    body = response.content.decode()
    assert ("Muñoz Logística" in body) is can_see
    restore_url = reverse("accounts:restore", args=[book.account.pk])
    assert (restore_url in body) is (can_see and can_write)


@pytest.mark.parametrize("persona", PERSONAS)
def test_team_add_follows_access(client: Client, book: Book, persona: str) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    user = book.persona(persona)
    response = _logged_in(client, user).post(
        reverse("accounts:team", args=[book.account.pk]), {"user": user.pk, "role": "kam"}
    )
    member = AccountTeamMember.objects.filter(account=book.account, user=user).first()
    if can_write:
        assert response.status_code == 302
        assert member is not None and member.role == "kam"
    else:
        assert response.status_code == (403 if can_see else 404)
        assert member is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_team_remove_follows_access(client: Client, book: Book, persona: str) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    response = _logged_in(client, book.persona(persona)).post(
        reverse("accounts:team_remove", args=[book.account.pk]), {"user": book.teammate.pk}
    )
    still_there = AccountTeamMember.objects.filter(
        account=book.account, user=book.teammate
    ).exists()
    if can_write:
        assert response.status_code == 302
        assert not still_there
    else:
        assert response.status_code == (403 if can_see else 404)
        assert still_there


def test_team_change_by_htmx_returns_the_team_partial(client: Client, book: Book) -> None:
    response = _logged_in(client, book.owner).post(
        reverse("accounts:team", args=[book.account.pk]),
        {"user": book.owner.pk, "role": "executive"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="account-team">')
    assert "Account executive / manager" in body
    assert AccountTeamMember.objects.get(account=book.account, user=book.owner).role == "executive"


def test_team_add_refuses_people_outside_reach(client: Client, book: Book) -> None:
    # A coordinator may only assign themselves: the outsider is not among the choices.
    response = _logged_in(client, book.teammate).post(
        reverse("accounts:team", args=[book.account.pk]),
        {"user": book.outsider.pk, "role": "kam"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not AccountTeamMember.objects.filter(user=book.outsider).exists()


def test_pages_need_sign_in(client: Client, book: Book) -> None:
    for url in [
        reverse("accounts:list"),
        reverse("accounts:create"),
        reverse("accounts:export"),
        reverse("accounts:trash"),
        reverse("accounts:detail", args=[book.account.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- The outsider never sees the account -----------------------------------------------------


def test_outsider_never_sees_the_account_in_list_search_export_or_autocomplete(
    client: Client, book: Book
) -> None:
    _logged_in(client, book.outsider)
    pages = [
        client.get(reverse("accounts:list")),
        client.get(reverse("accounts:list"), {"q": "munoz"}),
        client.get(reverse("search:results"), {"q": "munoz"}),
        client.get(reverse("search:results"), {"q": "munoz"}, HTTP_HX_REQUEST="true"),
        client.get(reverse("accounts:autocomplete"), {"q": "munoz"}),
    ]
    for response in pages:
        assert response.status_code == 200
        assert "Muñoz" not in response.content.decode()
    export = _csv_rows(client.get(reverse("accounts:export")))
    assert [row[0] for row in export[1:]] == ["Nordic Fisk AB"]


# --- List ----------------------------------------------------------------------------------


def test_list_shows_visible_accounts_with_their_columns(client: Client, book: Book) -> None:
    update_account(
        actor=book.owner,
        account=book.account,
        changes={"is_key_account": True, "industry": "logistics", "city": "Bilbao"},
        expected_version=book.account.version,
    )
    response = _logged_in(client, book.manager).get(reverse("accounts:list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-shortcut="new"' in body
    for text in ["Muñoz Logística", "Active", "Tier A", "Olga Owner", "Transport and logistics"]:
        assert text in body
    assert "Spain" in body and "Bilbao" in body and "bi-star-fill" in body
    assert "Nordic Fisk AB" not in body


def test_list_filters_are_applied_and_kept_in_the_page(client: Client, book: Book) -> None:
    create_account(actor=book.owner, data={"name": "Prospecto Uno", "status": "prospect"})
    response = _logged_in(client, book.owner).get(
        reverse("accounts:list"), {"status": "prospect", "q": "uno"}
    )
    body = response.content.decode()
    assert "Prospecto Uno" in body
    assert "Muñoz Logística" not in body
    assert 'value="prospect" id="status-prospect" autocomplete="off" checked' in body
    assert "export/?status=prospect&amp;q=uno" in body


def test_list_htmx_request_gets_only_the_table(client: Client, book: Book) -> None:
    response = _logged_in(client, book.owner).get(
        reverse("accounts:list"), {"tier": "a"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "account-filters" in body
    assert "Muñoz Logística" in body


def test_list_sorts_by_clicked_column_and_pages_with_cursors(client: Client, book: Book) -> None:
    _make_accounts(book.owner, 3)
    _logged_in(client, book.owner)
    page = client.get(reverse("accounts:list"), {"sort": "-name"}).context["page"]
    assert [a.name for a in page.items] == [
        "Muñoz Logística",
        "Extra 002",
        "Extra 001",
        "Extra 000",
    ]
    body = client.get(reverse("accounts:list"), {"sort": "name"}).content.decode()
    assert "?sort=-name" in body  # clicking Name again reverses the order


def test_list_next_and_previous_links_walk_the_pages(client: Client, book: Book) -> None:
    _make_accounts(book.owner, 55)
    _logged_in(client, book.owner)
    first = client.get(reverse("accounts:list"))
    assert len(first.context["page"].items) == 50
    cursor = first.context["page"].next_cursor
    assert f"cursor={cursor}" in first.content.decode()
    second = client.get(reverse("accounts:list"), {"cursor": cursor})
    assert [a.name for a in second.context["page"].items] == [
        "Extra 050",
        "Extra 051",
        "Extra 052",
        "Extra 053",
        "Extra 054",
        "Muñoz Logística",
    ]
    assert second.context["page"].next_cursor is None
    back = client.get(reverse("accounts:list"), {"cursor": second.context["page"].previous_cursor})
    assert [a.pk for a in back.context["page"].items] == [a.pk for a in first.context["page"].items]


@pytest.mark.parametrize(
    "query",
    [{"status": "asleep"}, {"owner": "ana"}, {"sort": "password"}, {"cursor": "not-a-cursor"}],
)
def test_invalid_filter_shows_a_message_not_a_500(
    client: Client, book: Book, query: dict[str, str]
) -> None:
    response = _logged_in(client, book.owner).get(reverse("accounts:list"), query)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Some filters are not valid" in body
    assert next(iter(query)) in body


@pytest.mark.parametrize(
    "term", ['"', "%", "_", "' OR 1=1 --", "<script>alert(1)</script>", "ñ" * 300, "\\"]
)
def test_hostile_search_terms_render_fine(client: Client, book: Book, term: str) -> None:
    response = _logged_in(client, book.owner).get(reverse("accounts:list"), {"q": term})
    assert response.status_code in {200, 422}
    assert "<script>alert(1)</script>" not in response.content.decode()
    if len(term) <= 200:
        assert response.status_code == 200
        assert "Muñoz Logística" not in response.content.decode()


# --- Create and edit: bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "x" * 10_000, "at most 200 characters"),
        ("phone", "not a phone", "Enter a valid phone number"),
        ("website", "javascript:alert(1)", "Enter a valid URL."),
        ("email", "ana@", "Enter a valid email address."),
        ("currency", "XYZ", "three-letter ISO 4217 currency code"),
        ("city", "Bil\x00bao", "Null characters are not allowed."),
        ("owner", "999999", "Select a valid choice."),
        ("annual_revenue", "lots", "Enter a number."),
        ("country", "XX", "Select a valid choice."),
    ],
)
def test_create_with_bad_input_shows_field_error_and_saves_nothing(
    client: Client, book: Book, field: str, value: str, message: str
) -> None:
    before = Account.objects.count()
    response = _logged_in(client, book.owner).post(
        reverse("accounts:create"), _new_account_data(book.owner, **{field: value})
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    assert Account.objects.count() == before


def test_create_keeps_html_as_text_and_renders_it_escaped(client: Client, book: Book) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    _logged_in(client, book.owner).post(
        reverse("accounts:create"),
        _new_account_data(book.owner, name=hostile, description=f"<b>{hostile}</b>"),
    )
    account = Account.objects.get(name=hostile)
    assert account.description == f"<b>{hostile}</b>"
    body = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert hostile not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body


def test_create_with_a_parent_the_user_cannot_see_is_refused(client: Client, book: Book) -> None:
    response = _logged_in(client, book.owner).post(
        reverse("accounts:create"),
        _new_account_data(book.owner, parent=book.outsider_account.pk),
    )
    assert response.status_code == 422
    assert "Choose an account you can see." in response.content.decode()
    assert not Account.objects.filter(name="Acme Ibérica").exists()


def test_edit_parent_cannot_be_self_or_a_descendant(client: Client, book: Book) -> None:
    child = create_account(actor=book.owner, data={"name": "Hija", "parent": book.account.pk})
    _logged_in(client, book.owner)
    account = _stored(book.account)
    for parent in (account.pk, child.pk):
        response = client.post(
            reverse("accounts:edit", args=[account.pk]), _form_data(account, parent=parent)
        )
        assert response.status_code == 422
        assert "cannot be its own parent or ancestor" in response.content.decode()
        assert (_stored(account).parent_id, _stored(account).version) == (None, account.version)


def test_edit_with_a_stale_version_overwrites_nothing_and_keeps_the_input(
    client: Client, book: Book
) -> None:
    account = _stored(book.account)
    stale = _form_data(account, city="Vigo", legal_name="Mi cambio S.L.")
    update_account(
        actor=book.teammate, account=account, changes={"city": "Bilbao"}, expected_version=1
    )
    response = _logged_in(client, book.owner).post(
        reverse("accounts:edit", args=[account.pk]), stale
    )
    assert response.status_code == 412
    body = response.content.decode()
    assert "Someone else changed this account while you were editing it" in body
    assert 'value="Mi cambio S.L."' in body and 'value="Vigo"' in body
    stored = _stored(account)
    assert (stored.city, stored.legal_name, stored.version) == ("Bilbao", "", 2)


def test_teammate_edits_other_fields_without_touching_the_owner(client: Client, book: Book) -> None:
    # The owner is outside a coordinator's reach; unchanged, it must not block the edit.
    account = _stored(book.account)
    response = _logged_in(client, book.teammate).post(
        reverse("accounts:edit", args=[account.pk]), _form_data(account, tier="b")
    )
    assert response.status_code == 302
    stored = _stored(account)
    assert (stored.tier, stored.owner_id) == ("b", book.owner.pk)


def test_edit_saves_every_field_and_records_history(client: Client, book: Book) -> None:
    parent = create_account(actor=book.owner, data={"name": "Grupo Muñoz"})
    account = _stored(book.account)
    response = _logged_in(client, book.owner).post(
        reverse("accounts:edit", args=[account.pk]),
        _form_data(
            account,
            status="at_risk",
            phone="+34 911 234 567",
            website="www.munoz.example",
            annual_revenue="1234.50",
            parent=parent.pk,
            tags="logistics, iberia",
        ),
    )
    assert response.status_code == 302
    stored = _stored(account)
    assert stored.status == "at_risk"
    assert stored.phone.as_e164 == "+34911234567"
    assert stored.website == "https://www.munoz.example"
    assert stored.annual_revenue == Decimal("1234.50")
    assert stored.parent_id == parent.pk
    assert sorted(tag.name for tag in stored.tags.all()) == ["iberia", "logistics"]
    history = client.get(reverse("accounts:history", args=[account.pk])).content.decode()
    assert "Status</span>:" in history
    assert "Active</span> → <span>At risk</span>" in history
    assert "Parent account</span>:" in history and "Grupo Muñoz" in history


def test_history_does_not_name_accounts_the_user_cannot_see(client: Client, book: Book) -> None:
    secret = create_account(actor=book.director, data={"name": "Secreto SA"})
    update_account(
        actor=book.director,
        account=book.account,
        changes={"parent": secret.pk},
        expected_version=book.account.version,
    )
    body = (
        _logged_in(client, book.owner)
        .get(reverse("accounts:history", args=[book.account.pk]))
        .content.decode()
    )
    assert "Secreto SA" not in body
    assert f"#{secret.pk}" in body


def test_parent_autocomplete_finds_accent_insensitively(client: Client, book: Book) -> None:
    response = _logged_in(client, book.owner).get(
        reverse("accounts:autocomplete"), {"q": "MUNOZ", "exclude": "0"}
    )
    assert f'data-value="{book.account.pk}"' in response.content.decode()
    excluded = client.get(
        reverse("accounts:autocomplete"), {"q": "munoz", "exclude": str(book.account.pk)}
    )
    assert "Muñoz" not in excluded.content.decode()


# --- Detail ----------------------------------------------------------------------------------


def test_detail_shows_summary_contacts_team_and_timeline_contract(
    client: Client, book: Book
) -> None:
    update_account(
        actor=book.owner,
        account=book.account,
        changes={"website": "https://munoz.example", "phone": "+34911234567"},
        expected_version=book.account.version,
    )
    child = create_account(actor=book.owner, data={"name": "Muñoz Norte", "parent": book.account})
    _logged_in(client, book.owner)
    body = client.get(reverse("accounts:detail", args=[book.account.pk])).content.decode()
    assert 'rel="noopener noreferrer"' in body
    assert "+34 911 23 45 67" in body
    assert "Tomás Teammate" in body and "Account coordinator" in body
    assert reverse("accounts:detail", args=[child.pk]) in body
    assert f'hx-get="{reverse("activities:account_timeline", args=[book.account.pk])}"' in body
    assert reverse("accounts:edit", args=[book.account.pk]) in body
    contacts = client.get(reverse("accounts:contacts", args=[book.account.pk]), HTTP_HX_REQUEST="1")
    assert reverse("contacts:detail", args=[book.contact.pk]) in contacts.content.decode()
    assert "jose@munoz.example" in contacts.content.decode()


def test_read_only_sees_no_edit_or_trash_buttons(client: Client, book: Book) -> None:
    body = (
        _logged_in(client, book.read_only)
        .get(reverse("accounts:detail", args=[book.account.pk]))
        .content.decode()
    )
    assert "Muñoz Logística" in body
    assert reverse("accounts:edit", args=[book.account.pk]) not in body
    assert reverse("accounts:trash_account", args=[book.account.pk]) not in body


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999"])
def test_missing_account_gets_the_friendly_404(client: Client, book: Book, pk: str) -> None:
    response = _logged_in(client, book.owner).get(f"/accounts/{pk}/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


# --- CSV export ------------------------------------------------------------------------------


def _csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    return list(csv.reader(io.StringIO(raw[1:])))


def test_export_has_translated_header_and_exact_rows(client: Client, book: Book) -> None:
    update_account(
        actor=book.owner,
        account=book.account,
        changes={"annual_revenue": Decimal("1234.50"), "tags": ["norte"], "city": "Bilbao"},
        expected_version=book.account.version,
    )
    rows = _csv_rows(_logged_in(client, book.owner).get(reverse("accounts:export")))
    assert rows[0][:8] == [
        "Name",
        "Legal name",
        "Tax id",
        "Status",
        "Tier",
        "Key account",
        "Owner",
        "Industry",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Name"] == "Muñoz Logística"
    assert (row["Status"], row["Tier"], row["Key account"]) == ("Active", "Tier A", "No")
    assert (row["Owner"], row["Country"], row["City"]) == ("Olga Owner", "ES", "Bilbao")
    assert (row["Annual revenue"], row["Currency"], row["Tags"]) == ("1234.50", "EUR", "norte")


def test_export_neutralises_formulas_and_applies_filters(client: Client, book: Book) -> None:
    create_account(actor=book.owner, data={"name": '=HYPERLINK("http://evil")', "tier": "b"})
    create_account(actor=book.owner, data={"name": "@SUM(A1)", "tier": "b", "city": "-2+3"})
    _logged_in(client, book.owner)
    rows = _csv_rows(client.get(reverse("accounts:export"), {"tier": "b"}))
    assert [row[0] for row in rows[1:]] == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)"]
    assert rows[2][rows[0].index("City")] == "'-2+3"


def test_export_in_spanish_translates_the_header(client: Client, book: Book) -> None:
    owner = fresh(book.owner)
    owner.language = "es"
    owner.save(update_fields=["language"])
    rows = _csv_rows(_logged_in(client, owner).get(reverse("accounts:export")))
    assert rows[1][0] == "Muñoz Logística"
    assert len(rows[0]) == 24


def test_invalid_export_filter_is_a_400_not_a_500(client: Client, book: Book) -> None:
    response = _logged_in(client, book.owner).get(reverse("accounts:export"), {"tier": "z"})
    assert response.status_code == 400


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [1, 49])
def test_list_query_count_does_not_grow_with_rows(
    client: Client, book: Book, extra: int, django_assert_num_queries: Any
) -> None:
    _make_accounts(book.owner, extra)
    _logged_in(client, book.owner)
    # session, user, the page of accounts (owner and parent joined), their tags, the
    # assignable owners of the filter bar.
    with django_assert_num_queries(5):
        response = client.get(reverse("accounts:list"))
    assert len(response.context["page"].items) == extra + 1


@pytest.mark.parametrize("extra", [1, 49])
def test_trash_query_count_does_not_grow_with_rows(
    client: Client, book: Book, extra: int, django_assert_num_queries: Any
) -> None:
    for account in _make_accounts(book.owner, extra):
        trash_account(actor=book.owner, account=account, expected_version=None)
    _logged_in(client, book.owner)
    # session, user, the page of trashed accounts (owner and parent joined), their tags.
    with django_assert_num_queries(4):
        response = client.get(reverse("accounts:trash"))
    assert len(response.context["page"].items) == extra


@pytest.mark.parametrize("extra", [1, 49])
def test_export_query_count_does_not_grow_with_rows(
    client: Client, book: Book, extra: int, django_assert_num_queries: Any
) -> None:
    _make_accounts(book.owner, extra)
    _logged_in(client, book.owner)
    # session, user, the accounts (owner and parent joined), their tags (one chunk).
    with django_assert_num_queries(4):
        rows = _csv_rows(client.get(reverse("accounts:export")))
    assert len(rows) == extra + 2


@pytest.mark.parametrize("size", [1, 12])
def test_detail_query_count_does_not_grow_with_team_or_children(
    client: Client, book: Book, size: int, django_assert_num_queries: Any
) -> None:
    for index in range(size):
        person = User.objects.create_user(f"p{index}@example.com", full_name=f"Person {index}")
        set_team_member(actor=book.admin, account=book.account, user=person, role="kam")
        create_account(actor=book.owner, data={"name": f"Child {index}", "parent": book.account})
    _logged_in(client, book.owner)
    # session, user, the account (owner, parent, creator joined), its team with users, its
    # visible children, its tags, the assignable people of the team form.
    with django_assert_num_queries(7):
        response = client.get(reverse("accounts:detail", args=[book.account.pk]))
    assert len(response.context["account"].visible_children) == size


# --- Language --------------------------------------------------------------------------------


def test_spanish_user_gets_spanish_page_and_formats(client: Client, book: Book) -> None:
    update_account(
        actor=book.owner,
        account=book.account,
        changes={"annual_revenue": Decimal("1234.50")},
        expected_version=book.account.version,
    )
    owner = fresh(book.owner)
    owner.language = "es"
    owner.save(update_fields=["language"])
    body = (
        _logged_in(client, owner)
        .get(reverse("accounts:detail", args=[book.account.pk]))
        .content.decode()
    )
    assert '<html lang="es"' in body
    assert "1.234,50\xa0€" in body
    english = _logged_in(client, book.director).get(
        reverse("accounts:detail", args=[book.account.pk])
    )
    assert "€1,234.50" in english.content.decode()
