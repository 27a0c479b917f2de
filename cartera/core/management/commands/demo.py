"""``cartera demo``: a ready-to-explore Cartera in one command."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from cartera.accounts.models import Account
from cartera.core.demo import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_SIZES,
    DemoSummary,
    demo_logins,
    seed_demo,
    seed_scaled_demo,
)
from cartera.users.models import User


class Command(BaseCommand):
    """Migrate, seed the demo once (or again with --reset), print the logins."""

    help = (
        "Create or update the database tables, fill an empty database with a bilingual demo "
        "(two teams; --size small: about 200 accounts, 1,000 contacts and 5,000 interactions; "
        "medium: 10,000 / 100,000 / 500,000; large: 100,000 / 1,000,000 / 5,000,000) and print "
        "the demo logins. Running it again keeps the data; --reset wipes the database first."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """--size, --reset and --seed."""
        parser.add_argument(
            "--size",
            choices=list(DEMO_SIZES),
            default="small",
            help="how big a book to make (default: %(default)s; large takes minutes and wants "
            "PostgreSQL)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete EVERYTHING in the database, then seed the demo again",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="random seed; the same seed always gives the same demo (default: %(default)s)",
        )

    def handle(self, *args: Any, size: str, reset: bool, seed: int, **options: Any) -> None:
        """Make the database ready and show how to sign in."""
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Database ready: {describe_database()}")
        if reset:
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write(self.style.WARNING("Database wiped (--reset)."))
        if User.objects.exists():
            if not demo_logins():
                self.stdout.write(
                    self.style.WARNING(
                        "The database already has users that are not the demo's: "
                        "nothing seeded. Use 'cartera demo --reset' to replace everything."
                    )
                )
                return
            self.stdout.write(
                f"Demo data already present ({Account.objects.count():,} accounts; "
                "use --reset to start over)."
            )
        else:
            started = time.monotonic()
            summary = self.seed(size, seed)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo seeded in {time.monotonic() - started:.1f}s: {summary.accounts:,} "
                    f"accounts, {summary.contacts:,} contacts, {summary.interactions:,} "
                    f"interactions, {summary.opportunities:,} opportunities, "
                    f"{summary.service_edits} audited edits (seed {seed})."
                )
            )
        self.print_logins()
        self.stdout.write(f"\nData directory: {settings.DATA_DIR}")

    def seed(self, size: str, seed: int) -> DemoSummary:
        """Seed the demo of ``size``; the big ones report each table as they go."""
        if size == "small":
            return seed_demo(seed=seed)
        shape = DEMO_SIZES[size]
        self.stdout.write(
            f"Seeding the {size} demo: {shape.accounts:,} accounts, {shape.contacts:,} contacts, "
            f"{shape.interactions:,} interactions…"
        )
        return seed_scaled_demo(
            seed=seed,
            accounts=shape.accounts,
            contacts=shape.contacts,
            interactions=shape.interactions,
            progress=self.stdout.write,
        )

    def print_logins(self) -> None:
        """A table of the demo people; they all share one password."""
        rows = [
            (persona.email, user.get_role_display(), user.team.name if user.team else "—")
            for persona, user in demo_logins()
        ]
        headers = ("Email", "Role", "Team")
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(3)]
        self.stdout.write("\nDemo logins (password for all: " + DEMO_PASSWORD + ")")
        for row in [headers, tuple("-" * width for width in widths), *rows]:
            cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())


def describe_database() -> str:
    """Engine and name of the default database, never its password."""
    database = settings.DATABASES["default"]
    engine = str(database["ENGINE"]).rsplit(".", 1)[-1]
    host = f" on {database['HOST']}" if database.get("HOST") else ""
    return f"{engine} {database['NAME']}{host}"
