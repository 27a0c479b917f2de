"""Global search across accounts and contacts, accent-insensitive, exact matches first."""

from __future__ import annotations

from dataclasses import dataclass

from cartera.accounts.models import Account
from cartera.accounts.selectors import visible_accounts
from cartera.contacts.models import Contact
from cartera.contacts.selectors import visible_contacts
from cartera.core.fulltext import ranked_search
from cartera.users.access import scope_user_ids
from cartera.users.models import User

MAX_LIMIT = 50
UNSHOWN_ACCOUNT_FIELDS = ("phone", "description", "search_text")
UNSHOWN_CONTACT_FIELDS = ("phone", "mobile", "special_requests", "search_text")


@dataclass(frozen=True)
class SearchResults:
    """What a search found, best first in each group."""

    query: str
    accounts: list[Account]
    contacts: list[Contact]


def global_search(user: User, query: str, *, limit: int = 8) -> SearchResults:
    """Accounts and contacts ``user`` sees that match every word of ``query``, best first.

    Ranking (``cartera.core.fulltext.ranked_search``): the exact name or email first, then names
    starting with the query, then every other match alphabetically; a handful of index reads per
    group, whatever the number of matches.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    # People whose view is scoped may see few of the matches: see ``ranked_search``.
    scoped = scope_user_ids(user) is not None
    # Hits show names, cities and emails: phones (parsed on load, ~0.1 ms each) and long text
    # columns stay in the database.
    accounts = ranked_search(
        visible_accounts(user).select_related("owner").defer(*UNSHOWN_ACCOUNT_FIELDS),
        query,
        limit=limit,
        email_fields=("email",),
        scoped=scoped,
    )
    contacts = ranked_search(
        visible_contacts(user).defer(*UNSHOWN_CONTACT_FIELDS),
        query,
        limit=limit,
        email_fields=("email",),
        scoped=scoped,
    )
    return SearchResults(query=query, accounts=accounts, contacts=contacts)
