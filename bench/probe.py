"""In-process helpers of ``bench/run.py``, run against the benchmark's database.

    python bench/probe.py prepare DIRECTOR_EMAIL REP_EMAIL    cleanup, counts and targets
    python bench/probe.py targets DIRECTOR_EMAIL REP_EMAIL    what to request (ids, terms…)
    python bench/probe.py explain PLAN.json                   query plans of the given requests
    python bench/probe.py cleanup                             remove what the benchmark wrote
    python bench/probe.py counts                              rows per table

Settings come from the environment like any ``cartera`` command (``CARTERA_DATABASE_URL``,
``CARTERA_DATA_DIR``…). Output is JSON on standard output.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartera.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from cartera.accounts.filters import AccountFilters  # noqa: E402
from cartera.accounts.models import Account  # noqa: E402
from cartera.accounts.selectors import account_list  # noqa: E402
from cartera.activities.models import Interaction  # noqa: E402
from cartera.contacts.models import Contact, ContactAccount  # noqa: E402
from cartera.users.models import User  # noqa: E402

#: What the benchmark's writes are recognised by (its quick-logs and imported rows).
QUICK_LOG_SUBJECT = "Benchmark quick-log"
IMPORT_PREFIX = "BENCH-"
IMPORT_DOMAIN = "bench-import.example"
DEEP_PAGES = 50


def _deep_cursor(user: User, pages: int) -> tuple[str | None, int]:
    """The cursor of the page ``pages`` pages into ``user``'s account list (and how deep)."""
    cursor: str | None = None
    depth = 0
    for _ in range(pages):
        page = account_list(user, AccountFilters(), cursor=cursor)
        if not page.next_cursor:
            break
        cursor, depth = page.next_cursor, depth + 1
    return cursor, depth


def _busiest(queryset: Any) -> Any:
    """The account of ``queryset`` with the most interactions."""
    counts = (
        Interaction.objects.filter(account__in=queryset.values("pk"))
        .values("account_id")
        .annotate(n=Count("id"))
        .order_by("-n", "account_id")
        .first()
    )
    return counts["account_id"], counts["n"]


def _quiet(queryset: Any) -> tuple[int, int]:
    """An account of ``queryset`` with a handful of interactions (1 to 5)."""
    for account_id in queryset.order_by("pk").values_list("pk", flat=True)[:2000]:
        count = Interaction.objects.filter(account_id=account_id).count()
        if 1 <= count <= 5:
            return account_id, count
    account_id = queryset.order_by("pk").values_list("pk", flat=True).first()
    return account_id, Interaction.objects.filter(account_id=account_id).count()


def targets(director_email: str, rep_email: str) -> dict[str, Any]:
    """Ids, cursors and terms the requests use, for the director and for the rep."""
    director = User.objects.get(email=director_email)
    rep = User.objects.get(email=rep_email)
    result: dict[str, Any] = {}
    for key, user in (("director", director), ("rep", rep)):
        visible = Account.objects.visible_to(user).alive()
        big, big_count = _busiest(visible)
        small, small_count = _quiet(visible.exclude(pk=big))
        cursor, depth = _deep_cursor(user, DEEP_PAGES)
        # The filter a person uses most: someone's active accounts (the rep: their own).
        owner = (
            user.pk
            if key == "rep"
            else visible.values("owner_id").annotate(n=Count("id")).order_by("-n")[0]["owner_id"]
        )
        writable = visible.filter(owner=user) if key == "rep" else visible
        log_on, _count = _quiet(writable)
        email = (
            Contact.objects.visible_to(user)
            .alive()
            .exclude(email="")
            .order_by("-pk")
            .values_list("email", flat=True)
            .first()
        )
        result[key] = {
            "email": user.email,
            "visible_accounts": visible.count(),
            "big_account": big,
            "big_account_interactions": big_count,
            "small_account": small,
            "small_account_interactions": small_count,
            "deep_cursor": cursor,
            "deep_pages": depth,
            "owner": owner,
            "log_account": log_on,
            "rare_term": email,
        }
    # The most common surname among contacts: what "search a common term" means in a CRM.
    surnames = Contact.objects.values("last_name").annotate(n=Count("id")).order_by("-n")
    common = next(
        (row["last_name"].split(" ")[0] for row in surnames[:20] if row["last_name"]), "garcia"
    )
    # Companies the imported contacts work at (the director's accounts, by name).
    result["companies"] = list(
        Account.objects.alive().order_by("pk").values_list("name", flat=True)[:1000]
    )
    result["common_term"] = common
    result["common_term_contacts"] = Contact.objects.filter(
        search_text__contains=common.lower()
    ).count()
    return result


