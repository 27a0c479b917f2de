"""The export machinery: safe cells, CSV and XLSX writers, formats, file names, flat memory.

Also holds the helpers the per-kind export tests use to read files back (``read_csv``,
``read_xlsx``), the way a spreadsheet would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import tracemalloc
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from cartera.core import export
from cartera.core.errors import InvalidInput
from cartera.core.export import (
    Column,
    ExportSpec,
    csv_chunks,
    export_filename,
    export_format,
    export_response,
    safe_cell,
    write_csv,
    write_xlsx,
)

HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "-2+3", "+1", "\tTAB", "\rCR"]
MADRID = zoneinfo.ZoneInfo("Europe/Madrid")


# --- reading files back, as a spreadsheet would ---------------------------------------------


def response_bytes(response: Any) -> bytes:
    """The whole body of a (streamed or file) response."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def read_csv(response: Any) -> list[list[str]]:
    """Rows of a CSV download (header first), checking it is UTF-8 with a BOM."""
    assert response.status_code == 200, response.content if not response.streaming else ""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = response_bytes(response)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8")[1:], newline="")))


def read_xlsx(response_or_bytes: Any) -> list[list[Any]]:
    """Values of the first sheet of an XLSX download (header first)."""
    if isinstance(response_or_bytes, bytes):
        raw = response_or_bytes
    else:
        assert response_or_bytes.status_code == 200
        assert response_or_bytes["Content-Type"] == export.CONTENT_TYPES["xlsx"]
        raw = response_bytes(response_or_bytes)
    workbook = load_workbook(io.BytesIO(raw))
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def as_dicts(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Each data row keyed by the header."""
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --- a small spec over plain objects ----------------------------------------------------------


@dataclass
class Thing:
    name: str
    amount: Decimal | int | None
    active: bool | None
    at: dt.datetime | None
    day: dt.date | None
    colour: str


COLOURS = [("red", gettext_lazy("Active")), ("blue", gettext_lazy("Churned"))]

SPEC: ExportSpec[Thing] = ExportSpec(
    "things",
    gettext_lazy("Accounts"),
    (
        Column(gettext_lazy("Name"), lambda t: t.name),
        Column(gettext_lazy("Annual revenue"), lambda t: t.amount, "number"),
        Column(gettext_lazy("Key account"), lambda t: t.active, "bool"),
        Column(gettext_lazy("Created"), lambda t: t.at, "datetime"),
        Column(gettext_lazy("When"), lambda t: t.day, "date"),
        Column(gettext_lazy("Status"), lambda t: t.colour, "choice", COLOURS),
    ),
)

NOON_UTC = dt.datetime(2026, 1, 15, 12, 30, 45, 123456, tzinfo=dt.UTC)


def thing(name: str = "Plain", **changes: Any) -> Thing:
    values: dict[str, Any] = {
        "name": name,
        "amount": Decimal("1234.50"),
        "active": True,
        "at": NOON_UTC,
        "day": dt.date(2026, 2, 1),
        "colour": "red",
    }
    values.update(changes)
    return Thing(**values)


def csv_text(rows: list[Thing], **kwargs: Any) -> str:
    return "".join(csv_chunks(SPEC, rows, tz=MADRID, **kwargs))


def xlsx_book(rows: list[Thing], **kwargs: Any) -> Workbook:
    out = io.BytesIO()
    write_xlsx(SPEC, rows, out, tz=MADRID, **kwargs)
    return load_workbook(io.BytesIO(out.getvalue()))


# --- safe_cell -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_safe_cell_neutralises_formula_prefixes(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Acme", "", "a=b", " =1", 5, Decimal("-2"), True])
def test_safe_cell_leaves_everything_else(value: Any) -> None:
    assert safe_cell(value) == value


def test_safe_cell_turns_none_into_an_empty_cell() -> None:
    assert safe_cell(None) == ""


# --- CSV -------------------------------------------------------------------------------------


def test_csv_has_bom_header_crlf_and_typed_values() -> None:
    text = csv_text([thing(), thing("Empty", amount=None, active=None, at=None, day=None)])
    assert text.startswith("\ufeffName,Annual revenue,Key account,Created,When,Status\r\n")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[1] == ["Plain", "1234.50", "Yes", "2026-01-15 13:30", "2026-02-01", "Active"]
    assert rows[2] == ["Empty", "", "", "", "", "Active"]


def test_csv_quotes_as_rfc_4180_says() -> None:
    tricky = 'Comma, "quote" and\nnew line'
    text = csv_text([thing(tricky)])
    assert '"Comma, ""quote"" and\nnew line"' in text
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[1][0] == tricky


def test_csv_neutralises_hostile_text_but_not_numbers() -> None:
    rows = [thing(value, amount=Decimal("-2")) for value in HOSTILE]
    parsed = list(csv.reader(io.StringIO(csv_text(rows)[1:], newline="")))
    assert [row[0] for row in parsed[1:]] == ["'" + value for value in HOSTILE]
    assert {row[1] for row in parsed[1:]} == {"-2"}


def test_csv_unknown_choice_is_shown_as_stored_and_still_safe() -> None:
    parsed = list(csv.reader(io.StringIO(csv_text([thing(colour="=1+1")])[1:], newline="")))
    assert parsed[1][-1] == "'=1+1"


def test_csv_header_and_labels_follow_the_language() -> None:
    text = csv_text([thing()], language="es")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[0][0] == "Nombre"
    assert rows[1][2] == "Sí"
    assert translation.get_language() == "en"  # the override did not leak


def test_csv_without_bom() -> None:
    assert csv_text([], bom=False) == "Name,Annual revenue,Key account,Created,When,Status\r\n"


def test_csv_comes_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "CSV_BATCH", 3)
    chunks = list(csv_chunks(SPEC, [thing(f"T{n}") for n in range(7)], tz=MADRID))
    assert len(chunks) == 1 + 3  # header, then 3 + 3 + 1 rows
    assert "".join(chunks).count("\r\n") == 8


def test_write_csv_counts_rows_and_encodes_utf8() -> None:
    out = io.BytesIO()
    assert write_csv(SPEC, [thing("Ñandú 🚀"), thing()], out, tz=MADRID) == 2
    assert out.getvalue().startswith(b"\xef\xbb\xbfName,")
    assert "Ñandú 🚀".encode() in out.getvalue()


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_has_a_bold_frozen_filtered_header_and_typed_cells() -> None:
    book = xlsx_book([thing("Ñandú 🚀"), thing("Empty", amount=None, active=False, at=None)])
    sheet = book.worksheets[0]
    assert sheet.title == "Accounts"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F3"
    header = [cell for cell in sheet[1]]
    assert [cell.value for cell in header][:2] == ["Name", "Annual revenue"]
    assert all(cell.font.b for cell in header)
    # XlsxWriter stores the width with Excel's cell padding added (16 → 16.71).
    assert 16 <= sheet.column_dimensions["A"].width < 17
    name, amount, active, at, day, colour = (cell.value for cell in sheet[2])
    assert name == "Ñandú 🚀"
    assert amount == 1234.5 and sheet["B2"].data_type == "n"
    assert active is True and sheet["C2"].data_type == "b"
    # The moment as a Madrid clock shows it (UTC+1 in January), to the second.
    assert at == dt.datetime(2026, 1, 15, 13, 30, 45)
    assert sheet["D2"].is_date
    assert day == dt.datetime(2026, 2, 1)
    assert colour == "Active"
    assert [cell.value for cell in sheet[3]][:4] == ["Empty", None, False, None]


def test_xlsx_neutralises_hostile_text_as_plain_strings() -> None:
    book = xlsx_book([thing(value) for value in HOSTILE])
    sheet = book.worksheets[0]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # A carriage return is stored escaped (``_x000D_``, which Excel shows as CR and openpyxl
    # leaves as it is); the quote in front is what matters.
    values = [cell.value.replace("_x000D_", "\r") for cell in cells]
    assert values == ["'" + v for v in HOSTILE]
    assert {cell.data_type for cell in cells} == {"s"}  # never "f" (formula)


def test_xlsx_drops_characters_xml_cannot_hold_and_caps_cell_length() -> None:
    book = xlsx_book([thing("bell\x07 and\x00nul"), thing("x" * 40_000)])
    values = [row[0] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert values[0] == "bell andnul"
    assert values[1] == "x" * 32_767


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit() -> None:
    book = xlsx_book([thing(f"T{n}") for n in range(5)], max_rows=3)
    assert [sheet.title for sheet in book.worksheets] == [
        "Accounts",
        "Accounts (2)",
        "Accounts (3)",
    ]
    names = [[row[0] for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]
    assert names == [["Name", "T0", "T1"], ["Name", "T2", "T3"], ["Name", "T4"]]


def test_xlsx_failure_part_way_leaves_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken() -> Iterator[Thing]:
        yield thing()
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_xlsx(SPEC, broken(), io.BytesIO(), tz=MADRID)
    assert os.listdir(tmp_path) == []


def test_xlsx_header_follows_the_language() -> None:
    out = io.BytesIO()
    write_xlsx(SPEC, [thing()], out, tz=MADRID, language="es")
    rows = read_xlsx(out.getvalue())
    assert rows[0][0] == "Nombre"
    assert rows[0] != SPEC.headers()


def test_xlsx_leaves_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    out = io.BytesIO()
    assert write_xlsx(SPEC, [thing(f"T{n}") for n in range(50)], out, tz=MADRID) == 50
    assert os.listdir(tmp_path) == []


# --- formats, names, responses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "csv"), ("", "csv"), ("CSV", "csv"), (" xlsx ", "xlsx")]
)
def test_export_format_reads_the_query(value: str | None, expected: str) -> None:
    assert export_format(value) == expected


@pytest.mark.parametrize("value", ["pdf", "xls", "csv;x"])
def test_export_format_refuses_the_unknown(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        export_format(value)
    assert caught.value.field_errors == {"format": ["Choose csv or xlsx."]}


def test_export_filename_names_the_kind_and_day() -> None:
    assert export_filename(SPEC, "xlsx", dt.date(2026, 11, 23)) == "cartera-things-2026-11-23.xlsx"
    with timezone.override(zoneinfo.ZoneInfo("Pacific/Kiritimati")):
        today = timezone.localdate().isoformat()
        assert export_filename(SPEC, "csv") == f"cartera-things-{today}.csv"


def test_csv_response_streams_with_the_language_and_zone_of_the_request() -> None:
    with translation.override("es"), timezone.override(zoneinfo.ZoneInfo("America/Bogota")):
        response = export_response(SPEC, iter([thing()]), "csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith('attachment; filename="cartera-things-')
    assert response["Cache-Control"] == "private, no-store"
    rows = read_csv(response)  # written now, after the request's language was deactivated
    assert rows[0][0] == "Nombre"
    assert rows[1][3] == "2026-01-15 07:30"


@pytest.mark.django_db  # closing a response ends the request, which tidies connections
def test_xlsx_response_sends_a_temporary_file_and_removes_it() -> None:
    response = export_response(SPEC, iter([thing("Café")]), "xlsx")
    assert isinstance(response, FileResponse)
    assert "cartera-things-" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.xlsx"')
    file = response.file_to_stream
    assert file is not None
    # A nameless file (Linux: unlinked at once): nothing on disk outlives the open handle.
    assert isinstance(file.name, int)
    rows = read_xlsx(response)
    response.close()
    assert rows[1][0] == "Café"
    assert file.closed


def test_xlsx_response_failure_closes_the_temporary_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[Any] = []
    real = tempfile.TemporaryFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        file = real(*args, **kwargs)
        opened.append(file)
        return file

    monkeypatch.setattr(tempfile, "TemporaryFile", spy)

    def broken() -> Iterator[Thing]:
        yield thing()
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        export_response(SPEC, broken(), "xlsx")
    assert opened  # the download's file and the sheet's spool
    assert all(file.closed for file in opened)


# --- memory stays flat ------------------------------------------------------------------------


def _peak_bytes(fmt: str, rows: int) -> int:
    def things() -> Iterator[Thing]:
        for number in range(rows):
            yield thing(f"Account {number} with a fairly long name, S.L.")

    tracemalloc.start()
    try:
        if fmt == "csv":
            for _chunk in csv_chunks(SPEC, things(), tz=MADRID):
                pass
        else:
            with tempfile.TemporaryFile() as out:
                write_xlsx(SPEC, things(), out, tz=MADRID)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("fmt", "rows"), [("csv", 1_000), ("xlsx", 300)])
def test_memory_does_not_grow_with_rows(fmt: str, rows: int) -> None:
    small, large = _peak_bytes(fmt, rows), _peak_bytes(fmt, rows * 10)
    # Ten times the rows, about the same peak (a fraction of the rows' own size).
    assert large < small * 1.5 + 256 * 1024, (small, large)
