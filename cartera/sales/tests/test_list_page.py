"""The deal list's visibility for people who own many accounts (``sales.list_page``): the same
deals as ``Opportunity.objects.visible_to``, never another team's."""

from __future__ import annotations

import pytest

from cartera.accounts.services import create_account, set_team_member, trash_account
from cartera.core.testing import PERSONAS, Book, fresh
from cartera.sales import list_page, selectors, services
from cartera.sales.filters import OpportunityFilters
from cartera.sales.models import Opportunity, Pipeline


@pytest.fixture
def deals(book: Book, pipeline: Pipeline) -> dict[str, Opportunity]:
    """Deals seen through each branch of the rule, and some seen by nobody in the team."""
    theirs = create_account(actor=book.outsider, data={"name": "Nordic Two AB"})
    teamed = create_account(actor=book.outsider, data={"name": "Nordic Shared AB"})
    set_team_member(actor=book.director, account=teamed, user=book.owner, role="coordinator")
    gone = create_account(actor=book.owner, data={"name": "Closed Down SL"})

    def deal(owner: object, name: str, account: object) -> Opportunity:
        return services.create_opportunity(
            actor=book.director, data={"name": name, "account": account, "owner": owner}
        )

    made = {
        "own deal, own account": deal(book.owner, "A", book.account),
        "own deal, no account": deal(book.owner, "B", None),
        "their deal, own account": deal(book.outsider, "C", book.account),
        "their deal, teamed account": deal(book.outsider, "D", teamed),
        "their deal, their account": deal(book.outsider, "E", theirs),
        "their deal, no account": deal(book.outsider, "F", None),
        "own deal, trashed account": deal(book.owner, "G", gone),
    }
    gone.refresh_from_db()
    trash_account(actor=book.owner, account=gone, expected_version=gone.version)
    return made


@pytest.mark.parametrize("limit", [0, 5000])
@pytest.mark.parametrize("persona", PERSONAS)
def test_same_deals_as_the_visibility_rule(
    book: Book,
    deals: dict[str, Opportunity],
    persona: str,
    limit: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(list_page, "VISIBLE_ACCOUNTS_LIMIT", limit)
    user = fresh(book.persona(persona))
    expected = set(Opportunity.objects.visible_to(user).alive().values_list("pk", flat=True))
    listed = set(list_page.list_visible_opportunities(user).values_list("pk", flat=True))
    assert listed == expected
    page = selectors.opportunity_list(fresh(user), OpportunityFilters(), limit=200)
    assert {item.pk for item in page.items} == expected


def test_a_rep_with_many_accounts_sees_only_their_branches(
    book: Book, deals: dict[str, Opportunity], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(list_page, "VISIBLE_ACCOUNTS_LIMIT", 0)
    owner = fresh(book.owner)
    assert list_page.owns_many_accounts(frozenset({owner.pk}))
    page = selectors.opportunity_list(owner, OpportunityFilters(), limit=200)
    names = {deal.name for deal in page.items}
    assert names == {"A", "B", "C", "D", "G"}
    outsider = fresh(book.outsider)
    page = selectors.opportunity_list(outsider, OpportunityFilters(), limit=200)
    assert {deal.name for deal in page.items} == {"C", "D", "E", "F"}