def _statements(sql: str) -> bool:
    return bool(re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", sql, re.IGNORECASE))


def _explain(sql: str) -> tuple[float, str]:
    """Milliseconds and plan of ``sql``: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, the query
    plan (timed by running it) on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            lines = [row[0] for row in cursor.fetchall()]
            found = [line for line in lines if line.startswith("Execution Time:")]
            milliseconds = float(found[0].split()[2]) if found else 0.0
            return milliseconds, "\n".join(lines)
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        milliseconds = (time.perf_counter() - started) * 1000
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = "\n".join(" " * 3 * (row[1] and 1) + str(row[-1]) for row in cursor.fetchall())
        return milliseconds, plan


def explain(plan: dict[str, Any]) -> dict[str, Any]:
    """Run each request in-process, capture its queries, and explain the slowest one.

    The request goes through the same view (and so the same selector) as over HTTP, inside a
    transaction that is rolled back, so a quick-log writes nothing.
    """
    results: dict[str, Any] = {}
    for request in plan["requests"]:
        user = User.objects.get(email=request["email"])
        client = Client()
        client.force_login(user)
        headers: dict[str, str] = dict(request.get("headers") or {})
        if request.get("token"):
            headers["Authorization"] = f"Bearer {request['token']}"
        try:
            with transaction.atomic():
                with CaptureQueriesContext(connection) as captured:
                    if request["method"] == "POST":
                        response = client.post(
                            request["path"], request.get("form") or {}, headers=headers
                        )
                    else:
                        response = client.get(request["path"], headers=headers)
                queries = [q["sql"] for q in captured.captured_queries if _statements(q["sql"])]
                timed: list[dict[str, Any]] = []
                for sql in queries:
                    try:
                        with transaction.atomic():
                            milliseconds, text = _explain(sql)
                    except Exception as error:  # a plan is a nicety: say why it is missing
                        milliseconds, text = 0.0, f"(could not explain: {error})"
                    timed.append({"sql": sql, "ms": round(milliseconds, 3), "plan": text})
                transaction.set_rollback(True)
        except Exception as error:  # report it, do not stop the benchmark
            results[request["key"]] = {"error": f"{type(error).__name__}: {error}"}
            continue
        slowest = max(timed, key=lambda item: item["ms"]) if timed else None
        results[request["key"]] = {
            "status": response.status_code,
            "queries": [{"sql": item["sql"][:300], "ms": item["ms"]} for item in timed],
            "main": slowest,
        }
    return results


def _delete(model: Any, where: str, params: list[Any]) -> int:
    """``DELETE FROM`` ``model``'s table ``WHERE …``, in SQL: no per-row signals or audit.

    Only for rows nothing else points at (imported rows, quick-logs); a foreign key would
    still refuse at commit.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
        return int(cursor.rowcount)


def cleanup() -> dict[str, int]:
    """Delete the benchmark's quick-logs and imported rows, with their audit entries."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    removed: dict[str, int] = {}
    with transaction.atomic():
        logged = Interaction.objects.filter(subject__startswith=QUICK_LOG_SUBJECT)
        ids = [str(pk) for pk in logged.values_list("pk", flat=True)]
        interaction_type = ContentType.objects.get_for_model(Interaction)
        entries = LogEntry.objects.filter(content_type=interaction_type, object_id__in=ids)
        removed["quick-log audit entries"] = entries.count()
        entries._raw_delete(entries.db)
        removed["quick-logs"] = _delete(
            Interaction, "subject LIKE %s", [QUICK_LOG_SUBJECT.replace("%", "") + "%"]
        )
        try:
            from cartera.imports.models import ImportJob
        except ImportError:
            job_ids: list[int] = []
        else:
            jobs = ImportJob.objects.filter(file_name__startswith="bench-")
            job_ids = list(jobs.values_list("pk", flat=True))
        if job_ids:
            entries = LogEntry.objects.filter(additional_data__import_job__in=job_ids)
            removed["import audit entries"] = entries.count()
            entries._raw_delete(entries.db)
            removed["import jobs"] = ImportJob.objects.filter(pk__in=job_ids).delete()[0]
        imported = "email LIKE %s"
        contacts = connection.ops.quote_name(Contact._meta.db_table)
        removed["imported contacts' links"] = _delete(
            ContactAccount,
            f"contact_id IN (SELECT id FROM {contacts} WHERE {imported})",
            ["%@" + IMPORT_DOMAIN],
        )
        removed["imported contacts"] = _delete(Contact, imported, ["%@" + IMPORT_DOMAIN])
        removed["imported accounts"] = _delete(
            Account, "external_id LIKE %s", [IMPORT_PREFIX + "%"]
        )
    from cartera.users.models import ApiToken

    removed["benchmark tokens"] = ApiToken.objects.filter(name="benchmark").delete()[0]
    return removed


def counts() -> dict[str, int]:
    """Rows per main table."""
    return {
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "contact links": ContactAccount.objects.count(),
        "interactions": Interaction.objects.count(),
        "users": User.objects.count(),
    }


def prepare(director_email: str, rep_email: str) -> dict[str, Any]:
    """Before measuring: remove leftovers of an interrupted run, count, choose the targets."""
    return {
        "cleanup": cleanup(),
        "counts": counts(),
        "targets": targets(director_email, rep_email),
    }


COMMANDS: dict[str, Callable[..., Any]] = {
    "prepare": prepare,
    "targets": targets,
    "cleanup": cleanup,
    "counts": counts,
}


def main(argv: list[str]) -> int:
    """Run one subcommand; print its JSON."""
    if not argv or argv[0] not in {*COMMANDS, "explain"}:
        sys.stderr.write(__doc__ or "")
        return 2
    if argv[0] == "explain":
        result = explain(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    else:
        result = COMMANDS[argv[0]](*argv[1:])
    sys.stdout.write(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
