"""The load generator of ``bench/run.py``: a second process sending real HTTP requests.

Standard library only (``http.client``). It signs in as a demo persona with a session cookie,
then measures each operation one request at a time (bounded by a count and a time), then the
throughput of several concurrent clients sending a mix of the read operations, and reports JSON.

    python bench/load.py PLAN.json RESULT.json

``PLAN.json`` (written by ``run.py``)::

    {"host": "127.0.0.1", "port": 8123, "password": "...", "requests": 200, "seconds": 10,
     "warmup": 3, "clients": 4, "throughput_seconds": 20, "throughput_requests": 20000,
     "personas": [{"key": "director", "email": "...", "token": "crt_...",
                   "operations": [{"name": "...", "method": "GET", "path": "/accounts/",
                                   "auth": "session"|"token", "form": {...}, "mix": true}]}],
     "exports": [{"name": "...", "path": "/accounts/export/?format=csv", "format": "csv"}]}
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import math
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT_SECONDS = 60
TIMED_OUT = 0  # the "status" of a request that got no answer in time


class Client:
    """One HTTP client with its own connection and cookies (a browser tab, say)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: str = "session",
        sink: Any = None,
    ) -> tuple[int, int, float]:
        """Send one request; return its status, body size and seconds to the last byte.

        ``sink`` (a callable) receives the body in chunks instead of it being kept.
        """
        sent = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if auth == "token" and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        elif self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        started = time.perf_counter()
        try:
            for attempt in (1, 2):
                try:
                    self.connection.request(method, path, body=body, headers=sent)
                    response = self.connection.getresponse()
                    break
                except (ConnectionError, http.client.HTTPException):
                    # The server closed a kept-alive connection between requests: reconnect.
                    self.connection.close()
                    if attempt == 2:
                        raise
                    started = time.perf_counter()
            size = 0
            if sink is None:
                size = len(response.read())
            else:
                while chunk := response.read(65536):
                    size += len(chunk)
                    sink(chunk)
        except TimeoutError:
            # No answer in TIMEOUT_SECONDS: counted as a failed request, on a new connection.
            self.connection.close()
            return TIMED_OUT, 0, time.perf_counter() - started
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, size, elapsed

    def sign_in(self, email: str, password: str) -> None:
        """Sign in through the login form, as a person would."""
        body = self.get_text("/login/")
        match = CSRF_INPUT.search(body)
        if not match:
            raise RuntimeError("no CSRF token on the sign-in page")
        status, _size, _elapsed = self.request(
            "POST",
            "/login/",
            form={"username": email, "password": password, "csrfmiddlewaretoken": match[1]},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"signing in as {email} failed (HTTP {status})")

    def get_text(self, path: str) -> str:
        """The body of a GET as text."""
        chunks: list[bytes] = []
        status, _size, _elapsed = self.request("GET", path, sink=chunks.append)
        if status != 200:
            raise RuntimeError(f"GET {path} answered HTTP {status}")
        return b"".join(chunks).decode()


def summary(latencies: list[float], statuses: list[int]) -> dict[str, Any]:
    """p50 / p95 / max in milliseconds, the count, and the answers that were not 200."""
    ordered = sorted(latencies)
    count = len(ordered)
    if not count:
        return {"count": 0, "p50": None, "p95": None, "max": None, "errors": 0}

    def percentile(fraction: float) -> float:
        """Nearest rank: the smallest value at least ``fraction`` of the requests took."""
        return ordered[max(0, math.ceil(fraction * count) - 1)] * 1000

    return {
        "count": count,
        "p50": round(statistics.median(ordered) * 1000, 2),
        "p95": round(percentile(0.95), 2),
        "max": round(ordered[-1] * 1000, 2),
        "errors": sum(1 for status in statuses if status != 200),
        "statuses": sorted(set(statuses)),
    }


def call(client: Client, operation: dict[str, Any]) -> tuple[int, int, float]:
    """Send ``operation`` once."""
    form = operation.get("form")
    if form is not None:
        form = {**form, "csrfmiddlewaretoken": client.cookies.get("csrftoken", "")}
    return client.request(
        operation["method"],
        operation["path"],
        form=form,
        headers=operation.get("headers"),
        auth=operation.get("auth", "session"),
    )


