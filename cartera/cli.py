"""The ``cartera`` command (placeholder until the CLI lands)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None, prog: str = "cartera") -> int:
    """Run a Cartera command."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartera.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([prog, *(sys.argv[1:] if argv is None else argv)])
    return 0
