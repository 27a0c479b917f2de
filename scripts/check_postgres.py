"""Exit 0 when the PostgreSQL server of a database URL accepts connections, 1 otherwise.

Usage: python scripts/check_postgres.py postgresql://user@host:port/name
"""

from __future__ import annotations

import sys

import dj_database_url
import psycopg


def reachable(url: str) -> bool:
    """Whether the server's maintenance database accepts us (the tests create their own)."""
    config = dj_database_url.parse(url)
    try:
        with psycopg.connect(
            dbname="postgres",
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
            connect_timeout=5,
        ):
            return True
    except psycopg.Error as error:
        print(f"PostgreSQL unreachable: {error}".strip(), file=sys.stderr)
        return False


if __name__ == "__main__":
    sys.exit(0 if reachable(sys.argv[1]) else 1)