def measure(client: Client, operation: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """One client, one request at a time: warm up, then until the count or the time is up."""
    for _ in range(plan["warmup"]):
        if call(client, operation)[0] == TIMED_OUT:
            break
    latencies: list[float] = []
    statuses: list[int] = []
    deadline = time.monotonic() + plan["seconds"]
    sizes = 0
    while len(latencies) < plan["requests"] and time.monotonic() < deadline:
        status, size, elapsed = call(client, operation)
        latencies.append(elapsed)
        statuses.append(status)
        sizes += size
        if status == TIMED_OUT:
            break  # one is enough to know; the rest would only wait as long
    result = summary(latencies, statuses)
    result["bytes"] = sizes // max(1, len(latencies))
    print(
        f"  {operation['name']}: p50 {result['p50']} ms, p95 {result['p95']} ms, "
        f"{result['count']} requests, {result['errors']} errors",
        flush=True,
    )
    return result


def throughput(
    persona: dict[str, Any], clients: list[Client], plan: dict[str, Any]
) -> dict[str, Any]:
    """``clients`` threads sending the mix of read operations for a while: requests/s."""
    mix = [op for op in persona["operations"] if op.get("mix")]
    deadline = time.monotonic() + plan["throughput_seconds"]
    budget = plan["throughput_requests"]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: list[int] = []

    def work(index: int, client: Client) -> None:
        chooser = random.Random(index)
        while time.monotonic() < deadline:
            with lock:
                if len(latencies) >= budget:
                    return
            status, _size, elapsed = call(client, chooser.choice(mix))
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    threads = [
        threading.Thread(target=work, args=(index, client), daemon=True)
        for index, client in enumerate(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    result = summary(latencies, statuses)
    result.update(
        clients=len(clients),
        seconds=round(elapsed, 2),
        rps=round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        operations=[op["name"] for op in mix],
    )
    return result


def export(client: Client, job: dict[str, Any]) -> dict[str, Any]:
    """Download an export to the last byte; count its rows (CSV as it streams)."""
    rows = 0
    if job["format"] == "csv":
        pending = b""
        reader_rows = 0

        # Count CSV records as they arrive, without keeping the file: feed complete lines.
        def sink(chunk: bytes) -> None:
            nonlocal pending, reader_rows
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            pending = data[cut:]
            if cut:
                text = data[:cut].decode("utf-8-sig", errors="replace")
                reader_rows += sum(1 for _ in csv.reader(io.StringIO(text, newline="")))

        status, size, elapsed = client.request("GET", job["path"], sink=sink)
        if pending:
            sink(b"\n")
        rows = max(0, reader_rows - 1)  # the header row
    else:
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
            status, size, elapsed = client.request("GET", job["path"], sink=handle.write)
            handle.flush()
            if status == 200:
                from openpyxl import load_workbook

                workbook = load_workbook(handle.name, read_only=True)
                rows = max(0, sum(1 for _ in workbook.worksheets[0].iter_rows()) - 1)
                workbook.close()
    return {
        "name": job["name"],
        "format": job["format"],
        "status": status,
        "rows": rows,
        "bytes": size,
        "seconds": round(elapsed, 3),
        "rows_per_second": round(rows / elapsed) if elapsed else None,
        "megabytes_per_second": round(size / elapsed / 1e6, 2) if elapsed else None,
    }


def run(plan: dict[str, Any]) -> dict[str, Any]:
    """Every persona's operations, throughput and exports, as the plan says."""
    host, port = plan["host"], plan["port"]
    result: dict[str, Any] = {"personas": {}, "exports": []}
    mode = plan.get("mode", "requests")
    for persona in plan["personas"]:

        def client_for(persona: dict[str, Any] = persona) -> Client:
            client = Client(host, port)
            client.sign_in(persona["email"], plan["password"])
            client.token = persona.get("token")
            return client

        if mode == "requests":
            print(f"{persona['key']} ({persona['email']}):", flush=True)
            client = client_for()
            operations = {
                operation["name"]: measure(client, operation, plan)
                for operation in persona["operations"]
            }
            clients = [client_for() for _ in range(plan["clients"])]
            result["personas"][persona["key"]] = {
                "operations": operations,
                "throughput": throughput(persona, clients, plan),
            }
        elif mode == "exports":
            client = client_for()
            result["exports"] = [export(client, job) for job in plan["exports"]]
    return result


def main(argv: list[str]) -> int:
    """``load.py PLAN.json RESULT.json``."""
    if len(argv) != 2:
        sys.stderr.write(__doc__ or "")
        return 2
    plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = run(plan)
    Path(argv[1]).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
