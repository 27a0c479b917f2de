"""``cartera export``, run in-process as a person would type it."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from cartera.accounts import selectors as account_selectors
from cartera.accounts.exports import ACCOUNT_EXPORT
from cartera.cli import main
from cartera.core.management.commands import export as command
from cartera.core.testing import Book, fresh
from cartera.core.tests.test_export import read_xlsx
from cartera.core.tests.test_export_kinds import KINDS, expected

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django closes every connection after a command; the test's transaction must survive."""
    monkeypatch.setattr(connections, "close_all", lambda: None)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of ``cartera ARGS``."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_help_explains_options_and_each_kinds_filters(capsys: Any) -> None:
    code, out, _err = run(capsys, "export", "--help")
    assert code == 0
    assert "usage: cartera export" in out
    for option in ["--user EMAIL", "--format {csv,xlsx}", "--output FILE", "--filter KEY=VALUE"]:
        assert option in out
    assert "{accounts,contacts,interactions}" in out
    assert "accounts      q, status, tier" in out
    assert "interactions  kind, account, contact" in out


def test_csv_to_a_file_with_progress_and_a_summary(capsys: Any, book: Book, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out, err = run(
        capsys, "export", "accounts", "--user", "owner@example.com", "-o", str(target)
    )
    assert code == 0
    assert out == ""
    rows = csv_rows(target)
    assert rows[0][:2] == ["Name", "Legal name"]
    assert [row[0] for row in rows[1:]] == ["Muñoz Logística"]
    assert "Exporting accounts" in err and " rows/s" in err
    assert f"Exported 1 accounts to {target}" in err
    assert "as owner@example.com sees them" in err
    assert os.listdir(tmp_path) == ["out.csv"]  # no partial file left behind


def test_default_name_in_the_current_directory_and_format_from_extension(
    capsys: Any, book: Book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _out, _err = run(capsys, "export", "contacts", "--user", "owner@example.com")
    assert code == 0
    today = timezone.localdate().isoformat()
    assert csv_rows(tmp_path / f"cartera-contacts-{today}.csv")[1][:2] == ["José", "Pérez"]
    code, _out, _err = run(
        capsys, "export", "interactions", "--user", "owner@example.com", "-o", "log.XLSX"
    )
    assert code == 0
    rows = read_xlsx((tmp_path / "log.XLSX").read_bytes())
    assert rows[1][3] == "Kick-off call"


@pytest.mark.parametrize("persona", ["read_only", "outsider"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", KINDS)
def test_visibility_of_the_given_person(
    capsys: Any, book: Book, tmp_path: Path, kind: str, fmt: str, persona: str
) -> None:
    target = tmp_path / f"export.{fmt}"
    email = book.persona(persona).email
    code, _out, err = run(
        capsys, "export", kind, "--user", email, "--format", fmt, "--output", str(target)
    )
    assert code == 0, err
    rows = csv_rows(target) if fmt == "csv" else read_xlsx(target.read_bytes())
    column = KINDS[kind][2]
    assert [str(row[column]) for row in rows[1:]] == expected(kind, persona)


def test_csv_to_standard_output(capsysbinary: Any, book: Book) -> None:
    code = main(["export", "accounts", "--user", "director@example.com", "-o", "-", "--no-bom"])
    captured = capsysbinary.readouterr()
    assert code == 0
    text = captured.out.decode("utf-8")
    assert text.startswith("Name,Legal name,")
    assert [row[0] for row in csv.reader(io.StringIO(text))][1:] == [
        "Muñoz Logística",
        "Nordic Fisk AB",
    ]
    assert b"Exported 2 accounts to standard output" in captured.err


def test_xlsx_to_standard_output(capsysbinary: Any, book: Book) -> None:
    code = main(
        ["export", "accounts", "--user", "owner@example.com", "--format", "xlsx", "-o", "-"]
    )
    captured = capsysbinary.readouterr()
    assert code == 0
    assert read_xlsx(captured.out)[1][0] == "Muñoz Logística"


def test_xlsx_is_not_written_to_a_terminal(
    capsys: Any, book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(command, "_is_terminal", lambda stream: True)
    code, out, err = run(
        capsys, "export", "accounts", "--user", "owner@example.com", "--format", "xlsx", "-o", "-"
    )
    assert code == 2
    assert out == ""
    assert "redirect standard output or use --output FILE" in err


def test_filters_are_those_of_the_list(capsys: Any, book: Book, tmp_path: Path) -> None:
    target = tmp_path / "a.csv"
    code, _out, err = run(
        capsys,
        "export",
        "accounts",
        "--user",
        "admin@example.com",
        "--filter",
        "status=active,prospect",
        "--filter",
        "sort=-name",
        "--filter",
        "country=se",
        "-o",
        str(target),
    )
    assert code == 0, err
    assert [row[0] for row in csv_rows(target)[1:]] == ["Nordic Fisk AB"]
    code, _out, err = run(
        capsys,
        "export",
        "accounts",
        "--user",
        "admin@example.com",
        "--filter",
        "q=muñoz logística",
        "-o",
        str(target),
    )
    assert code == 0, err
    assert [row[0] for row in csv_rows(target)[1:]] == ["Muñoz Logística"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "bogus=1"], "Unknown filter 'bogus'. Filters: q, status, tier,"),
        (["--filter", "cursor=abc"], "Unknown filter 'cursor'."),
        (["--filter", "status=asleep"], "Invalid filter: status: Select a valid choice."),
        (["--filter", "owner=me"], "Invalid filter: owner: Enter a number."),
        (["--filter", "status"], "--filter 'status': write it as KEY=VALUE"),
        (["--user", "nobody@example.com"], "No active person with the email nobody@example.com."),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_code_2(
    capsys: Any, book: Book, tmp_path: Path, args: list[str], message: str
) -> None:
    base = ["export", "accounts", "-o", str(tmp_path / "x.csv")]
    if "--user" not in args:
        base += ["--user", "owner@example.com"]
    code, out, err = run(capsys, *base, *args)
    assert code == 2
    assert message in err
    assert out == ""
    assert os.listdir(tmp_path) == []


def test_unknown_kind_and_format_are_usage_errors(capsys: Any, book: Book) -> None:
    code, _out, err = run(capsys, "export", "deals", "--user", "owner@example.com")
    assert code == 2 and "invalid choice: 'deals'" in err
    code, _out, err = run(
        capsys, "export", "accounts", "--user", "owner@example.com", "--format", "pdf"
    )
    assert code == 2 and "invalid choice: 'pdf'" in err


def test_inactive_person_cannot_export(capsys: Any, book: Book) -> None:
    person = fresh(book.owner)
    person.is_active = False
    person.save(update_fields=["is_active"])
    code, _out, err = run(capsys, "export", "accounts", "--user", "owner@example.com")
    assert code == 2 and "No active person" in err


def test_the_persons_language_and_time_zone(capsys: Any, book: Book, tmp_path: Path) -> None:
    person = fresh(book.owner)
    person.language = "es"
    person.time_zone = "America/Bogota"
    person.save(update_fields=["language", "time_zone"])
    target = tmp_path / "cuentas.csv"
    code, _out, _err = run(
        capsys, "export", "accounts", "--user", "OWNER@example.com", "-o", str(target)
    )
    assert code == 0
    rows = csv_rows(target)
    assert rows[0][:2] == ["Nombre", "Razón social"]
    created = ACCOUNT_EXPORT.headers().index("Created")  # the test runs in English
    bogota = timezone.localtime(book.account.created_at, timezone.get_fixed_timezone(-300))
    assert rows[1][created] == bogota.strftime("%Y-%m-%d %H:%M")


def test_a_failure_part_way_leaves_no_file(
    capsys: Any, book: Book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = account_selectors.account_export_rows

    def failing(user: Any, filters: Any) -> Any:
        yield from real(user, filters)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(account_selectors, "account_export_rows", failing)
    target = tmp_path / "big.xlsx"
    with pytest.raises(RuntimeError):
        main(["export", "accounts", "--user", "owner@example.com", "-o", str(target)])
    assert os.listdir(tmp_path) == []
