"""Reading uploaded tables: encodings, delimiters, quoting, XLSX streaming and hostile files."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest

from cartera.imports.readers import (
    TableError,
    cell_text,
    clean_headers,
    delimiter_label,
    detect_encoding,
    encoding_label,
    open_table,
)

from .support import csv_bytes, xlsx_bytes

SPANISH = [
    ["Razón social", "NIF/CIF", "Población", "Teléfono"],
    ["Ferretería Núñez, S.L.", "B12345678", "Málaga", "+34 952 123 456"],
    ["Peña & Hijos", "B87654321", "A Coruña", "981 234 567"],
]


def write(tmp_path: Path, content: bytes, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def rows(path: Path, **options: str) -> list[tuple[int, list[str]]]:
    return list(open_table(path, **options).rows())


@pytest.mark.parametrize(
    ("encoding", "detected", "label"),
    [
        ("utf-8", "utf-8", "UTF-8"),
        ("utf-8-sig", "utf-8-sig", "UTF-8 (BOM)"),
        ("latin-1", "latin-1", "ISO-8859-1 (Latin-1)"),
        ("utf-16", "utf-16", "UTF-16"),
    ],
)
def test_each_encoding_is_detected_and_read_back(
    tmp_path: Path, encoding: str, detected: str, label: str
) -> None:
    path = write(tmp_path, csv_bytes(SPANISH, encoding=encoding))

    table = open_table(path)

    assert table.encoding == detected
    assert table.encoding_label == label
    assert table.headers == SPANISH[0]
    assert [values for _number, values in table.rows()] == SPANISH[1:]


def test_windows_1252_is_told_from_latin_1_by_its_euro_sign_and_quotes(tmp_path: Path) -> None:
    content = csv_bytes(
        [["Nombre", "Nota"], ["Peña", "Presupuesto: 1.200 € – “urgente”"]],  # noqa: RUF001
        encoding="cp1252",
    )
    path = write(tmp_path, content)

    table = open_table(path)

    assert table.encoding == "cp1252"
    assert table.encoding_label == "Windows-1252"
    assert list(table.rows()) == [(2, ["Peña", "Presupuesto: 1.200 € – “urgente”"])]  # noqa: RUF001


def test_bytes_windows_1252_leaves_undefined_are_still_read(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Note\r\nCaf\xe9,odd \x81 byte \x80\r\n")

    assert rows(path, encoding="cp1252") == [(2, ["Café", "odd \x81 byte €"])]


def test_other_single_byte_encodings_are_detected(tmp_path: Path) -> None:
    content = "Имя,Город\nИван,Москва\nПётр,Санкт-Петербург\n".encode("cp1251")  # noqa: RUF001

    table = open_table(write(tmp_path, content))

    assert table.encoding == "cp1251"
    assert next(iter(table.rows())) == (2, ["Иван", "Москва"])


def test_utf_8_detected_on_a_sample_cut_inside_a_character(tmp_path: Path) -> None:
    from cartera.imports import readers

    text = "Nombre\n" + "ñandú\n" * 60000  # ñ is two bytes: the sample ends mid-character
    path = write(tmp_path, text.encode())
    assert path.stat().st_size > readers.SAMPLE_BYTES

    table = open_table(path)

    assert table.encoding == "utf-8"
    assert not table.exact
    assert 50000 < table.estimated_rows < 70000


def test_detect_encoding_prefers_the_byte_order_mark() -> None:
    assert detect_encoding(codecs.BOM_UTF8 + b"a,b\n") == "utf-8-sig"
    assert detect_encoding(codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le")) == "utf-16"
    assert detect_encoding("a,b\nñ,ü\n".encode("utf-16-le")) == "utf-16-le"


@pytest.mark.parametrize(
    ("delimiter", "label"),
    [(",", "comma (,)"), (";", "semicolon (;)"), ("\t", "tab"), ("|", "vertical bar (|)")],
)
def test_each_delimiter_is_detected(tmp_path: Path, delimiter: str, label: str) -> None:
    path = write(tmp_path, csv_bytes(SPANISH, delimiter=delimiter))

    table = open_table(path)

    assert table.delimiter == delimiter
    assert delimiter_label(table.delimiter) == label
    assert [values for _number, values in table.rows()] == SPANISH[1:]


def test_semicolons_win_over_commas_inside_cells(tmp_path: Path) -> None:
    content = "Nombre;Importe;Ciudad\nAcme, S.A.;1.234,56;Madrid\nBeta, S.L.;99,00;Vigo\n"
    path = write(tmp_path, content.encode())

    table = open_table(path)

    assert table.delimiter == ";"
    assert next(iter(table.rows())) == (2, ["Acme, S.A.", "1.234,56", "Madrid"])


def test_given_encoding_and_delimiter_override_detection(tmp_path: Path) -> None:
    path = write(tmp_path, "a|b\nx;y|ñ\n".encode("cp1252"))

    table = open_table(path, encoding="windows-1252", delimiter="|")

    assert (table.encoding, table.delimiter) == ("cp1252", "|")
    assert rows(path, encoding="cp1252", delimiter="|") == [(2, ["x;y", "ñ"])]
    with pytest.raises(TableError, match="Unknown encoding"):
        open_table(path, encoding="klingon")


def test_quoted_cells_keep_delimiters_quotes_and_line_breaks(tmp_path: Path) -> None:
    content = 'Name,Notes,City\n"Acme, Inc.","Line one\nline ""two""",Boston\nBeta,plain,Austin\n'
    path = write(tmp_path, content.encode())

    assert rows(path) == [
        (2, ["Acme, Inc.", 'Line one\nline "two"', "Boston"]),
        (3, ["Beta", "plain", "Austin"]),
    ]


