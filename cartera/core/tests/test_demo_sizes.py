"""The medium and large demos, made at a tiny scale: correct rows, realistic shapes, repeatable."""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import statistics
from collections import Counter
from datetime import timedelta
from io import StringIO
from typing import Any, ClassVar

import phonenumbers
import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import TestCase, override_settings
from django.utils import timezone
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from cartera.accounts.models import DERIVED_FIELDS, Account, AccountTeamMember
from cartera.accounts.services import create_account
from cartera.activities.models import Interaction, InteractionKind
from cartera.contacts.models import Contact, ContactAccount
from cartera.core import demo
from cartera.core.demo import (
    COUNTRIES,
    DEMO_SIZES,
    PERSONAS,
    DemoSize,
    DemoSummary,
    _Builder,
    _PhonePool,
    seed_scaled_demo,
)
from cartera.core.text import normalize
from cartera.search.selectors import global_search
from cartera.users.models import User

SHAPE = {"accounts": 300, "contacts": 3000, "interactions": 15000}
TINY = {"accounts": 60, "contacts": 300, "interactions": 1200}


class _Rollback(Exception):
    """Undo a seeding once its digest is taken."""


def scaled_digest(seed: int, workers: int = 1) -> str:
    """Seed a tiny big-demo, fingerprint what it wrote, and roll it back."""
    digest = ""
    try:
        with transaction.atomic():
            seed_scaled_demo(seed=seed, workers=workers, **TINY)
            parts = [
                *Account.objects.order_by("pk").values_list(
                    "pk", "name", "owner__email", "parent_id", "phone", "created_at"
                ),
                *Contact.objects.order_by("pk").values_list("pk", "email", "mobile"),
                *Interaction.objects.order_by("pk").values_list(
                    "pk", "account_id", "contact_id", "subject", "body"
                ),
                # (The service edits at the end log calls "now": only generated times count.)
                *Interaction.objects.filter(occurred_at__lt=timezone.now() - timedelta(days=1))
                .order_by("pk")
                .values_list("occurred_at", flat=True),
                *ContactAccount.objects.order_by("pk").values_list("contact_id", "account_id"),
            ]
            digest = hashlib.sha256(repr(parts).encode()).hexdigest()
            raise _Rollback
    except _Rollback:
        pass
    return digest


@pytest.mark.django_db
def test_same_seed_gives_the_same_big_demo_with_any_number_of_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo, "BLOCK_ROWS", 100)  # several blocks for the processes to share
    first = scaled_digest(11, workers=2)
    assert first
    assert not Account.objects.exists()
    assert scaled_digest(11, workers=1) == first
    assert scaled_digest(12) != first


def test_the_sizes_are_the_issues() -> None:
    assert DEMO_SIZES["small"] == DemoSize(200, 1000, 5000)
    assert DEMO_SIZES["medium"] == DemoSize(10_000, 100_000, 500_000)
    assert DEMO_SIZES["large"] == DemoSize(100_000, 1_000_000, 5_000_000)


