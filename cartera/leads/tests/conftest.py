"""Fixtures of the leads tests: a lead owned by the book's owner, and an isolated rate limit."""

from __future__ import annotations

from typing import Any

import pytest

from cartera.core.testing import Book
from cartera.leads.models import Lead
from cartera.leads.services import create_lead

#: Persona → (sees the owner's lead, may change it). Leads have no account team: the
#: teammate (a coordinator) sees only their own leads.
LEAD_ACCESS: dict[str, tuple[bool, bool]] = {
    "owner": (True, True),
    "teammate": (False, False),
    "manager": (True, True),
    "director": (True, True),
    "admin": (True, True),
    "read_only": (True, False),
    "outsider": (False, False),
}
PERSONAS = sorted(LEAD_ACCESS)


def lead_read_status(persona: str, success: int = 200) -> int:
    """What reading the owner's lead answers ``persona``."""
    return success if LEAD_ACCESS[persona][0] else 404


def lead_write_status(persona: str, success: int = 200) -> int:
    """What changing the owner's lead answers ``persona``: 404 unseen, 403 read-only."""
    can_see, can_write = LEAD_ACCESS[persona]
    if not can_see:
        return 404
    return success if can_write else 403


@pytest.fixture
def lead(book: Book) -> Lead:
    """A lead owned by the book's owner."""
    return create_lead(
        actor=book.owner,
        data={
            "company": "Acme Robotics",
            "first_name": "Ana",
            "last_name": "García",
            "email": "ana@acme.example",
            "website": "https://www.acme.example/",
            "country": "ES",
            "industry": "software",
            "size": "51-200",
            "source": "referral",
            "owner": book.owner,
        },
    )


@pytest.fixture(autouse=True)
def _private_rate_limit(settings: Any) -> None:
    """Rate limits count in a cache of this test's own, not the shared one on disk."""
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "leads"},
    }
    from django.core.cache import caches

    caches["shared"].clear()
