"""The deal trash page: who sees which trashed deal, who trashed it, Restore, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from cartera.core.testing import EXPECTED_ACCESS, PERSONAS, Book, client_for, write_status
from cartera.sales import services
from cartera.sales.models import Opportunity, Pipeline

TRASH_URL = "/deals/trash/"


def trashed(actor: Any, deal: Opportunity) -> Opportunity:
    deal.refresh_from_db()
    return services.trash_opportunity(actor=actor, opportunity=deal, expected_version=deal.version)


def make_trashed(book: Book, count: int) -> list[Opportunity]:
    deals = [
        services.create_opportunity(
            actor=book.owner,
            data={"name": f"Old deal {index:03}", "account": book.account, "amount": "10"},
        )
        for index in range(count)
    ]
    return [trashed(book.owner, deal) for deal in deals]


def test_the_url_and_the_link_from_the_deal_list(book: Book, pipeline: Pipeline) -> None:
    assert reverse("sales:trash_list") == TRASH_URL
    html = client_for(book.owner).get(reverse("sales:list")).content.decode()
    assert f'href="{TRASH_URL}"' in html


@pytest.mark.parametrize("persona", PERSONAS)
def test_trash_page_lists_the_trashed_deals_each_persona_sees(
    book: Book, deal: Opportunity, persona: str
) -> None:
    can_see, can_write = EXPECTED_ACCESS[persona]
    trashed(book.owner, deal)
    response = client_for(book.persona(persona)).get(TRASH_URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert ("Fleet renewal" in body) is can_see
    restore_url = reverse("sales:restore", args=[deal.pk])
    assert (restore_url in body) is (can_see and can_write)


def test_a_rep_does_not_see_another_teams_trashed_deal(book: Book, pipeline: Pipeline) -> None:
    secret = services.create_opportunity(
        actor=book.outsider,
        data={"name": "Nordic secret", "account": book.outsider_account, "amount": "99"},
    )
    trashed(book.outsider, secret)
    assert "Nordic secret" not in client_for(book.owner).get(TRASH_URL).content.decode()
    assert "Nordic secret" in client_for(book.outsider).get(TRASH_URL).content.decode()
    # Nor can they restore it by its id: the same 404 as a deal that does not exist.
    response = client_for(book.owner).post(reverse("sales:restore", args=[secret.pk]))
    assert response.status_code == 404
    secret.refresh_from_db()
    assert secret.deleted_at is not None


def test_live_deals_are_not_in_the_trash(book: Book, deal: Opportunity) -> None:
    body = client_for(book.owner).get(TRASH_URL).content.decode()
    assert "Fleet renewal" not in body and "The trash is empty." in body


def test_the_page_says_who_trashed_each_deal_and_when(book: Book, deal: Opportunity) -> None:
    deal = trashed(book.teammate, deal)
    response = client_for(book.owner).get(TRASH_URL)
    [row] = response.context["page"].items
    assert row.pk == deal.pk and row.trashed_by == book.teammate
    assert row.deleted_at == deal.deleted_at
    body = response.content.decode()
    assert "Tomás Teammate" in body  # who, beside the owner's name
    assert "Olga Owner" in body


def test_trashed_again_shows_the_last_person(book: Book, deal: Opportunity) -> None:
    deal = trashed(book.owner, deal)
    services.restore_opportunity(actor=book.owner, opportunity=deal)
    trashed(book.teammate, deal)
    [row] = client_for(book.manager).get(TRASH_URL).context["page"].items
    assert row.trashed_by == book.teammate


def test_most_recently_trashed_first_and_search(book: Book, pipeline: Pipeline) -> None:
    first, second = make_trashed(book, 2)
    client = client_for(book.owner)
    items = client.get(TRASH_URL).context["page"].items
    assert [deal.pk for deal in items] == [second.pk, first.pk]
    items = client.get(TRASH_URL, {"q": "deal 000"}).context["page"].items
    assert [deal.pk for deal in items] == [first.pk]


def test_htmx_gets_only_the_results(book: Book, deal: Opportunity) -> None:
    trashed(book.owner, deal)
    response = client_for(book.owner).get(TRASH_URL, {"q": "fleet"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="deal-trash-table"' in body and "<html" not in body


def test_bad_filters_are_a_clear_422(book: Book, pipeline: Pipeline) -> None:
    response = client_for(book.owner).get(TRASH_URL, {"pipeline": "abc"})
    assert response.status_code == 422
    assert "pipeline" in response.content.decode()
    response = client_for(book.owner).get(TRASH_URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert "This page link is not valid." in response.content.decode()


def test_keyset_pages_walk_the_whole_trash(book: Book, pipeline: Pipeline) -> None:
    deals = make_trashed(book, 53)
    client = client_for(book.owner)
    first = client.get(TRASH_URL).context["page"]
    assert len(first.items) == 50 and first.next_cursor and not first.previous_cursor
    second = client.get(TRASH_URL, {"cursor": first.next_cursor}).context["page"]
    seen = [deal.pk for deal in [*first.items, *second.items]]
    assert seen == [deal.pk for deal in reversed(deals)]
    assert second.next_cursor is None and second.previous_cursor


@pytest.mark.parametrize("extra", [1, 30])
def test_trash_query_count_does_not_grow_with_rows(
    book: Book, pipeline: Pipeline, extra: int, django_assert_num_queries: Any
) -> None:
    make_trashed(book, extra)
    client = client_for(book.owner)
    client.get(TRASH_URL)  # warm caches (content types)
    # session, user, the accounts the owner sees (deal visibility), the page of trashed deals
    # (pipeline, stage, owner and account joined), who trashed them (audit entries with their
    # actors).
    with django_assert_num_queries(5) as queries:
        response = client.get(TRASH_URL)
    assert len(response.context["page"].items) == extra
    assert "auditlog_logentry" in queries.captured_queries[-1]["sql"]


# --- Restore ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_restore_follows_access(book: Book, deal: Opportunity, persona: str) -> None:
    trashed(book.owner, deal)
    response = client_for(book.persona(persona)).post(reverse("sales:restore", args=[deal.pk]))
    deal.refresh_from_db()
    if write_status(persona) == 200:
        assert response.status_code == 302
        assert response["Location"] == reverse("sales:detail", args=[deal.pk])
        assert deal.deleted_at is None
    else:
        assert response.status_code == write_status(persona)
        assert deal.deleted_at is not None


def test_restore_is_audited_and_says_so(book: Book, deal: Opportunity) -> None:
    deal = trashed(book.owner, deal)
    version = deal.version
    response = client_for(book.teammate).post(reverse("sales:restore", args=[deal.pk]), follow=True)
    assert response.status_code == 200
    assert "Deal “Fleet renewal” restored." in response.content.decode()
    deal.refresh_from_db()
    assert deal.deleted_at is None and deal.version == version + 1
    entry = (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Opportunity), object_id=deal.pk
        )
        .order_by("-timestamp", "-pk")
        .first()
    )
    assert entry is not None and entry.actor == book.teammate
    assert entry.changes["deleted_at"][1] == "None"
    # Back in the list, gone from the trash.
    client = client_for(book.owner)
    assert "Fleet renewal" in client.get(reverse("sales:list")).content.decode()
    assert client.get(TRASH_URL).context["page"].items == []


def test_restore_needs_post_and_a_trashed_deal(book: Book, deal: Opportunity) -> None:
    client = client_for(book.owner)
    assert client.get(reverse("sales:restore", args=[deal.pk])).status_code == 405
    # A deal that is not in the trash is not found there.
    assert client.post(reverse("sales:restore", args=[deal.pk])).status_code == 404


def test_restore_checks_the_csrf_token(book: Book, deal: Opportunity) -> None:
    trashed(book.owner, deal)
    client = client_for(book.owner, enforce_csrf_checks=True)
    assert client.post(reverse("sales:restore", args=[deal.pk])).status_code == 403
    deal.refresh_from_db()
    assert deal.deleted_at is not None


def test_trash_page_needs_sign_in(client: Any, pipeline: Pipeline) -> None:
    response = client.get(TRASH_URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