def test_pooled_phone_numbers_are_what_the_library_says() -> None:
    """Varying a validated number's last four digits keeps it valid, of its type and format."""
    builder = _Builder.__new__(_Builder)
    builder.rng = random.Random(3)
    builder.phone_examples = {}
    pool = _PhonePool(builder)
    for region in COUNTRIES:
        for mobile in (False, True):
            wanted = {
                PhoneNumberType.MOBILE if mobile else PhoneNumberType.FIXED_LINE,
                PhoneNumberType.FIXED_LINE_OR_MOBILE,
            }
            for _ in range(150):
                number = pool.number(region, mobile=mobile)
                plain = phonenumbers.PhoneNumber(
                    country_code=number.country_code, national_number=number.national_number
                )
                assert phonenumbers.is_valid_number_for_region(plain, region), number.formats
                assert phonenumbers.number_type(plain) in wanted
                for fmt in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL):
                    assert number.format_as(fmt) == phonenumbers.format_number(plain, fmt)
                national = PhoneNumberFormat.NATIONAL
                assert number.format_as(national) == phonenumbers.format_number(plain, national)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class TestScaledDemo(TestCase):
    """A big demo at 300 accounts / 3,000 contacts / 15,000 interactions, seeded once."""

    summary: ClassVar[DemoSummary]
    messages: ClassVar[list[str]]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.messages = []
        cls.summary = seed_scaled_demo(seed=5, progress=cls.messages.append, **SHAPE)

    def persona(self, key: str) -> User:
        """A persona re-read from the database (no cached access scope)."""
        return User.objects.get(pk=self.summary.personas[key].pk)

    def test_exact_sizes_and_the_same_people(self) -> None:
        assert Account.objects.count() == 300
        assert self.summary.accounts == 300
        # Generated rows are exact; the service edits add a handful more.
        assert self.summary.contacts == 3000
        assert 3000 <= Contact.objects.count() <= 3010
        assert self.summary.interactions == 15000
        assert 15000 <= Interaction.objects.count() <= 15040
        assert sorted(User.objects.values_list("email", flat=True)) == sorted(
            persona.email for persona in PERSONAS
        )
        assert self.summary.service_edits >= 30

    def test_progress_is_reported_table_by_table(self) -> None:
        text = "\n".join(self.messages)
        for table in ("accounts", "contacts", "contact links", "interactions"):
            assert f"  {table}: " in text
        assert re.search(r"interactions: [0-9,]+ of 15,000 \(\d+%\), [0-9,]+ rows/s", text)
        assert set(self.summary.timings) >= {"accounts", "interactions", "statistics (ANALYZE)"}

    def test_derived_columns_are_the_models_own(self) -> None:
        for account in Account.objects.all():
            stored = {name: getattr(account, name) for name in DERIVED_FIELDS}
            account.refresh_search_fields()
            assert stored == {name: getattr(account, name) for name in DERIVED_FIELDS}
        for contact in Contact.objects.all():
            stored = {"name_key": contact.name_key, "search_text": contact.search_text}
            contact.refresh_search_fields()
            assert stored == {"name_key": contact.name_key, "search_text": contact.search_text}

    def test_every_row_is_complete(self) -> None:
        now = timezone.now()
        for model in (Account, Contact, Interaction):
            rows = model.objects.all()
            assert not rows.filter(created_at__gt=now).exists()
            assert not rows.filter(updated_at__lt=F("created_at")).exists()
            assert rows.filter(version=1).count() >= rows.count() - 60
        assert not Interaction.objects.filter(occurred_at__gt=now).exists()
        assert Account.objects.exclude(phone="").count() == 300
        assert Account.objects.filter(domain="").count() == 0
        assert len(set(Account.objects.values_list("domain", flat=True))) == 300
        emails = list(Contact.objects.values_list("email", flat=True))
        assert len(emails) == len(set(emails))

    def test_a_long_tail_and_a_few_busy_accounts(self) -> None:
        per_account = Counter(Interaction.objects.values_list("account_id", flat=True))
        counts = sorted(per_account.values(), reverse=True)
        assert counts[0] >= 15 * statistics.median(counts)
        assert sum(counts[:15]) >= 0.25 * sum(counts)  # the top 5% do a quarter of the work
        contacts = sorted(
            Counter(ContactAccount.objects.values_list("account_id", flat=True)).values()
        )
        assert contacts[0] >= 1
        assert contacts[-1] >= 5 * statistics.median(contacts)
        assert len(contacts) == 300  # everyone has someone to call

    def test_contacts_work_with_one_or_sometimes_two_accounts(self) -> None:
        links = Counter(ContactAccount.objects.values_list("contact_id", flat=True))
        shares = Counter(links.values())
        assert set(shares) == {1, 2}
        assert 0.05 <= shares[2] / len(links) <= 0.2
        assert ContactAccount.objects.filter(is_primary=True).count() == len(links)

    def test_three_years_of_timeline_written_oldest_first(self) -> None:
        dates = list(Interaction.objects.order_by("pk").values_list("occurred_at", flat=True))
        assert timedelta(days=900) <= max(dates) - min(dates) <= timedelta(days=1100)
        in_order = sum(1 for before, after in itertools.pairwise(dates) if before <= after)
        assert in_order >= 0.99 * (len(dates) - 1)
        kinds = set(Interaction.objects.values_list("kind", flat=True))
        assert kinds == set(InteractionKind.values)
        assert Interaction.objects.filter(subject__startswith="Llamada").exists()
        assert Interaction.objects.filter(subject__startswith="Call").exists()
        assert Interaction.objects.filter(contact__isnull=False).count() >= 10000

    def test_the_book_is_shaped_like_the_small_one(self) -> None:
        assert Account.objects.filter(parent__isnull=False).count() >= 20
        assert set(Account.objects.values_list("tier", flat=True)) == {"a", "b", "c"}
        assert len(set(Account.objects.values_list("status", flat=True))) == 5
        assert len(set(Account.objects.values_list("industry", flat=True))) >= 12
        roles = set(AccountTeamMember.objects.values_list("role", flat=True))
        assert roles == {"coordinator", "executive", "kam"}
        assert Account.tags.through.objects.count() >= 150
        spanish = Account.objects.filter(country__in=["ES", "MX", "AR", "CO", "CL"]).count()
        assert spanish == 180
        languages = Counter(Contact.objects.values_list("language", flat=True))
        assert languages["es"] > languages["en"] > 500
        owners = Counter(Account.objects.values_list("owner__role", flat=True))
        assert set(owners) == {"manager", "account_manager", "sales_rep"}

    def test_every_persona_sees_a_book_and_reps_a_tenth(self) -> None:
        total = Account.objects.alive().count()
        for persona in PERSONAS:
            user = self.persona(persona.key)
            accounts = Account.objects.visible_to(user).alive().count()
            assert accounts >= 10, persona.key
            assert Contact.objects.visible_to(user).alive().count() >= accounts, persona.key
            assert Interaction.objects.visible_to(user).exists(), persona.key
        for rep in ("iberia_rep", "north_america_rep"):
            share = Account.objects.visible_to(self.persona(rep)).alive().count() / total
            assert 0.04 <= share <= 0.2, (rep, share)
        director = self.persona("director")
        assert Account.objects.visible_to(director).count() == Account.objects.count()

    def test_history_trash_and_new_rows_work_as_usual(self) -> None:
        assert LogEntry.objects.filter(actor__isnull=False).count() >= 30
        assert Account.objects.trashed().count() == 2
        owner = self.persona("iberia_kam")
        account = create_account(actor=owner, data={"name": "Recién llegada", "country": "ES"})
        assert account.pk > max(Account.objects.exclude(pk=account.pk).values_list("pk", flat=True))

    def test_accounts_are_found_without_their_accents(self) -> None:
        accented = next(
            account
            for account in Account.objects.alive().order_by("pk")
            if normalize(account.name) != account.name.lower()
        )
        results = global_search(self.persona("director"), normalize(accented.name).upper())
        assert accented in results.accounts


