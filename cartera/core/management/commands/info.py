"""``cartera info``: what this installation runs on, without revealing secrets."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from cartera.core.management.commands.demo import describe_database
from cartera.core.management.commands.worker import uses_redis


def cartera_version() -> str:
    """The installed package's version."""
    try:
        return version("cartera")
    except PackageNotFoundError:
        return "unknown (not installed)"


class Command(BaseCommand):
    """Print version, data directory, database, task queue, email and languages."""

    help = (
        "Show Cartera's version, data directory, database (engine and name, no password), "
        "task queue, email backend and languages."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """One line per fact."""
        if uses_redis():
            queue = "Redis (RQ) — run 'cartera worker' next to the server"
        else:
            queue = "database (django-tasks-db) — 'cartera serve' runs a worker"
        email = str(settings.EMAIL_BACKEND).rsplit(".", 2)[-2]
        if email == "smtp":
            email = f"smtp ({settings.EMAIL_HOST}:{settings.EMAIL_PORT})"
        facts = [
            ("Cartera", cartera_version()),
            ("Data directory", str(settings.DATA_DIR)),
            ("Database", describe_database()),
            ("Task queue", queue),
            ("Email", email),
            ("Languages", ", ".join(code for code, _name in settings.LANGUAGES)),
            ("Debug", "on" if settings.DEBUG else "off"),
            ("Static files", str(settings.STATIC_ROOT)),
        ]
        width = max(len(label) for label, _value in facts) + 2
        for label, value in facts:
            self.stdout.write(f"{(label + ':').ljust(width)}{value}")
