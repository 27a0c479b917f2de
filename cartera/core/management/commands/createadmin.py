"""``cartera createadmin``: the first administrator, made through the users service."""

from __future__ import annotations

import getpass
import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cartera.core.errors import DomainError
from cartera.users.models import Role, User
from cartera.users.services import create_user


class Command(BaseCommand):
    """Create an administrator; refuse an email that is already taken."""

    help = (
        "Create an administrator who can sign in and manage people, teams and settings. "
        "The password comes from --password, CARTERA_ADMIN_PASSWORD or a prompt."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """--email, --name, --password."""
        parser.add_argument("--email", help="sign-in email (prompted when missing)")
        parser.add_argument(
            "--no-input",
            action="store_false",
            dest="interactive",
            help="never prompt (fail instead when something is missing)",
        )
        parser.add_argument("--name", help="full name (default: the part before @)")
        parser.add_argument(
            "--password",
            help="password (visible in the shell history: prefer CARTERA_ADMIN_PASSWORD or the "
            "prompt)",
        )

    def handle(
        self,
        *args: Any,
        email: str | None,
        name: str | None,
        password: str | None,
        **options: Any,
    ) -> None:
        """Ask for what is missing, then create the person."""
        interactive = bool(options.get("interactive", True)) and os.isatty(0)
        email = (email or (input("Email: ") if interactive else "")).strip().lower()
        if not email:
            raise CommandError("Give the administrator's email with --email.", returncode=1)
        if User.objects.filter(email=email).exists():
            raise CommandError(f"A person with the email {email} already exists.", returncode=1)
        password = password or os.environ.get("CARTERA_ADMIN_PASSWORD") or ""
        if not password and interactive:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.", returncode=1)
        if not password:
            raise CommandError(
                "Give a password with --password, CARTERA_ADMIN_PASSWORD or the prompt.",
                returncode=1,
            )
        data = {"email": email, "full_name": name or email.split("@")[0], "role": Role.ADMIN}
        try:
            user = create_user(actor=None, data=data, password=password)
        except DomainError as error:
            problems = [f"{field}: {' '.join(msgs)}" for field, msgs in error.field_errors.items()]
            raise CommandError("; ".join(problems) or error.message, returncode=1) from error
        self.stdout.write(self.style.SUCCESS(f"Administrator {user.email} created."))