@pytest.fixture
def migrated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test database is migrated already: the command's own ``migrate`` is skipped (run
    inside a test's transaction, post-migrate hooks may not alter tables with pending checks)."""
    from cartera.core.management.commands import demo as command

    def call(name: str, *args: Any, **options: Any) -> Any:
        return None if name == "migrate" else call_command(name, *args, **options)

    monkeypatch.setattr(command, "call_command", call)


@pytest.mark.django_db
@pytest.mark.usefixtures("migrated")
def test_the_command_seeds_a_big_demo_and_refuses_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(demo.DEMO_SIZES, "medium", DemoSize(**TINY))
    out = StringIO()
    call_command("demo", size="medium", stdout=out)
    text = out.getvalue()
    assert "Seeding the medium demo: 60 accounts, 300 contacts, 1,200 interactions" in text
    assert "  interactions: 1,200 rows in" in text
    assert "Demo seeded in" in text
    assert "director@cartera.example" in text
    assert Account.objects.count() == 60
    out = StringIO()
    call_command("demo", size="large", stdout=out)
    assert "Demo data already present (60 accounts; use --reset" in out.getvalue()
    assert Account.objects.count() == 60


@pytest.mark.django_db
@pytest.mark.usefixtures("migrated")
def test_the_command_will_not_mix_a_demo_with_real_people(book: Any) -> None:
    out = StringIO()
    call_command("demo", size="large", stdout=out)
    assert "already has users that are not the demo's" in out.getvalue()
    assert Account.objects.count() == 2


def test_help_names_the_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        call_command("demo", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "--size {small,medium,large}" in text
    assert "100,000 / 1,000,000 / 5,000,000" in text
