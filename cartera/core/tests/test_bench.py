"""``make bench-quick`` end to end: the benchmark harness runs and reports every operation.

Not a timed test: it checks the harness works (demo, production server, load generator, report),
not how fast Cartera is. It runs ``bench/run.py --quick`` (the small demo on SQLite in a
temporary directory, a free port) and reads the report it wrote to a temporary file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[3]
LABELS = [
    "Accounts list, first page",
    "Accounts list, page 50 (cursor)",
    "Accounts list, owner + status filter",
    "Account detail, big account",
    "Account timeline, big account",
    "Account detail, small account",
    "Account timeline, small account",
    "Contacts list, first page",
    "Contacts list, role + channel filter",
    "Global search, common term",
    "Global search, rare term (an email)",
    "API: list accounts",
    "API: account detail",
    "Quick-log an interaction (POST)",
]
NUMBER = r"[\d,]+\.\d"


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the quick benchmark runs on its own SQLite database; once is enough",
)
def test_the_quick_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    output = tmp_path / "performance.md"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CARTERA_")}
    completed = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--output", str(output)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = output.read_text(encoding="utf-8")
    data = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))

    assert "`python bench/run.py --quick --output" in report
    assert "## SQLite, small demo (quick run)" in report
    for section in ("director", "rep"):
        body = report.split(f"### Requests as the {section} (one client)")[1].split("###")[0]
        for label in LABELS:
            cells = rf"\| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \|"
            row = re.search(rf"\| {re.escape(label)} {cells}", body)
            assert row, (section, label)
            p50, p95, worst = (float(value.replace(",", "")) for value in row.groups())
            assert 0 < p50 <= p95 <= worst
        assert re.search(rf"mixed reads: \*\*{NUMBER} requests/s\*\*", body)

    (setup,) = data["setups"]
    assert setup["counts"]["accounts"] == 200
    for persona in ("director", "rep"):
        measured = setup["load"]["personas"][persona]
        assert set(measured["operations"]) == {
            "accounts_first", "accounts_deep", "accounts_filtered", "account_big",
            "timeline_big", "account_small", "timeline_small", "contacts_first",
            "contacts_filtered", "search_common", "search_rare", "api_list", "api_detail",
            "quick_log", "deals_first", "board", "forecast",
        }  # fmt: skip
        for name, stats in measured["operations"].items():
            assert stats["count"] >= 2, name
            assert stats["errors"] == 0, (persona, name, stats)
        assert measured["throughput"]["rps"] > 0
        assert measured["throughput"]["errors"] == 0
    # The rep sees only part of the book.
    targets = setup["targets"]
    assert targets["rep"]["visible_accounts"] < targets["director"]["visible_accounts"]

    exports = {item["format"]: item for item in setup["exports"]}
    assert exports["csv"]["status"] == 200
    assert exports["csv"]["rows"] == targets["director"]["visible_accounts"]
    assert exports["xlsx"]["rows"] == targets["director"]["visible_accounts"]
    assert setup["rss"]["start"] > 10 * 2**20  # a real gunicorn master and two workers

    (imported,) = setup["imports"]
    if "skipped" not in imported:
        assert imported["created"] == 200, imported
        assert imported["rows_per_second"] > 0
    assert "### Query plans" in report
    plans = setup["plans"]
    assert plans and all(item.get("main") for item in plans.values()), plans
