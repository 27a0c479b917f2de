"""``cartera token``: create, list and revoke personal REST API tokens."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from cartera.core.errors import DomainError
from cartera.users.models import ApiToken, User
from cartera.users.selectors import token_list
from cartera.users.services import create_api_token, revoke_api_token


def find_user(email: str) -> User:
    """The active person with ``email``, or a command error."""
    user = User.objects.filter(email=email.strip().lower(), is_active=True).first()
    if user is None:
        raise CommandError(f"No active person with the email {email}.", returncode=1)
    return user


class Command(BaseCommand):
    """Subcommands create, list and revoke."""

    help = "Manage personal REST API tokens: create (prints the token once), list, revoke."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """One subparser per action."""
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser(
            "create", help="create a token and print it once (only its hash is stored)"
        )
        create.add_argument("--user", required=True, help="email of the token's owner")
        create.add_argument("--name", required=True, help="what the token is for")
        create.add_argument(
            "--expires-days", type=int, default=None, help="valid for N days (default: no end)"
        )
        listing = actions.add_parser("list", help="list a person's tokens")
        listing.add_argument("--user", required=True, help="email of the tokens' owner")
        revoke = actions.add_parser("revoke", help="stop a token from working, for good")
        revoke.add_argument("token", help="the token's prefix (as listed) or its id")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        """Run the chosen action."""
        try:
            getattr(self, f"handle_{action}")(**options)
        except DomainError as error:
            problems = [f"{field}: {' '.join(msgs)}" for field, msgs in error.field_errors.items()]
            raise CommandError("; ".join(problems) or error.message, returncode=1) from error

    def handle_create(
        self, *, user: str, name: str, expires_days: int | None, **options: Any
    ) -> None:
        """Print the new token's plain text: it cannot be shown again."""
        owner = find_user(user)
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be 1 or more.", returncode=1)
        expires_at = (
            timezone.now() + timedelta(days=expires_days) if expires_days is not None else None
        )
        token, plaintext = create_api_token(
            actor=owner, user=owner, name=name, expires_at=expires_at
        )
        self.stderr.write(
            f"Token '{token.name}' for {owner.email} (prefix {token.prefix}). "
            "Copy it now: it is not shown again."
        )
        self.stdout.write(plaintext)

    def handle_list(self, *, user: str, **options: Any) -> None:
        """Prefix, name, state and dates of each token."""
        owner = find_user(user)
        tokens = list(token_list(owner))
        if not tokens:
            self.stdout.write(f"{owner.email} has no API tokens.")
            return
        for token in tokens:
            state = "usable" if token.is_usable else ("revoked" if token.revoked_at else "expired")
            expires = token.expires_at.date().isoformat() if token.expires_at else "never"
            used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "—"
            self.stdout.write(
                f"{token.prefix}  {token.name}  {state}  expires {expires}  last used {used}"
            )

    def handle_revoke(self, *, token: str, **options: Any) -> None:
        """Revoke by prefix (or id), acting as the token's owner."""
        condition = Q(prefix=token.strip())
        if token.strip().isdigit():
            condition |= Q(pk=int(token.strip()))
        found = ApiToken.objects.select_related("user").filter(condition).first()
        if found is None:
            raise CommandError(f"No API token with the prefix or id {token}.", returncode=1)
        if found.revoked_at is not None:
            self.stdout.write(f"Token {found.prefix} was already revoked.")
            return
        revoke_api_token(actor=found.user, token=found)
        self.stdout.write(self.style.SUCCESS(f"Token {found.prefix} ({found.name}) revoked."))
