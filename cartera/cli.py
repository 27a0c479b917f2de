"""The ``cartera`` command: Cartera's own commands first, every Django command behind them."""

from __future__ import annotations

import os
import sys

COMMANDS: list[tuple[str, str]] = [
    ("demo [--size S] [--reset]", "create the database and a bilingual demo, print the logins"),
    ("serve [--host H] [--port P]", "serve Cartera with gunicorn and run a background worker"),
    ("migrate", "create or update the database tables"),
    ("createadmin [--email E]", "create the first administrator"),
    ("token create|list|revoke", "manage a person's REST API tokens"),
    (
        "import KIND FILE",
        "import CSV or XLSX: accounts, contacts, interactions, users, products, opportunities, "
        "leads",
    ),
    (
        "export accounts|contacts|interactions",
        "export a filtered list to CSV or XLSX as a given user",
    ),
    ("worker [--batch]", "run queued background tasks and enqueue scheduled jobs when due"),
    ("schedule [--run NAME|--due]", "list the scheduled jobs, or enqueue one now or those due"),
    (
        "rebuild_rollups [--check]",
        "recompute (or check) the deal totals the board and forecast read",
    ),
    ("info", "show version, data directory, database, queue and email settings"),
]


def usage(prog: str = "cartera") -> str:
    """The curated overview printed by ``cartera``, ``cartera -h`` and ``cartera --help``."""
    width = max(len(name) for name, _ in COMMANDS) + 2
    lines = [
        f"usage: {prog} COMMAND [options]",
        "",
        "Cartera: self-hosted account management for account teams.",
        "",
        "Commands:",
        *(f"  {name.ljust(width)}{summary}" for name, summary in COMMANDS),
        "",
        f"Run '{prog} COMMAND --help' for a command's options.",
        f"Every Django management command works too; '{prog} help' lists them all.",
        "Settings come from CARTERA_* environment variables; data lives in CARTERA_DATA_DIR.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, prog: str = "cartera") -> int:
    """Run a Cartera command and return its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(usage(prog))
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartera.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line([prog, *args])
    except SystemExit as exit_:
        # Django exits on errors and after --help; callers (tests, scripts) want the code.
        if exit_.code is None:
            return 0
        if isinstance(exit_.code, int):
            return exit_.code
        sys.stderr.write(f"{exit_.code}\n")
        return 1
    return 0
