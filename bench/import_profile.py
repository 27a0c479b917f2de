"""Time (and optionally profile) one import in-process: where does an import's time go?

    CARTERA_DATABASE_URL=postgresql://…/cartera_p2_bench \\
        python bench/import_profile.py accounts accounts.csv [--profile out.prof] [--clean]

Runs the job as the director of the demo (``director@cartera.example``) exactly as
``cartera import`` does, then prints rows/s. ``--profile`` runs it under cProfile with reading and
converting in the same thread (so the profile sees every function; the real run converts in a
second thread) and prints the top functions by own and cumulative time. ``--clean`` deletes what
the job created (records, links and audit entries) afterwards, so a "new" file can be imported
again on the same database. ``--make KIND ROWS MODE`` writes a file first (``bench/run.py``'s
generator).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cartera.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from cartera.accounts.models import Account  # noqa: E402
from cartera.imports import engine  # noqa: E402
from cartera.imports import services as imports  # noqa: E402
from cartera.imports.models import ImportJob  # noqa: E402
from cartera.users.models import User  # noqa: E402

DIRECTOR = "director@cartera.example"


def clean(job: ImportJob) -> None:
    """Remove what ``job`` created (its records, links and audit entries), in plain SQL (the
    ORM's cascades would visit every app's tables)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.model, e.object_id FROM auditlog_logentry e"
            " JOIN django_content_type c ON c.id = e.content_type_id"
            " WHERE e.action = 0 AND e.additional_data ->> 'import_job' = %s",
            [str(job.pk)],
        )
        created: dict[str, list[int]] = {}
        for model, object_id in cursor.fetchall():
            created.setdefault(model, []).append(object_id)
        accounts, contacts = created.get("account", []), created.get("contact", [])
        cursor.execute(
            "DELETE FROM contacts_contactaccount WHERE contact_id = ANY(%s)"
            " OR account_id = ANY(%s)",
            [contacts, accounts],
        )
        cursor.execute("DELETE FROM activities_interaction WHERE account_id = ANY(%s)", [accounts])
        cursor.execute("DELETE FROM contacts_contact WHERE id = ANY(%s)", [contacts])
        cursor.execute("DELETE FROM accounts_account WHERE id = ANY(%s)", [accounts])
        cursor.execute(
            "DELETE FROM auditlog_logentry WHERE additional_data ->> 'import_job' = %s",
            [str(job.pk)],
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "VACUUM ANALYZE accounts_account, contacts_contact, contacts_contactaccount,"
                " auditlog_logentry"
            )


def own_cpu() -> float:
    """CPU seconds of this process and its finished children (the forked reader)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def backend_cpu() -> float:
    """CPU seconds the database server process of this connection has used (PostgreSQL on this
    machine; 0 elsewhere)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["accounts", "contacts", "interactions"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--profile", type=Path, help="write a cProfile here and print its top")
    parser.add_argument("--clean", action="store_true", help="delete what the job created")
    parser.add_argument("--make", nargs=2, metavar=("ROWS", "MODE"), help="generate the file")
    parser.add_argument("--prefix", default="BENCH-")
    parser.add_argument("--queries", action="store_true", help="print the slowest queries")
    args = parser.parse_args()
    if args.make:
        from run import make_import_file

        companies = list(Account.objects.order_by("id").values_list("name", flat=True)[:2000])
        make_import_file(
            args.file, args.kind, int(args.make[0]), args.make[1], args.prefix, companies
        )
    director = User.objects.get(email=DIRECTOR)
    with args.file.open("rb") as stream:
        job = imports.create_job(
            actor=director, kind=args.kind, file_name=args.file.name, stream=stream
        )
    job.status = "mapped"
    job.save(update_fields=["status"])
    timings: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        began = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((time.monotonic() - began, sql))

    if args.queries:
        connection.execute_wrappers.append(timed)
    started = time.monotonic()
    cpu_started, server_started = own_cpu(), backend_cpu()
    if args.profile:
        # Convert in this thread, so the profile sees it.
        def converted_batches(self, table, start_after, max_rows):  # type: ignore[no-untyped-def]
            for batch in engine._batches(table.rows(start_after), engine.BATCH_SIZE, max_rows):
                yield [self.convert(number, values) for number, values in batch]

        engine.Importer.converted_batches = converted_batches  # type: ignore[method-assign]
        profiler = cProfile.Profile()
        profiler.enable()
        job = imports.run(job.pk)
        profiler.disable()
        profiler.dump_stats(args.profile)
    else:
        job = imports.run(job.pk)
    seconds = time.monotonic() - started
    cpu, server = own_cpu() - cpu_started, backend_cpu() - server_started
    print(
        f"job {job.pk} {job.status}: {job.processed_rows:,} rows ({job.created_count:,} created,"
        f" {job.updated_count:,} updated, {job.unchanged_count:,} unchanged,"
        f" {job.rejected_count:,} rejected) in {seconds:.1f} s:"
        f" {job.processed_rows / seconds:,.0f} rows/s {job.error_message}"
    )
    rows = max(job.processed_rows, 1)
    print(
        f"CPU: importer {cpu:.1f} s ({cpu / rows * 1e6:.0f} µs/row, with the reader),"
        f" database server {server:.1f} s ({server / rows * 1e6:.0f} µs/row)"
    )
    if args.queries:
        total: dict[str, list[float]] = {}
        for seconds_taken, sql in timings:
            total.setdefault(sql[:150], []).append(seconds_taken)
        ranked = sorted(total.items(), key=lambda item: -sum(item[1]))
        for sql, times in ranked[:15]:
            print(f"{sum(times):7.2f} s {len(times):5} x  {sql}")
    if args.profile:
        stats = pstats.Stats(str(args.profile))
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(45)
    if args.clean:
        clean(job)


if __name__ == "__main__":
    main()
