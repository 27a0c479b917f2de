"""Test personas shared by every app's tests: who sees and changes what is decided by them.

The ``Book`` built here has one account owned by ``owner`` with ``teammate`` on its account team,
both in the "Iberia" team that ``manager`` manages and ``read_only`` belongs to; ``director``
and ``admin`` see everything; ``outsider`` is a rep of another team who must see nothing of it.
Everything is made through the services, as a user would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from cartera.accounts.models import Account
from cartera.accounts.services import create_account, set_team_member
from cartera.activities.models import Interaction
from cartera.activities.services import log_interaction
from cartera.contacts.models import Contact
from cartera.contacts.services import create_contact
from cartera.users.models import Role, Team, User
from cartera.users.services import create_team, create_user

PASSWORD = "Correct-Horse-Battery-42"

#: Persona name → (can see the book's account, can change it).
EXPECTED_ACCESS: dict[str, tuple[bool, bool]] = {
    "owner": (True, True),
    "teammate": (True, True),
    "manager": (True, True),
    "director": (True, True),
    "admin": (True, True),
    "read_only": (True, False),
    "outsider": (False, False),
}


@dataclass
class Book:
    """The personas and a small book of business they share."""

    admin: User
    director: User
    manager: User
    owner: User
    teammate: User
    read_only: User
    outsider: User
    team: Team
    other_team: Team
    account: Account
    contact: Contact
    interaction: Interaction
    outsider_account: Account

    def persona(self, name: str) -> User:
        """The persona called ``name``."""
        user: User = getattr(self, name)
        return user


def make_user(actor: User | None, email: str, name: str, role: str, team: Team | None) -> User:
    """A person made through the service, with the shared test password."""
    data: dict[str, Any] = {"email": email, "full_name": name, "role": role}
    if team is not None:
        data["team"] = team
    return create_user(actor=actor, data=data, password=PASSWORD)


def build_book() -> Book:
    """Create the personas and their book through the services."""
    admin = make_user(None, "admin@example.com", "Ada Admin", Role.ADMIN, None)
    team = create_team(actor=admin, data={"name": "Iberia"})
    other_team = create_team(actor=admin, data={"name": "Nordics"})
    director = make_user(admin, "director@example.com", "Dora Director", Role.DIRECTOR, None)
    manager = make_user(admin, "manager@example.com", "Manu Manager", Role.MANAGER, team)
    from cartera.users.services import update_team

    update_team(actor=admin, team=team, changes={"manager": manager})
    owner = make_user(admin, "owner@example.com", "Olga Owner", Role.ACCOUNT_MANAGER, team)
    teammate = make_user(admin, "teammate@example.com", "Tomás Teammate", Role.COORDINATOR, team)
    read_only = make_user(admin, "readonly@example.com", "Rita Readonly", Role.READ_ONLY, team)
    outsider = make_user(
        admin, "outsider@example.com", "Oscar Outsider", Role.SALES_REP, other_team
    )
    account = create_account(
        actor=owner,
        data={"name": "Muñoz Logística", "country": "ES", "status": "active", "tier": "a"},
    )
    set_team_member(actor=owner, account=account, user=teammate, role="coordinator")
    contact = create_contact(
        actor=owner,
        data={
            "first_name": "José",
            "last_name": "Pérez",
            "email": "jose@munoz.example",
            "accounts": [account.pk],
        },
    )
    interaction = log_interaction(
        actor=owner,
        account=account,
        data={"kind": "call", "subject": "Kick-off call", "contact": contact.pk},
    )
    outsider_account = create_account(
        actor=outsider, data={"name": "Nordic Fisk AB", "country": "SE"}
    )
    return Book(
        admin=admin,
        director=director,
        manager=manager,
        owner=owner,
        teammate=teammate,
        read_only=read_only,
        outsider=outsider,
        team=team,
        other_team=other_team,
        account=account,
        contact=contact,
        interaction=interaction,
        outsider_account=outsider_account,
    )


def fresh(user: User) -> User:
    """The same person re-read, without per-request caches (as the next request would see)."""
    return User.objects.get(pk=user.pk)


PERSONAS = sorted(EXPECTED_ACCESS)
JSON = "application/json"
PROBLEM = "application/problem+json"


def client_for(user: User, **kwargs: Any) -> Client:
    """A browser session signed in as ``user``."""
    client = Client(**kwargs)
    client.force_login(user)
    return client


def read_status(persona: str, success: int = 200) -> int:
    """What reading the book's records answers ``persona``: ``success`` if seen, else 404."""
    return success if EXPECTED_ACCESS[persona][0] else 404


def write_status(persona: str, success: int = 200) -> int:
    """What changing the book's records answers ``persona``: 404 unseen, 403 read-only."""
    can_see, can_write = EXPECTED_ACCESS[persona]
    if not can_see:
        return 404
    return success if can_write else 403