def test_row_numbers_count_blank_lines_as_a_spreadsheet_does(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,City\r\nAcme,Madrid\r\n\r\n,\r\nBeta,Vigo\r\n")

    assert rows(path) == [(2, ["Acme", "Madrid"]), (5, ["Beta", "Vigo"])]


def test_rows_after_a_checkpoint(tmp_path: Path) -> None:
    path = write(tmp_path, csv_bytes([["n"], *[[str(i)] for i in range(10)]]))

    assert [number for number, _values in open_table(path).rows(start_after=8)] == [9, 10, 11]


def test_rows_with_wrong_column_counts_are_passed_on_for_the_engine(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b,c\n1,2\n1,2,3,4\n")

    assert rows(path) == [(2, ["1", "2"]), (3, ["1", "2", "3", "4"])]


def test_headers_are_trimmed_named_and_made_unique() -> None:
    assert clean_headers([" Phone ", "", "phone", "Phone", None, "x" * 300, "", ""]) == [
        "Phone",
        "Column 2",
        "phone (2)",
        "Phone (3)",
        "Column 5",
        "x" * 255,
    ]


def test_empty_files_are_refused(tmp_path: Path) -> None:
    for content in (b"", b"   \r\n\r\n", codecs.BOM_UTF8):
        with pytest.raises(TableError, match="empty"):
            open_table(write(tmp_path, content))


def test_a_header_without_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="no data rows"):
        open_table(write(tmp_path, b"Name,City\r\n"))


def test_binary_junk_is_refused(tmp_path: Path) -> None:
    import random

    junk = random.Random(4).randbytes(5000)
    with pytest.raises(TableError, match=r"binary|not a CSV"):
        open_table(write(tmp_path, junk))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Old Excel"),
        (b"%PDF-1.7\n" + b"x" * 100, "not a CSV or XLSX"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a CSV or XLSX"),
        (b"PK\x03\x04" + b"\x00" * 100, "not a CSV or XLSX"),
    ],
)
def test_other_file_types_get_a_clear_message(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(TableError, match=message):
        open_table(write(tmp_path, content))


def test_a_few_nul_bytes_stay_in_their_cells(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,City\nAc\x00me,Madrid\nBeta,Vigo\n")

    assert rows(path) == [(2, ["Ac\x00me", "Madrid"]), (3, ["Beta", "Vigo"])]


def test_huge_cells_are_read_whole(tmp_path: Path) -> None:
    big = "x" * 300_000
    path = write(tmp_path, csv_bytes([["Name", "Notes"], ["Acme", big]]))

    assert rows(path) == [(2, ["Acme", big])]


def test_bytes_invalid_in_the_detected_encoding_are_kept_for_the_engine(tmp_path: Path) -> None:
    content = b"Nombre\n" + "ñandú\n".encode() * 10 + b"bad \xff byte\n"
    path = write(tmp_path, content)

    table = open_table(path)
    last = list(table.rows())[-1]

    assert table.encoding == "utf-8"
    assert last[0] == 12
    with pytest.raises(UnicodeEncodeError):
        last[1][0].encode("utf-8")


def test_xlsx_is_streamed_with_iso_dates_and_whole_numbers(tmp_path: Path) -> None:
    content = xlsx_bytes(
        [
            ["Razón social", "Empleados", "Alta", "Visita", "Ingresos", "Activo", "Teléfono"],
            ["Acme", 12.0, dt.date(2024, 5, 1), dt.datetime(2024, 5, 2, 9, 30), 1100.04, True,
             34912345678],
            [None, None, None, None, None, None, None],
            ["Beta", 3, None, None, 0.1, False, None],
        ],
        title="Clientes",
    )  # fmt: skip
    path = write(tmp_path, content, "clientes.xlsx")

    table = open_table(path)

    assert (table.format, table.sheet, table.encoding) == ("xlsx", "Clientes", "")
    assert table.headers[0] == "Razón social"
    assert list(table.rows()) == [
        (2, ["Acme", "12", "2024-05-01", "2024-05-02 09:30:00", "1100.04", "true", "34912345678"]),
        (4, ["Beta", "3", "", "", "0.1", "false"]),
    ]


def test_xlsx_sheet_can_be_chosen(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(["Nada"])
    first.append(["x"])
    second = workbook.create_sheet("Cuentas")
    second.append(["Name"])
    second.append(["Acme"])
    path = tmp_path / "two.xlsx"
    workbook.save(path)

    assert list(open_table(path, sheet="Cuentas").rows()) == [(2, ["Acme"])]
    with pytest.raises(TableError, match="no sheet called"):
        open_table(path, sheet="Otra")


def test_xlsx_is_read_in_read_only_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    seen: list[bool] = []
    original = openpyxl.load_workbook

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(bool(kwargs.get("read_only")))
        return original(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    path = write(tmp_path, xlsx_bytes([["Name"], ["Acme"]]), "a.xlsx")

    assert list(open_table(path).rows()) == [(2, ["Acme"])]
    assert seen and all(seen)


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(3.0) == "3"
    assert cell_text(1e20) == "100000000000000000000"
    assert cell_text(0.000001) == "0.000001"
    assert cell_text(dt.datetime(2024, 1, 2)) == "2024-01-02"
    assert cell_text(dt.time(9, 5)) == "09:05:00"
    assert encoding_label("mac_roman") == "MAC_ROMAN"
