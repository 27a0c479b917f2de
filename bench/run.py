"""Cartera's benchmark: ``make bench`` (full) and ``make bench-quick`` (a smoke run).

The full run measures Cartera as it is deployed: a demo database of a given size, ``cartera
serve`` (gunicorn, 2 workers, DEBUG off, a real secret key, collected static files) and the load
from a second process on 127.0.0.1 (``bench/load.py``). For each configuration — PostgreSQL
with the large demo, PostgreSQL with the medium one, SQLite with the medium one — it reports
p50 / p95 / max per operation for a director (sees everything) and a rep (sees about a tenth),
requests/s with several concurrent clients, import and export rows/s, and the server's memory,
and writes ``docs/performance.md`` with the machine, the versions, the date and this command.
Where a target is missed, the page gets the query plan of the operation's slowest query.

Demo databases are kept between runs (PostgreSQL: ``cartera_bench`` and ``cartera_bench_medium``
by default; SQLite: under ``--work-dir``) and reused while they hold the expected demo;
``--fresh`` rebuilds them. ``--quick`` runs the small demo on SQLite in a temporary directory
with a handful of requests per operation, in well under a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psutil

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/cartera_bench"
DEMO_PASSWORD = "Cartera-Demo-2025"
DIRECTOR = "director@cartera.example"
REP = "pablo.navarro@cartera.example"  # the Iberia rep: about a tenth of the book
MARKER = "cartera-bench"

# Targets of the issue, at the large size on 2 cores.
TARGET_P50_MS = 15.0
TARGET_P95_MS = 50.0
TARGET_RPS = 150.0
TARGET_IMPORT_ROWS_PER_SECOND = 20_000
#: What other open CRMs took at the medium shape on this kind of machine (seconds, low and high).
OTHER_CRMS: dict[str, tuple[str, float, float]] = {
    "contacts_first": ("a contacts list page", 0.400, 0.580),
    "search_common": ("a contact search", 0.300, 0.670),
    "accounts_first": ("an accounts list", 0.270, 3.9),
    "import_contacts_25k": ("importing 25,000 contacts", 27.0, 275.0),
}
WANTED_SPEEDUP = 25


@dataclass(frozen=True)
class Operation:
    """One kind of request the benchmark measures."""

    name: str
    label: str
    kind: str  # list, detail, search or write: targets apply to all but writes


OPERATIONS = (
    Operation("accounts_first", "Accounts list, first page", "list"),
    Operation("accounts_deep", "Accounts list, page 50 (cursor)", "list"),
    Operation("accounts_filtered", "Accounts list, owner + status filter", "list"),
    Operation("account_big", "Account detail, big account", "detail"),
    Operation("timeline_big", "Account timeline, big account", "detail"),
    Operation("account_small", "Account detail, small account", "detail"),
    Operation("timeline_small", "Account timeline, small account", "detail"),
    Operation("contacts_first", "Contacts list, first page", "list"),
    Operation("contacts_filtered", "Contacts list, role + channel filter", "list"),
    Operation("search_common", "Global search, common term", "search"),
    Operation("search_rare", "Global search, rare term (an email)", "search"),
    Operation("deals_first", "Deals list, first page", "list"),
    Operation("board", "Kanban board, default pipeline", "list"),
    Operation("forecast", "Weighted forecast by month", "list"),
    Operation("api_list", "API: list accounts", "list"),
    Operation("api_detail", "API: account detail", "detail"),
    Operation("quick_log", "Quick-log an interaction (POST)", "write"),
)
OPERATION_LABELS = {operation.name: operation for operation in OPERATIONS}


@dataclass
class Setup:
    """One configuration: a database engine with a demo size."""

    key: str
    title: str
    engine: str  # postgresql or sqlite
    size: str
    database_url: str = ""
    data_dir: Path | None = None
    targets: bool = False  # the targets apply (large size)
    compare: bool = False  # compare with the other CRMs (medium shape)
    imports: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, mode, rows)


# --- small helpers ---------------------------------------------------------------------------


def say(message: str) -> None:
    """A progress line on standard output."""
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def cartera_command() -> list[str]:
    """How to run ``cartera``: the installed command beside this Python, or the module."""
    script = Path(sys.executable).with_name("cartera")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from cartera.cli import main; sys.exit(main())"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(
    command: list[str], env: dict[str, str], *, timeout: float, echo: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; fail loudly with its output when it fails."""
    if echo:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            print("    " + line.rstrip(), flush=True)
        code = process.wait(timeout=timeout)
        result = subprocess.CompletedProcess(command, code, "".join(lines), "")
    else:
        result = subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def probe(env: dict[str, str], *args: str, timeout: float = 900) -> Any:
    """``bench/probe.py ARGS`` against the configuration's database, as JSON."""
    result = run([sys.executable, str(BENCH / "probe.py"), *args], env, timeout=timeout)
    return json.loads(result.stdout)


def database_named(url: str, name: str) -> str:
    """``url`` pointing at the database ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def database_name(url: str) -> str:
    """The database name in ``url``."""
    return urlsplit(url).path.lstrip("/")


@contextlib.contextmanager
def admin_connection(url: str) -> Iterator[Any]:
    """An autocommit connection to the server's ``postgres`` database."""
    import psycopg

    with psycopg.connect(database_named(url, "postgres"), autocommit=True) as connection:
        yield connection


