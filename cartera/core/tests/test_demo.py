"""The demo book: deterministic, bilingual, realistic for every persona, audited."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import phonenumbers
import pytest
from auditlog.models import LogEntry
from django.db import transaction
from django.test import TestCase, override_settings

from cartera.accounts.models import DERIVED_FIELDS, Account, AccountTeamMember
from cartera.activities.models import Interaction, InteractionKind
from cartera.contacts.models import Contact, ContactAccount
from cartera.core.audit import history_for
from cartera.core.demo import DEMO_PASSWORD, PERSONAS, DemoSummary, seed_demo
from cartera.core.text import normalize
from cartera.search.selectors import global_search
from cartera.users.models import User

SMALL = {"accounts": 30, "contacts": 90, "interactions": 300}


class _Rollback(Exception):
    """Undo a seeding once its digest is taken."""


def demo_digest() -> str:
    """A fingerprint of what the demo wrote: names, emails, subjects, owners and links."""
    parts = [
        *Account.objects.order_by("name").values_list("name", "owner__email", "parent__name"),
        *Contact.objects.order_by("email").values_list("first_name", "last_name", "email"),
        *Interaction.objects.order_by("account__name", "subject", "body").values_list(
            "account__name", "subject", "body"
        ),
        *ContactAccount.objects.order_by("contact__email", "account__name").values_list(
            "contact__email", "account__name", "is_primary"
        ),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def seeded_digest(seed: int) -> str:
    """Seed a small demo, fingerprint it, and roll it back."""
    digest = ""
    try:
        with transaction.atomic():
            seed_demo(seed=seed, **SMALL)
            digest = demo_digest()
            raise _Rollback
    except _Rollback:
        pass
    return digest


@pytest.mark.django_db
def test_same_seed_gives_the_same_demo() -> None:
    first = seeded_digest(7)
    assert not Account.objects.exists()
    assert seeded_digest(7) == first


@pytest.mark.django_db
def test_another_seed_gives_another_demo() -> None:
    assert seeded_digest(7) != seeded_digest(8)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class TestFullDemo(TestCase):
    """The default demo, seeded once for every check below."""

    summary: ClassVar[DemoSummary]

    @classmethod
    def setUpTestData(cls) -> None:
        """200 accounts, 1,000 contacts and 5,000 interactions."""
        cls.summary = seed_demo()

    def persona(self, key: str) -> User:
        """A persona re-read from the database (no cached access scope)."""
        return User.objects.get(pk=self.summary.personas[key].pk)

    def test_sizes_are_as_announced(self) -> None:
        assert Account.objects.count() == 200
        assert 1000 <= Contact.objects.count() <= 1010
        assert 5000 <= Interaction.objects.count() <= 5100
        assert User.objects.count() == len(PERSONAS)
        assert self.summary.service_edits >= 30

    def test_every_persona_signs_in_with_the_shared_password(self) -> None:
        for persona in PERSONAS:
            user = User.objects.get(email=persona.email)
            assert user.check_password(DEMO_PASSWORD), persona.email
            assert user.role == persona.role

    def test_every_persona_sees_a_book(self) -> None:
        for persona in PERSONAS:
            user = self.persona(persona.key)
            accounts = Account.objects.visible_to(user).alive().count()
            contacts = Contact.objects.visible_to(user).alive().count()
            assert accounts >= 10, persona.key
            assert contacts >= accounts, persona.key
            assert Interaction.objects.visible_to(user).count() >= 100, persona.key

    def test_a_rep_of_one_team_sees_nothing_of_the_other_team(self) -> None:
        iberia = Account.objects.filter(owner__team__name="Iberia")
        north_america = Account.objects.filter(owner__team__name="North America")
        assert iberia.exists()
        assert north_america.exists()
        rep = self.persona("north_america_rep")
        assert not Account.objects.visible_to(rep).filter(pk__in=iberia.values("pk")).exists()
        rep = self.persona("iberia_rep")
        assert not Account.objects.visible_to(rep).filter(pk__in=north_america).exists()

    def test_managers_see_their_team_and_directors_everything(self) -> None:
        manager = self.persona("iberia_manager")
        visible = set(Account.objects.visible_to(manager).values_list("pk", flat=True))
        iberia = set(
            Account.objects.filter(owner__team__name="Iberia").values_list("pk", flat=True)
        )
        assert visible == iberia
        director = self.persona("director")
        assert Account.objects.visible_to(director).count() == Account.objects.count()

    def test_about_sixty_percent_is_spanish_speaking(self) -> None:
        spanish = Account.objects.filter(country__in=["ES", "MX", "AR", "CO", "CL"]).count()
        assert 110 <= spanish <= 130
        countries = set(Account.objects.values_list("country", flat=True))
        assert {"ES", "MX", "AR", "CO", "US", "GB"} <= countries
        assert (
            Contact.objects.filter(language="es").count()
            > Contact.objects.filter(language="en").count()
        )

    def test_the_book_has_realistic_structure(self) -> None:
        assert Account.objects.filter(parent__isnull=False).count() >= 10
        assert Account.objects.filter(children__isnull=False).distinct().count() >= 4
        assert Account.objects.filter(is_key_account=True).count() >= 10
        assert set(Account.objects.values_list("tier", flat=True)) == {"a", "b", "c"}
        assert len(set(Account.objects.values_list("status", flat=True))) == 5
        assert len(set(Account.objects.values_list("industry", flat=True))) >= 10
        roles = set(AccountTeamMember.objects.values_list("role", flat=True))
        assert roles == {"coordinator", "executive", "kam"}
        assert Account.tags.through.objects.count() >= 100
        assert Account.objects.filter(annual_revenue__isnull=True).count() == 0
        assert len(set(Account.objects.values_list("currency", flat=True))) >= 5

    def test_contacts_belong_to_one_or_two_accounts(self) -> None:
        links = ContactAccount.objects.values_list("contact_id", flat=True)
        per_contact: dict[int, int] = {}
        for contact_id in links:
            per_contact[contact_id] = per_contact.get(contact_id, 0) + 1
        assert set(per_contact.values()) == {1, 2}
        assert ContactAccount.objects.filter(is_primary=True).count() == Contact.objects.count()
        assert Contact.objects.exclude(special_requests="").count() >= 100

    def test_phone_numbers_are_valid_for_their_country(self) -> None:
        for account in Account.objects.exclude(phone=""):
            region = account.country.code
            assert phonenumbers.is_valid_number_for_region(account.phone, region), account.phone
        # A contact's numbers are from the country of their primary account.
        primary_links = ContactAccount.objects.filter(is_primary=True).exclude(contact__mobile="")
        for link in primary_links.select_related("contact", "account"):
            contact, region = link.contact, link.account.country.code
            assert phonenumbers.is_valid_number_for_region(contact.mobile, region), contact.mobile
            assert phonenumbers.number_type(contact.mobile) in {
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            }

    def test_interactions_span_eighteen_months_of_every_kind(self) -> None:
        dates = Interaction.objects.values_list("occurred_at", flat=True)
        span = max(dates) - min(dates)
        assert 450 <= span.days <= 560
        kinds = set(Interaction.objects.values_list("kind", flat=True))
        assert kinds == set(InteractionKind.values)
        per_account: dict[int, int] = {}
        for account_id in Interaction.objects.values_list("account_id", flat=True):
            per_account[account_id] = per_account.get(account_id, 0) + 1
        busiest, quietest = max(per_account.values()), min(per_account.values())
        assert busiest >= 60
        assert quietest <= 15
        assert Interaction.objects.filter(subject__startswith="Llamada").exists()
        assert Interaction.objects.filter(subject__startswith="Call").exists()

    def test_accounts_are_found_without_their_accents(self) -> None:
        accented = next(
            account
            for account in Account.objects.alive().order_by("pk")
            if normalize(account.name) != account.name.lower()
        )
        query = normalize(accented.name).upper()
        results = global_search(self.persona("director"), query)
        assert accented in results.accounts

    def test_history_shows_edits_with_their_actors(self) -> None:
        entries = LogEntry.objects.filter(actor__isnull=False)
        assert entries.count() >= 30
        update = (
            LogEntry.objects.filter(
                action=LogEntry.Action.UPDATE, content_type__model="account", actor__isnull=False
            )
            .order_by("pk")
            .first()
        )
        assert update is not None
        account = Account.objects.get(pk=update.object_id)
        history = list(history_for(account, related_key="account_id"))
        assert update in history
        assert update.actor == account.owner
        assert "status" in update.changes_dict
        assert Interaction.objects.filter(
            account=account, kind=InteractionKind.STATUS_CHANGE, author=account.owner
        ).exists()

    def test_derived_columns_are_the_models_own(self) -> None:
        # Subsidiaries are renamed after their first save: every derived column follows.
        for account in Account.objects.filter(parent__isnull=False):
            stored = {name: getattr(account, name) for name in DERIVED_FIELDS}
            account.refresh_search_fields()
            assert stored == {name: getattr(account, name) for name in DERIVED_FIELDS}
            assert account.domain and account.domain in account.website

    def test_trash_has_something_to_restore(self) -> None:
        assert Account.objects.trashed().count() == 2
        assert Contact.objects.trashed().count() >= 1


def test_demo_personas_cover_every_role() -> None:
    roles: set[Any] = {persona.role for persona in PERSONAS}
    assert roles == {choice for choice, _label in User._meta.get_field("role").choices or []}
    assert len({persona.email for persona in PERSONAS}) == len(PERSONAS)