class RssSampler:
    """The server's resident memory (gunicorn master + workers), sampled while a phase runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss())
            self._stop.wait(0.25)

    def __enter__(self) -> RssSampler:
        self.before = self.server.rss()
        self.peak = self.before
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after = self.server.rss()
        self.peak = max(self.peak, self.after)


class Server:
    """``cartera serve`` on a free port, as in production."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.gunicorn = "gunicorn"

    def start(self) -> None:
        """Collect static files, start gunicorn, wait until it answers."""
        command = [
            *cartera_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "2",
            "--no-worker",
        ]
        self.command = shlex.join(["cartera", *command[len(cartera_command()) :]])
        handle = self.log.open("wb")
        self.process = subprocess.Popen(
            command, env=self.env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/login/", timeout=5
                ) as response:
                    if response.status == 200 and len(self.processes()) >= 3:
                        self.gunicorn = self.master_command()
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the server did not start within 3 minutes")

    def processes(self) -> list[psutil.Process]:
        """The gunicorn master and its workers."""
        if self.process is None:
            return []
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        found = []
        for child in children:
            with contextlib.suppress(psutil.Error):
                if "gunicorn" in " ".join(child.cmdline()):
                    found.append(child)
        return found

    def master_command(self) -> str:
        """The gunicorn master's command line (how ``cartera serve`` configured it)."""
        assert self.process is not None
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                if process.ppid() == self.process.pid:
                    arguments = process.cmdline()
                    start = next(
                        (i for i, part in enumerate(arguments) if part.endswith("gunicorn")), 0
                    )
                    return shlex.join(["gunicorn", *arguments[start + 1 :]])
        return "gunicorn"

    def rss(self) -> int:
        """Resident memory of the master and workers, in bytes."""
        total = 0
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def stop(self) -> None:
        """SIGTERM to ``cartera serve`` (it stops gunicorn), then make sure all are gone."""
        if self.process is None:
            return
        leftovers = self.processes()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for process in leftovers:
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.process = None


# --- preparing a database -------------------------------------------------------------------


DEMO_LINE = re.compile(r"^\s+(?P<table>[a-z ()A-Z]+): (?P<rows>[\d,]+) rows in (?P<s>[\d.]+)s")
DEMO_STEP = re.compile(r"^\s+(?P<step>indexes|foreign keys): (?P<n>\d+) \w+ in (?P<s>[\d.]+)s")
DEMO_ANALYZE = re.compile(r"^\s+statistics \(ANALYZE\): (?P<s>[\d.]+)s")
DEMO_TOTAL = re.compile(r"Demo seeded in (?P<s>[\d.]+)s")


def parse_demo_output(text: str) -> dict[str, Any]:
    """Seconds per table (and step) from ``cartera demo``'s output."""
    tables: list[dict[str, Any]] = []
    for line in text.splitlines():
        if match := DEMO_LINE.match(line):
            tables.append(
                {
                    "step": match["table"].strip(),
                    "rows": int(match["rows"].replace(",", "")),
                    "seconds": float(match["s"]),
                }
            )
        elif match := DEMO_STEP.match(line):
            tables.append({"step": match["step"], "rows": None, "seconds": float(match["s"])})
        elif match := DEMO_ANALYZE.match(line):
            tables.append(
                {"step": "statistics (ANALYZE)", "rows": None, "seconds": float(match["s"])}
            )
    total = DEMO_TOTAL.search(text)
    return {"steps": tables, "seconds": float(total["s"]) if total else None}


def seed(setup: Setup, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Make sure the configuration's database holds its demo; return how it was made."""
    wanted = {"marker": MARKER, "size": setup.size, "seed": args.seed}
    if setup.engine == "postgresql":
        return seed_postgresql(setup, env, args, wanted)
    assert setup.data_dir is not None
    marker = setup.data_dir / "bench-seed.json"
    if marker.exists() and not args.fresh:
        stored = json.loads(marker.read_text(encoding="utf-8"))
        if all(stored.get(key) == value for key, value in wanted.items()):
            say(f"{setup.title}: reusing the {setup.size} demo seeded {stored['seeded_at']}")
            run([*cartera_command(), "migrate", "--no-input"], env, timeout=3600)
            return {**stored, "reused": True}
    if setup.data_dir.exists():
        shutil.rmtree(setup.data_dir)
    setup.data_dir.mkdir(parents=True)
    made = seed_demo(setup, env, args)
    marker.write_text(json.dumps({**wanted, **made}), encoding="utf-8")
    return {**wanted, **made, "reused": False}


def seed_demo(setup: Setup, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Run ``cartera demo --size SIZE``, timed (wall and CPU, its worker processes included)."""
    say(f"{setup.title}: seeding the {setup.size} demo")
    command = [*cartera_command(), "demo", "--size", setup.size, "--seed", str(args.seed)]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    started = time.monotonic()
    result = run(command, env, timeout=3 * 3600, echo=not args.quick)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    parsed = parse_demo_output(result.stdout)
    return {
        "seeded_at": dt.datetime.now().isoformat(timespec="seconds"),
        "command": shlex.join(["cartera", *command[len(cartera_command()) :]]),
        "wall_seconds": round(elapsed, 1),
        "cpu_seconds": round(cpu, 1),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
        **parsed,
    }


def seed_postgresql(
    setup: Setup, env: dict[str, str], args: argparse.Namespace, wanted: dict[str, Any]
) -> dict[str, Any]:
    """The PostgreSQL database: reused when its marker says it holds this demo."""
    name = database_name(setup.database_url)
    with admin_connection(setup.database_url) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        stored: dict[str, Any] = {}
        if row and row[0]:
            with contextlib.suppress(ValueError):
                stored = json.loads(row[0])
        if row and not args.fresh and all(stored.get(k) == v for k, v in wanted.items()):
            say(f"{setup.title}: reusing {name} (the {setup.size} demo, {stored['seeded_at']})")
            run([*cartera_command(), "migrate", "--no-input"], env, timeout=3600)
            return {**stored, "reused": True}
        quoted = '"' + name.replace('"', '""') + '"'
        if row:
            say(f"{setup.title}: dropping {name} to seed it again")
            admin.execute(f"DROP DATABASE {quoted} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {quoted}")
    made = seed_demo(setup, env, args)
    say(f"{setup.title}: VACUUM (ANALYZE), as autovacuum would after such a load")
    import psycopg

    started = time.monotonic()
    with psycopg.connect(setup.database_url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    made["vacuum_seconds"] = round(time.monotonic() - started, 1)
    marker = {**wanted, **made}
    with admin_connection(setup.database_url) as admin:
        literal = json.dumps(marker).replace("'", "''")
        admin.execute(f"COMMENT ON DATABASE {quoted} IS '{literal}'")
    return {**marker, "reused": False}


# --- one configuration ------------------------------------------------------------------------


def request_plan(targets: dict[str, Any], tokens: dict[str, str]) -> list[dict[str, Any]]:
    """What each persona requests (``bench/load.py`` plan)."""
    personas = []
    for key in ("director", "rep"):
        about = targets[key]
        big, small = about["big_account"], about["small_account"]
        htmx = {"HX-Request": "true"}
        filters = urlencode({"owner": about["owner"], "status": "active"})
        operations = [
            ("accounts_first", "/accounts/", {}),
            (
                "accounts_deep",
                "/accounts/?" + urlencode({"cursor": about["deep_cursor"] or ""}),
                {},
            ),
            ("accounts_filtered", f"/accounts/?{filters}", {}),
            ("account_big", f"/accounts/{big}/", {}),
            ("timeline_big", f"/timeline/account/{big}/", htmx),
            ("account_small", f"/accounts/{small}/", {}),
            ("timeline_small", f"/timeline/account/{small}/", htmx),
            ("contacts_first", "/contacts/", {}),
            (
                "contacts_filtered",
                "/contacts/?buying_role=decision_maker&preferred_channel=email",
                {},
            ),
            ("search_common", "/search/?" + urlencode({"q": targets["common_term"]}), {}),
            ("search_rare", "/search/?" + urlencode({"q": about["rare_term"] or "zzz"}), {}),
            ("deals_first", "/deals/", {}),
            ("board", "/deals/board/", {}),
            ("forecast", "/deals/forecast/", {}),
        ]
        planned: list[dict[str, Any]] = [
            {"name": name, "method": "GET", "path": path, "headers": headers, "mix": True}
            for name, path, headers in operations
        ]
        planned += [
            {"name": "api_list", "method": "GET", "path": "/api/v1/accounts?limit=50",
             "auth": "token", "mix": True},
            {"name": "api_detail", "method": "GET", "path": f"/api/v1/accounts/{big}",
             "auth": "token", "mix": True},
            {
                "name": "quick_log",
                "method": "POST",
                "path": f"/timeline/account/{about['log_account']}/log/",
                "headers": htmx,
                "form": {"kind": "call", "subject": "Benchmark quick-log", "body": "",
                         "contact": "", "occurred_at": "", "duration_minutes": "5"},
            },
        ]  # fmt: skip
        personas.append(
            {"key": key, "email": about["email"], "token": tokens[key], "operations": planned}
        )
    return personas


def make_import_file(
    path: Path, kind: str, rows: int, mode: str, prefix: str, companies: list[str]
) -> None:
    """A CSV of ``rows`` accounts or contacts with HubSpot/Salesforce-like headers.

    ``mode`` "upsert" gives the same records as "new" with other values (every row updates).
    Contacts work at ``companies`` (existing accounts, by name), as a contact must.
    """
    changed = mode == "upsert"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if kind == "accounts":
            writer.writerow(
                ["Account ID", "Account Name", "Website", "Phone", "Billing City",
                 "Billing Country", "Industry", "Annual Revenue", "Number of Employees"]
            )  # fmt: skip
            for n in range(rows):
                writer.writerow(
                    [
                        f"{prefix}{n:07d}",
                        f"Benchmark Company {prefix}{n}",
                        f"https://www.{prefix.lower()}{n}.bench-import.example",
                        f"+34 91{(n * 7919 + (3 if changed else 0)) % 10_000_000:07d}",
                        "Sevilla" if changed else "Madrid",
                        "Spain",
                        "Software" if n % 2 else "Retail",
                        str(1_000_000 + n * 10 + (5 if changed else 0)),
                        "51-200",
                    ]
                )
        else:
            writer.writerow(
                ["Record ID", "First Name", "Last Name", "Email", "Job Title", "Phone", "Company"]
            )
            for n in range(rows):
                writer.writerow(
                    [
                        f"{prefix}{n:07d}",
                        f"Nombre{n % 997}",
                        f"Apellido{n % 1009}",
                        f"{prefix.lower()}{n}@bench-import.example",
                        "Head of Procurement" if changed else "Buyer",
                        f"+34 91{(n * 7907) % 10_000_000:07d}",
                        companies[n % len(companies)],
                    ]
                )


IMPORT_SUMMARY = re.compile(
    r"(?P<rows>[\d,]+) rows: (?P<created>[\d,]+) created, (?P<updated>[\d,]+) updated, "
    r"(?P<unchanged>[\d,]+) unchanged, (?P<rejected>[\d,]+) rejected.* in (?P<s>[\d.]+) s "
    r"\((?P<rate>[\d,]+) rows/s\)"
)


def import_available(env: dict[str, str]) -> bool:
    """Whether ``cartera import`` exists here."""
    result = subprocess.run(
        [*cartera_command(), "import", "--help"], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    return result.returncode == 0


def run_imports(
    setup: Setup,
    env: dict[str, str],
    work: Path,
    args: argparse.Namespace,
    companies: list[str],
) -> list[dict[str, Any]]:
    """Import generated files with ``cartera import``, timed end to end; peak memory."""
    if not setup.imports or args.no_import:
        return []
    if not import_available(env):
        say(f"{setup.title}: `cartera import` is not available here: imports skipped")
        return [{"skipped": "`cartera import` is not available in this checkout"}]
    results = []
    for kind, mode, rows in setup.imports:
        prefix = f"BENCH-{kind[0].upper()}{rows // 1000}K-"
        path = work / f"bench-{kind}-{rows}-{mode}.csv"
        make_import_file(path, kind, rows, mode, prefix, companies)
        command = [*cartera_command(), "import", kind, str(path), "--user", DIRECTOR,
                   "--no-progress", "--errors", str(work / "import-errors.csv")]  # fmt: skip
        say(f"{setup.title}: importing {rows:,} {kind} ({mode})")
        started = time.monotonic()
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        peak = 0
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(0.1)
        out, err = process.communicate()
        elapsed = time.monotonic() - started
        match = IMPORT_SUMMARY.search(out)
        result: dict[str, Any] = {
            "kind": kind,
            "mode": mode,
            "rows": rows,
            "seconds": round(elapsed, 2),
            "rows_per_second": round(rows / elapsed) if elapsed else None,
            "peak_rss": peak,
            "command": shlex.join(["cartera", *command[len(cartera_command()) :]]),
        }
        if process.returncode != 0 or not match:
            result["error"] = (err or out).strip().splitlines()[-1:] or ["failed"]
        else:
            result.update(
                {
                    key: int(match[key].replace(",", ""))
                    for key in ("created", "updated", "unchanged", "rejected")
                }
                | {
                    "job_seconds": float(match["s"]),
                    "job_rate": int(match["rate"].replace(",", "")),
                }
            )
        results.append(result)
        path.unlink(missing_ok=True)
    return results


def run_setup(setup: Setup, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Seed (or reuse), serve, measure, clean up: everything about one configuration."""
    work = scratch / setup.key
    work.mkdir(parents=True, exist_ok=True)
    secret = work / "secret_key"
    secret.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    secret.chmod(0o600)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CARTERA_")}
    env.update(
        DJANGO_SETTINGS_MODULE="cartera.settings",
        CARTERA_DEBUG="0",
        CARTERA_SECRET_KEY_FILE=str(secret),
        CARTERA_STATIC_ROOT=str(work / "static"),
        CARTERA_LOG_LEVEL="ERROR",
        CARTERA_DATA_DIR=str(setup.data_dir or work / "data"),
    )
    if setup.engine == "postgresql":
        env["CARTERA_DATABASE_URL"] = setup.database_url
    result: dict[str, Any] = {"key": setup.key, "title": setup.title, "size": setup.size}
    server = Server(env, work / "server.log")
    # A quick run overlaps what can be: its numbers are not the point, its minute is.
    overlap = args.quick
    with ThreadPoolExecutor(max_workers=3) as background:
        starting = None
        if overlap:
            say(f"{setup.title}: starting the server (collectstatic, gunicorn with 2 workers)")
            starting = background.submit(server.start)
        result["seeding"] = seed(setup, env, args)
        say(f"{setup.title}: choosing what to request")
        preparing = background.submit(probe, env, "prepare", DIRECTOR, REP)
        if not overlap:
            preparing.result()
        creating = {
            key: background.submit(
                run,
                [*cartera_command(), "token", "create", "--user", email, "--name", "benchmark"],
                env,
                timeout=300,
            )
            for key, email in (("director", DIRECTOR), ("rep", REP))
        }
        prepared = preparing.result()
        tokens = {key: job.result().stdout.strip().split()[-1] for key, job in creating.items()}
        if starting is None:
            say(f"{setup.title}: starting the server (collectstatic, gunicorn with 2 workers)")
            server.start()
        else:
            starting.result()
    result["counts"], targets = prepared["counts"], prepared["targets"]
    result["targets"] = targets
    result["server_command"] = server.command
    result["gunicorn"] = server.gunicorn
    try:
        plan = {
            "host": "127.0.0.1",
            "port": server.port,
            "password": DEMO_PASSWORD,
            "requests": args.requests,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "clients": args.clients,
            "throughput_seconds": args.throughput_seconds,
            "throughput_requests": args.throughput_requests,
            "personas": request_plan(targets, tokens),
            "mode": "requests",
        }
        plan_file, result_file = work / "plan.json", work / "result.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        say(f"{setup.title}: measuring requests (director, then rep)")
        with RssSampler(server) as memory:
            run([sys.executable, str(BENCH / "load.py"), str(plan_file), str(result_file)],
                env, timeout=7200, echo=True)  # fmt: skip
        result["load"] = json.loads(result_file.read_text(encoding="utf-8"))
        result["rss"] = {"start": memory.before, "peak": memory.peak, "end": memory.after}
        result["exports"] = []
        if not args.no_export:
            say(f"{setup.title}: exporting every account the director sees (CSV, then XLSX)")
            for fmt in ("csv", "xlsx"):
                export_plan = {
                    **plan,
                    "mode": "exports",
                    "personas": plan["personas"][:1],
                    "exports": [{"name": f"accounts-{fmt}", "format": fmt,
                                 "path": f"/accounts/export/?format={fmt}"}],
                }  # fmt: skip
                plan_file.write_text(json.dumps(export_plan), encoding="utf-8")
                with RssSampler(server) as export_memory:
                    run([sys.executable, str(BENCH / "load.py"), str(plan_file),
                         str(result_file)], env, timeout=3600)  # fmt: skip
                exported = json.loads(result_file.read_text(encoding="utf-8"))["exports"][0]
                exported["rss"] = {
                    "before": export_memory.before,
                    "peak": export_memory.peak,
                    "after": export_memory.after,
                }
                result["exports"].append(exported)
        result["rss"]["end"] = server.rss()
    finally:
        server.stop()
    personas = plan["personas"][:1] if overlap else plan["personas"]
    if overlap:
        with ThreadPoolExecutor(max_workers=2) as background:
            explaining = background.submit(explain_slow, setup, env, work, personas, result, tokens)
            result["imports"] = run_imports(setup, env, work, args, targets["companies"])
            result["plans"] = explaining.result()
    else:
        # Plans first: the imports add rows the measured requests did not see.
        result["plans"] = explain_slow(setup, env, work, personas, result, tokens)
        result["imports"] = run_imports(setup, env, work, args, targets["companies"])
    if not args.quick:  # (a quick run's database is deleted with its temporary directory)
        # Removes the quick-logs, the imported rows and the benchmark's API tokens.
        result["cleanup"] = probe(env, "cleanup")
    return result


def missed(setup: Setup, name: str, stats: dict[str, Any]) -> bool:
    """Whether a measured operation misses the issue's latency targets (where they apply)."""
    if not setup.targets or OPERATION_LABELS[name].kind == "write" or stats.get("p50") is None:
        return False
    return bool(stats["p50"] > TARGET_P50_MS or stats["p95"] > TARGET_P95_MS)


def explain_slow(
    setup: Setup,
    env: dict[str, str],
    work: Path,
    personas: list[dict[str, Any]],
    result: dict[str, Any],
    tokens: dict[str, str],
) -> dict[str, Any]:
    """Query plans of the operations that missed a target, and of each persona's slowest."""
    wanted = []
    for persona in personas:
        measured = result["load"]["personas"][persona["key"]]["operations"]
        reads = {n: s for n, s in measured.items() if OPERATION_LABELS[n].kind != "write"}
        slowest = max(reads, key=lambda n: reads[n]["p95"] or 0) if reads else None
        for operation in persona["operations"]:
            name = operation["name"]
            if name == slowest or missed(setup, name, measured[name]):
                wanted.append(
                    {
                        "key": f"{persona['key']}:{name}",
                        "email": persona["email"],
                        "method": operation["method"],
                        "path": operation["path"],
                        "headers": operation.get("headers") or {},
                        "form": operation.get("form"),
                        "token": tokens[persona["key"]] if operation.get("auth") else None,
                    }
                )
    if not wanted:
        return {}
    say(f"{setup.title}: query plans of {len(wanted)} operations")
    plan_file = work / "explain.json"
    plan_file.write_text(json.dumps({"requests": wanted}), encoding="utf-8")
    try:
        explained: dict[str, Any] = probe(env, "explain", str(plan_file), timeout=3600)
    except RuntimeError as error:
        return {"error": str(error)[-2000:]}
    return explained


# --- the report -------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """CPU, cores, memory, OS and versions."""
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {"Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    for package in ("Django", "gunicorn", "psycopg", "django-ninja"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def postgres_info(url: str) -> dict[str, str]:
    """Server version and the settings that matter here."""
    import psycopg

    settings = ("server_version", "shared_buffers", "work_mem", "effective_cache_size",
                "max_parallel_workers_per_gather", "random_page_cost", "jit")  # fmt: skip
    info = {}
    with psycopg.connect(database_named(url, "postgres")) as connection:
        for name in settings:
            row = connection.execute(f"SHOW {name}").fetchone()
            info[name] = str(row[0]) if row else "?"
    return info


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def mb(value: int | None) -> str:
    return "—" if not value else f"{value / 2**20:,.0f} MB"


def render(report: dict[str, Any]) -> str:
    """``docs/performance.md``."""
    out: list[str] = []
    add = out.append
    info = report["machine"]
    add("# Performance\n")
    add(
        "Measured by `bench/run.py` (`make bench`; `make bench-quick` for a smoke run). "
        "This page is written by the harness: do not edit it by hand; the lead's notes on why a "
        "target is missed go in the sections marked *Why*.\n"
    )
    add(f"- **Date:** {report['date']}")
    add(f"- **Command:** `{report['command']}`")
    add(f"- **Machine:** {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM, "
        f"{info['os']}")  # fmt: skip
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    if report.get("postgresql"):
        pg = report["postgresql"]
        versions += f", PostgreSQL {pg['server_version']}"
    add(f"- **Versions:** {versions}")
    if report.get("postgresql"):
        pg = report["postgresql"]
        add("- **PostgreSQL settings (defaults, untuned):** " + ", ".join(
            f"{name} {value}" for name, value in pg.items() if name != "server_version"
        ))  # fmt: skip
    add(
        "- **How:** `cartera serve --workers 2 --no-worker` (gunicorn as `cartera serve` runs "
        "it, DEBUG off, secret key from a file, static files collected and served by "
        "WhiteNoise; no background worker: nothing here queues tasks); the load "
        "comes from a second process on 127.0.0.1 (`bench/load.py`, `http.client`), signed in "
        "with a session cookie (the API with a Bearer token from `cartera token create`). "
        f"Each operation: {report['settings']['warmup']} warm-up requests, then up to "
        f"{report['settings']['requests']} requests or {report['settings']['seconds']} s, one at "
        f"a time. Throughput: {report['settings']['clients']} concurrent clients sending the "
        f"mix of read operations for {report['settings']['throughput_seconds']} s. Times are "
        "to the last byte of the response, in milliseconds."
    )
    add(
        "- **Personas:** the director sees the whole book; the rep (Pablo Navarro, Iberia) sees "
        'about a tenth of it. The "big account" is the one with the most interactions the '
        'persona sees, the "small" one has a handful.\n'
    )
    add("## Repeat it\n")
    add(
        "`make bench` runs every configuration (`python bench/run.py`; options through "
        '`make bench ARGS="…"`, e.g. `ARGS="--only pg-large --fresh"`); `make bench-quick` '
        "(or `make bench ARGS=--quick`) is the smoke run on the small demo that the test suite "
        "also runs. `python bench/run.py --help` lists the options (PostgreSQL URL, request "
        "counts, durations…). The demo databases are kept and reused while they hold the "
        "expected demo; `--fresh` seeds them again.\n"
    )
    summary = summary_lines(report)
    if summary:
        add("## Targets at a glance\n")
        out.extend(summary)
        add("")
    for setup in report["setups"]:
        out.extend(render_setup(setup, report))
    comparison = comparison_lines(report)
    if comparison:
        out.extend(comparison)
    for failure in report.get("failures", []):
        out.append(f"## {failure['title']}: the run failed\n")
        out.append("```\n" + failure["error"] + "\n```\n")
    return "\n".join(out).rstrip() + "\n"


def summary_lines(report: dict[str, Any]) -> list[str]:
    """One line per target of the issue (large size)."""
    lines = []
    for setup in report["setups"]:
        if not setup.get("targets_apply"):
            continue
        operations = [
            (persona, name, stats)
            for persona, data in setup["load"]["personas"].items()
            for name, stats in data["operations"].items()
            if OPERATION_LABELS[name].kind != "write"
        ]
        misses = [
            f"{name} ({persona})" for persona, name, stats in operations if stats.get("missed")
        ]
        lines.append(
            f"- **{setup['title']}**: latency targets (p50 ≤ {TARGET_P50_MS:g} ms, p95 ≤ "
            f"{TARGET_P95_MS:g} ms) met by {len(operations) - len(misses)} of {len(operations)} "
            "read operations" + (f"; missed: {', '.join(misses)}." if misses else ".")
        )
        for persona, data in setup["load"]["personas"].items():
            rps = data["throughput"]["rps"]
            verdict = "met" if rps >= TARGET_RPS else f"missed by {TARGET_RPS - rps:,.0f} req/s"
            lines.append(
                f"- **{setup['title']}**: {rps:,.0f} requests/s with "
                f"{data['throughput']['clients']} clients as the {persona} (target ≥ "
                f"{TARGET_RPS:g}: {verdict})."
            )
        for item in setup.get("imports", []):
            if "rows_per_second" not in item or item.get("error"):
                continue
            rate = item["rows_per_second"]
            verdict = (
                "met" if rate >= TARGET_IMPORT_ROWS_PER_SECOND
                else f"missed by {TARGET_IMPORT_ROWS_PER_SECOND - rate:,} rows/s"
            )  # fmt: skip
            lines.append(
                f"- **{setup['title']}**: import of {item['rows']:,} {item['kind']} "
                f"({item['mode']}) at {rate:,} rows/s end to end (target ≥ "
                f"{TARGET_IMPORT_ROWS_PER_SECOND:,}: {verdict})."
            )
        seeding = setup["seeding"]
        if seeding.get("wall_seconds") and setup["size"] == "large":
            lines.append(
                f"- **{setup['title']}**: large demo generated in "
                f"{seeding['wall_seconds'] / 60:.1f} min (target < 10 min: "
                f"{'met' if seeding['wall_seconds'] < 600 else 'missed'})."
            )
    return lines


def render_setup(setup: dict[str, Any], report: dict[str, Any]) -> list[str]:
    """The sections of one configuration."""
    out = [f"## {setup['title']}\n"]
    counts = setup["counts"]
    out.append(
        f"{counts['accounts']:,} accounts, {counts['contacts']:,} contacts "
        f"({counts['contact links']:,} links to accounts), {counts['interactions']:,} "
        f"interactions. Server: `{setup['server_command']}`, that is "
        f"`{setup.get('gunicorn', 'gunicorn')}`.\n"
    )
    seeding = setup["seeding"]
    out.append("### Demo generation\n")
    if seeding.get("reused"):
        out.append(
            f"Reused the database seeded on {seeding.get('seeded_at')} (`--fresh` to rebuild); "
            "its generation as measured then:\n"
        )
    if seeding.get("steps"):
        out.append("| Step | Rows | Seconds | Rows/s |")
        out.append("|---|---:|---:|---:|")
        for step in seeding["steps"]:
            rows = step["rows"]
            rate = f"{rows / step['seconds']:,.0f}" if rows and step["seconds"] else "—"
            out.append(
                f"| {step['step']} | {'—' if rows is None else f'{rows:,}'} | "
                f"{step['seconds']:,.1f} | {rate} |"
            )
        out.append("")
    if seeding.get("wall_seconds") is not None:
        line = (
            f"`{seeding.get('command')}`: {seeding['wall_seconds']:,.0f} s wall clock, "
            f"{seeding.get('cpu_seconds', 0):,.0f} s of CPU in its own processes (the database "
            f"server's is not counted); load average {seeding.get('load_before')} before, "
            f"{seeding.get('load_after')} after."
        )
        if seeding.get("vacuum_seconds") is not None:
            line += f" Then `VACUUM (ANALYZE)`: {seeding['vacuum_seconds']:,.0f} s."
        out.append(line + "\n")
    for persona, data in setup["load"]["personas"].items():
        about = setup["targets"][persona]
        out.append(f"### Requests as the {persona} (one client)\n")
        out.append(
            f"Sees {about['visible_accounts']:,} accounts; big account #{about['big_account']} "
            f"({about['big_account_interactions']:,} interactions), small account "
            f"#{about['small_account']} ({about['small_account_interactions']:,}); deep page: "
            f'{about["deep_pages"]} pages in; common term "{setup["targets"]["common_term"]}" '
            f"({setup['targets']['common_term_contacts']:,} contacts contain it).\n"
        )
        if setup.get("targets_apply"):
            out.append("| Operation | p50 | p95 | max | n | Target | Met? |")
            out.append("|---|---:|---:|---:|---:|---|---|")
        else:
            out.append("| Operation | p50 | p95 | max | n |")
            out.append("|---|---:|---:|---:|---:|")
        for name, stats in data["operations"].items():
            operation = OPERATION_LABELS[name]
            row = (
                f"| {operation.label} | {ms(stats['p50'])} | {ms(stats['p95'])} | "
                f"{ms(stats['max'])} | {stats['count']}"
            )
            if stats.get("errors"):
                answers = ", ".join(
                    "no answer in 60 s" if status == 0 else f"HTTP {status}"
                    for status in stats.get("statuses", [])
                    if status != 200
                )
                row += f" ({stats['errors']} failed: {answers})"
            if setup.get("targets_apply"):
                if operation.kind == "write":
                    row += " | — (a write) | — |"
                else:
                    verdict = "no: " + stats["miss"] if stats.get("missed") else "yes"
                    row += f" | ≤ {TARGET_P50_MS:g} / ≤ {TARGET_P95_MS:g} | {verdict} |"
            else:
                row += " |"
            out.append(row)
        throughput = data["throughput"]
        out.append("")
        out.append(
            f"**{throughput['clients']} concurrent clients**, mixed reads: "
            f"**{throughput['rps']:,.1f} requests/s** ({throughput['count']:,} requests in "
            f"{throughput['seconds']} s; p50 {ms(throughput['p50'])} ms, p95 "
            f"{ms(throughput['p95'])} ms, {throughput['errors']} errors)"
            + (
                f"; target ≥ {TARGET_RPS:g}: "
                + ("met" if throughput["rps"] >= TARGET_RPS else "**missed**")
                if setup.get("targets_apply")
                else ""
            )
            + ".\n"
        )
    rss = setup["rss"]
    out.append(
        f"**Server memory** (gunicorn master + 2 workers, RSS): {mb(rss['start'])} at the "
        f"start, {mb(rss['peak'])} at the peak of the request phase, {mb(rss['end'])} at the "
        "end.\n"
    )
    if setup.get("exports"):
        out.append("### Export (director, every account)\n")
        out.append(
            "| Format | Rows | Size | Seconds | Rows/s | MB/s | Server RSS before → peak → after |"
        )
        out.append("|---|---:|---:|---:|---:|---:|---|")
        for item in setup["exports"]:
            if item.get("status") != 200:
                out.append(f"| {item['format']} | not available (HTTP {item.get('status')}) |||||")
                continue
            memory = item["rss"]
            out.append(
                f"| {item['format'].upper()} | {item['rows']:,} | {mb(item['bytes'])} | "
                f"{item['seconds']:,.2f} | {item['rows_per_second'] or 0:,} | "
                f"{item['megabytes_per_second']} | {mb(memory['before'])} → "
                f"{mb(memory['peak'])} → {mb(memory['after'])} |"
            )
        out.append("")
    if setup.get("imports"):
        out.append("### Import (`cartera import`, as the director)\n")
        skipped = [item for item in setup["imports"] if "skipped" in item]
        if skipped:
            out.append(f"Not measured: {skipped[0]['skipped']}.\n")
        else:
            out.append(
                "| File | Rows | Created | Updated | Unchanged | Rejected | Seconds | Rows/s "
                "(end to end) | Rows/s (the job) | Peak RSS |"
            )
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for item in setup["imports"]:
                label = f"{item['kind']}, {item['mode']}"
                if item.get("error"):
                    out.append(f"| {label} | {item['rows']:,} | failed: {item['error']} ||||||||")
                    continue
                out.append(
                    f"| {label} | {item['rows']:,} | {item['created']:,} | {item['updated']:,} | "
                    f"{item['unchanged']:,} | {item['rejected']:,} | {item['seconds']:,.1f} | "
                    f"{item['rows_per_second']:,} | {item['job_rate']:,} | "
                    f"{mb(item['peak_rss'])} |"
                )
            out.append("")
            out.append(
                "End to end is the whole command (start-up, file detection, mapping, the job); "
                "the job's rate is what the import itself reports. Upsert files hold the same "
                "records with changed values, so every row updates.\n"
            )
    plans = setup.get("plans") or {}
    if plans:
        out.append("### Query plans\n")
        if plans.get("error"):
            out.append(f"Could not capture plans: {plans['error']}\n")
        for key, item in plans.items():
            if key == "error":
                continue
            persona, name = key.split(":", 1)
            stats = setup["load"]["personas"][persona]["operations"][name]
            reason = (
                f"missed the target ({stats['miss']})"
                if stats.get("missed")
                else "the slowest operation here"
            )
            out.append(f"#### {OPERATION_LABELS[name].label}, {persona}: {reason}\n")
            if item.get("error"):
                out.append(f"Could not run it in-process: {item['error']}\n")
                continue
            queries = item["queries"]
            out.append(
                f"{len(queries)} queries, {sum(q['ms'] for q in queries):,.1f} ms in the "
                f"database in all, for a request whose p50 is {ms(stats['p50'])} ms; the "
                "slowest query (captured in-process with `CaptureQueriesContext` from the same "
                "view, then explained):\n"
            )
            main = item["main"]
            if main:
                out.append("```sql\n" + main["sql"] + "\n```\n")
                out.append("```\n" + main["plan"] + "\n```\n")
            if stats.get("missed"):
                out.append("*Why:* (to be written)\n")
    return out


def comparison_lines(report: dict[str, Any]) -> list[str]:
    """The medium shape against the other CRMs' numbers in the issue."""
    setups = [setup for setup in report["setups"] if setup.get("compare")]
    if not setups:
        return []
    out = ["## Against other open CRMs at the medium shape\n"]
    out.append(
        "The issue quotes other open CRMs measured with PostgreSQL on this kind of 2-core "
        "machine at 10,000 accounts / 100,000 contacts. Ratio = their time ÷ Cartera's (p50 "
        f"as the director, who sees everything); the goal is more than {WANTED_SPEEDUP} times "
        "against the fastest of them.\n"
    )
    out.append(
        "| Configuration | Operation | Others | Cartera | Ratio (fastest, slowest) | Over 25x? |"
    )
    out.append("|---|---|---:|---:|---:|---|")
    for setup in setups:
        director = setup["load"]["personas"]["director"]["operations"]
        for name, (label, low, high) in OTHER_CRMS.items():
            if name == "import_contacts_25k":
                found = [
                    item for item in setup.get("imports", [])
                    if item.get("kind") == "contacts" and not item.get("error")
                    and "seconds" in item
                ]  # fmt: skip
                if not found:
                    continue
                ours = found[0]["seconds"]
                shown = f"{ours:,.1f} s"
            else:
                p50 = director.get(name, {}).get("p50")
                if p50 is None:
                    continue
                ours = p50 / 1000
                shown = f"{p50:,.1f} ms"
            others = f"{low:g} to {high:g} s"
            ratio = f"{low / ours:,.0f}x, {high / ours:,.0f}x"
            verdict = "yes" if low / ours > WANTED_SPEEDUP else "**no**"
            out.append(f"| {setup['title']} | {label} | {others} | {shown} | {ratio} | {verdict} |")
    out.append("")
    return out


# --- main -----------------------------------------------------------------------------------


def setups(args: argparse.Namespace, scratch: Path) -> list[Setup]:
    """The configurations to run."""
    if args.quick:
        return [
            Setup(
                "sqlite-small",
                "SQLite, small demo (quick run)",
                "sqlite",
                "small",
                data_dir=scratch / "demo-small",
                imports=[("accounts", "new", 200)],
            )
        ]
    work = Path(args.work_dir).resolve()
    large_url = args.postgres_url
    medium_url = database_named(large_url, database_name(large_url) + "_medium")
    available = {
        "pg-large": Setup(
            "pg-large",
            "PostgreSQL, large demo",
            "postgresql",
            "large",
            database_url=large_url,
            targets=True,
            imports=[
                ("accounts", "new", 10_000),
                ("accounts", "upsert", 10_000),
                ("accounts", "new", 100_000),
                ("accounts", "upsert", 100_000),
            ],
        ),
        "pg-medium": Setup(
            "pg-medium",
            "PostgreSQL, medium demo",
            "postgresql",
            "medium",
            database_url=medium_url,
            compare=True,
            imports=[("contacts", "new", 25_000)],
        ),
        "sqlite-medium": Setup(
            "sqlite-medium",
            "SQLite, medium demo",
            "sqlite",
            "medium",
            data_dir=work / "sqlite-medium",
            compare=True,
            imports=[("contacts", "new", 25_000)],
        ),
    }
    return [available[key] for key in args.only]


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=(
            "Benchmark Cartera served as in production and write docs/performance.md. "
            "Configurations: PostgreSQL with the large demo (pg-large), PostgreSQL with the "
            "medium demo (pg-medium), SQLite with the medium demo (sqlite-medium). Demo "
            "databases are kept and reused between runs."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: the small demo on SQLite in a temporary directory, a handful of "
        "requests per operation (under a minute)",
    )
    parser.add_argument(
        "--only",
        type=lambda text: [item.strip() for item in text.split(",") if item.strip()],
        default=["pg-large", "pg-medium", "sqlite-medium"],
        help="comma-separated configurations to run (default: pg-large,pg-medium,sqlite-medium)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="seed the demo databases again even if they exist"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CARTERA_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="database of the large demo, created if missing; the medium demo goes in the same "
        "name + '_medium' (default: $CARTERA_BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument(
        "--work-dir",
        default=str(REPO / "var" / "bench"),
        help="where the SQLite demo databases are kept between runs (default: %(default)s)",
    )
    parser.add_argument(
        "--output",
        help="the report to write (default: docs/performance.md; with --quick "
        "var/bench/quick.md, so a smoke run never replaces the real report)",
    )
    parser.add_argument(
        "--requests", type=int, help="at most this many requests per operation (default 200; 2 "
        "with --quick)"
    )  # fmt: skip
    parser.add_argument(
        "--seconds", type=float, help="at most this long per operation (default 10; 1 with --quick)"
    )
    parser.add_argument("--warmup", type=int, help="warm-up requests per operation (default 3; 1)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument(
        "--throughput-seconds",
        type=float,
        help="how long the concurrent clients run (default 20; 1 with --quick)",
    )
    parser.add_argument(
        "--throughput-requests",
        type=int,
        default=20_000,
        help="at most this many requests in the throughput phase (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=2025, help="demo seed (default %(default)s)")
    parser.add_argument("--no-import", action="store_true", help="skip the import measurements")
    parser.add_argument("--no-export", action="store_true", help="skip the export measurements")
    args = parser.parse_args(argv)
    quick = args.quick
    if args.output is None:
        args.output = str(
            REPO / "var" / "bench" / "quick.md" if quick else REPO / "docs" / "performance.md"
        )
    args.requests = args.requests or (2 if quick else 200)
    args.seconds = args.seconds or (1.0 if quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 3)
    args.throughput_seconds = args.throughput_seconds or (1.0 if quick else 20.0)
    unknown = set(args.only) - {"pg-large", "pg-medium", "sqlite-medium"}
    if unknown and not quick:
        parser.error(f"unknown configuration: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the report."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = "python bench/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cartera-bench-") as temporary:
        scratch = Path(temporary)
        chosen = setups(args, scratch)
        report: dict[str, Any] = {
            "date": dt.datetime.now().astimezone().isoformat(timespec="minutes"),
            "command": command.strip(),
            "machine": machine(),
            "settings": {
                key: getattr(args, key)
                for key in ("requests", "seconds", "warmup", "clients", "throughput_seconds")
            },
            "setups": [],
        }
        if any(setup.engine == "postgresql" for setup in chosen):
            report["postgresql"] = postgres_info(args.postgres_url)
        failures = 0
        for setup in chosen:
            try:
                result = run_setup(setup, args, scratch)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
                # One configuration failing must not lose the others: say so and go on.
                say(f"{setup.title}: FAILED: {error}")
                report.setdefault("failures", []).append(
                    {"title": setup.title, "error": str(error)[-3000:]}
                )
                failures += 1
                continue
            result["targets_apply"] = setup.targets
            result["compare"] = setup.compare
            for data in result["load"]["personas"].values():
                for name, stats in data["operations"].items():
                    if missed(setup, name, stats):
                        stats["missed"] = True
                        over = []
                        if stats["p50"] > TARGET_P50_MS:
                            over.append(f"p50 +{stats['p50'] - TARGET_P50_MS:,.1f} ms")
                        if stats["p95"] > TARGET_P95_MS:
                            over.append(f"p95 +{stats['p95'] - TARGET_P95_MS:,.1f} ms")
                        stats["miss"] = ", ".join(over)
            report["setups"].append(result)
            output = Path(args.output)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(render(report), encoding="utf-8")
            raw = output.with_suffix(".json") if args.quick else Path(args.work_dir) / "last.json"
            raw.parent.mkdir(parents=True, exist_ok=True)
            raw.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    if failures:
        output = Path(args.output)
        output.write_text(render(report), encoding="utf-8")
    say(f"Wrote {args.output} in {time.monotonic() - started:,.0f} s.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
