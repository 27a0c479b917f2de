"""Reading an uploaded table: CSV in any common encoding and delimiter, or XLSX streamed.

``open_table(path)`` detects the format (by content, not by name), the encoding (byte-order
mark first, then strict UTF-8, then charset-normalizer on a sample, preferring the Western
encodings people export with), the delimiter and the header row, and returns a ``Table`` whose
``rows()`` yields ``(row_number, values)`` with row numbers as a spreadsheet shows them (the header
is row 1). Nothing is ever loaded whole: CSV is decoded as a stream and XLSX is read with
openpyxl's read-only mode.

Problems with the file as a whole raise ``TableError`` with a message for people; problems with
one row are the engine's business (it rejects the row and goes on).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import charset_normalizer
from django.utils.translation import gettext as _

#: Bytes read to detect the encoding, the delimiter and the header.
SAMPLE_BYTES = 256 * 1024
#: Delimiters recognised automatically, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")
#: Longest cell the CSV parser accepts before giving up on the file (the engine rejects cells
#: longer than their field's maximum long before that).
MAX_CELL = 16 * 1024 * 1024
#: Longest column header kept.
MAX_HEADER = 255

csv.field_size_limit(MAX_CELL)

ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32": "UTF-32",
    "latin-1": "ISO-8859-1 (Latin-1)",
    "cp1252": "Windows-1252",
}
DELIMITER_LABELS = {",": _("comma"), ";": _("semicolon"), "\t": _("tab"), "|": _("vertical bar")}

_WESTERN = ("cp1252", "latin_1", "iso8859_15")
#: charset-normalizer's candidates in the order Cartera's users most likely export them.
_PREFERENCE = ("cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman", "cp1250", "cp1251")
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
    (b"%PDF", "pdf"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"\x1f\x8b", "archive"),
    (b"7z\xbc\xaf", "archive"),
    (b"Rar!", "archive"),
    (b"\x7fELF", "binary"),
    (b"MZ", "binary"),
)


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the five bytes Windows-1252 leaves undefined as Latin-1 does."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return chr(error.object[error.start]), error.start + 1


codecs.register_error("cartera-latin1", _latin1_fallback)


class TableError(Exception):
    """The file cannot be read as a table; the message says why, for people."""


def encoding_label(encoding: str) -> str:
    """How an encoding is shown to people: ``"cp1252"`` → ``"Windows-1252"``."""
    return ENCODING_LABELS.get(encoding, encoding.upper())


def delimiter_label(delimiter: str) -> str:
    """How a delimiter is shown to people: ``";"`` → ``"semicolon (;)"``."""
    name = DELIMITER_LABELS.get(delimiter)
    if delimiter == "\t":
        return str(name)
    return f"{name} ({delimiter})" if name else repr(delimiter)


@dataclass
class Table:
    """An opened file: what was detected, and a way to stream its rows."""

    path: Path
    format: str
    headers: list[str]
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    header_row: int = 1
    estimated_rows: int = 0
    exact: bool = False
    raw_headers: list[str] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        """The encoding as shown to people."""
        return encoding_label(self.encoding) if self.encoding else ""

    def rows(self, start_after: int = 0) -> Iterator[tuple[int, list[str]]]:
        """``(row_number, values)`` of each non-blank data row after row ``start_after``."""
        if self.format == "xlsx":
            return _xlsx_rows(self, start_after)
        return _csv_rows(self, start_after)


def open_table(
    path: Path | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Detect what ``path`` holds and return it as a ``Table`` (or raise ``TableError``)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_BYTES)
    except OSError as exc:
        raise TableError(_("The file could not be read.")) from exc
    if size == 0 or not head.strip():
        raise TableError(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, sheet=sheet)
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            if kind == "xls":
                raise TableError(
                    _(
                        "Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV "
                        "and upload that."
                    )
                )
            raise TableError(_("This is not a CSV or XLSX file."))
    return _open_csv(path, head, size, encoding=encoding, delimiter=delimiter)


# --- CSV -----------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """The codec name of ``sample``: BOM, then strict UTF-8, then the likeliest Western one."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    try:
        # Incremental: a multi-byte character cut at the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        # Mostly UTF-8 with a few stray bytes (a file touched by two programs): still UTF-8,
        # and the rows with the stray bytes are rejected one by one.
        text = sample.decode("utf-8", errors="replace")
        stray = text.count("\ufffd")
        accented = sum(1 for ch in text if ord(ch) > 127) - stray
        if accented >= 3 and stray * 5 <= accented:
            return "utf-8"
    else:
        return "utf-8"
    results = charset_normalizer.from_bytes(sample[:65536])
    candidates = {match.encoding: match.chaos for match in results}
    chosen = "cp1252"
    if candidates:
        least = min(candidates.values())
        plausible = [name for name, chaos in candidates.items() if chaos <= least + 0.02]
        ranked = sorted(
            plausible,
            key=lambda name: _PREFERENCE.index(name) if name in _PREFERENCE else len(_PREFERENCE),
        )
        chosen = ranked[0]
        if "cp1252" in candidates and candidates["cp1252"] <= least + 0.02:
            chosen = "cp1252"
    if chosen in _WESTERN:
        # Latin-1 and Windows-1252 differ only in 0x80-0x9F, where Latin-1 has control
        # characters nobody types: those bytes mean Windows-1252 (euro sign, curly quotes).
        return "cp1252" if re.search(rb"[\x80-\x9f]", sample) else "latin-1"
    return codecs.lookup(chosen).name


def _utf16_without_bom(sample: bytes) -> str:
    """``"utf-16-le"`` / ``"utf-16-be"`` when every other byte of mostly-ASCII text is NUL."""
    probe = sample[:4096]
    if len(probe) < 4:
        return ""
    even = probe[0::2].count(0) / max(1, len(probe[0::2]))
    odd = probe[1::2].count(0) / max(1, len(probe[1::2]))
    if odd > 0.7 and even < 0.1:
        return "utf-16-le"
    if even > 0.7 and odd < 0.1:
        return "utf-16-be"
    return ""


def _codec(encoding: str) -> tuple[str, str]:
    """The codec and error handler a stream is decoded with."""
    if encoding in {"latin-1", "cp1252"}:
        return "cp1252", "cartera-latin1"
    return encoding, "surrogateescape"


def _check_text(text: str) -> None:
    """Refuse binary junk: many NULs or control characters in the decoded sample."""
    if not text:
        return
    controls = sum(
        1 for ch in text[:65536] if unicodedata.category(ch) in {"Cc", "Cs"} and ch not in "\r\n\t"
    )
    if controls > max(8, len(text[:65536]) // 50):
        raise TableError(_("This file does not look like a CSV or XLSX file (binary data)."))


def detect_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of columns."""
    text = "\n".join(lines[:50])
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            records = [record for record in csv.reader(io.StringIO(text), delimiter=delimiter)]
        except csv.Error:
            continue
        records = [record for record in records if any(cell.strip() for cell in record)]
        if len(lines) > 50 and len(records) > 1:
            records = records[:-1]  # the last one may be cut
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(1 for record in records if len(record) == width) / len(records)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _open_csv(
    path: Path, head: bytes, size: int, *, encoding: str | None, delimiter: str | None
) -> Table:
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError as exc:
            raise TableError(_("Unknown encoding: %(name)s.") % {"name": encoding}) from exc
        encoding = {"iso8859-1": "latin-1", "windows-1252": "cp1252"}.get(encoding, encoding)
    else:
        encoding = detect_encoding(head)
    codec, errors = _codec(encoding)
    text = head.decode(codec, errors=errors)
    if len(head) == SAMPLE_BYTES:
        text = text[: text.rfind("\n") + 1] or text
    if "\x00" in text and text.count("\x00") > max(4, len(text) // 100):
        raise TableError(_("This file does not look like a CSV or XLSX file (binary data)."))
    _check_text(text.replace("\x00", ""))
    lines = [line for line in text.splitlines() if line.strip()]
    if delimiter:
        if delimiter in {"tab", "\\t"}:
            delimiter = "\t"
        if len(delimiter) != 1 or delimiter in '\r\n"':
            raise TableError(_("The delimiter must be one character."))
    else:
        delimiter = detect_delimiter(lines)
    table = Table(path=path, format="csv", headers=[], encoding=encoding, delimiter=delimiter)
    header_found = False
    data_rows = 0
    data_bytes = 0
    for number, values in _csv_records(table):
        if not header_found:
            table.raw_headers = values
            table.headers = clean_headers(values)
            table.header_row = number
            header_found = True
            continue
        data_rows += 1
        data_bytes += len(delimiter.join(values).encode(codec, "replace")) + 1
        if data_rows >= 200:
            break
    if not header_found:
        raise TableError(_("The file is empty."))
    if data_rows == 0:
        raise TableError(_("The file has a header row but no data rows."))
    if data_rows < 200:
        table.estimated_rows, table.exact = data_rows, True
    else:
        average = max(1.0, data_bytes / data_rows)
        table.estimated_rows = max(data_rows, int(size / average))
    return table


def _csv_records(table: Table) -> Iterator[tuple[int, list[str]]]:
    """Every record of the file with its spreadsheet row number, blank ones left out."""
    codec, errors = _codec(table.encoding)
    with table.path.open("r", encoding=codec, errors=errors, newline="") as handle:
        reader = csv.reader(_without_bom(handle), delimiter=table.delimiter, strict=False)
        number = 0
        while True:
            number += 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise TableError(
                    _("Row %(row)s cannot be read: %(error)s") % {"row": number, "error": exc}
                ) from exc
            if not values or not any(value.strip() for value in values):
                continue
            yield number, values


def _without_bom(handle: IO[str]) -> Iterator[str]:
    """The lines of ``handle`` with a leading byte-order mark removed."""
    first = True
    for line in handle:
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line


def _csv_rows(table: Table, start_after: int) -> Iterator[tuple[int, list[str]]]:
    for number, values in _csv_records(table):
        if number <= max(start_after, table.header_row):
            continue
        yield number, values


def clean_headers(values: list[Any]) -> list[str]:
    """Headers as shown and mapped: trimmed, never empty, never twice the same."""
    values = list(values)
    while values and str(values[-1] if values[-1] is not None else "").strip() == "":
        # Trailing empty header cells (a sheet formatted wider than its data) are dropped.
        values.pop()
    headers: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(values, start=1):
        text = str(value if value is not None else "").replace("\x00", "").strip()
        text = " ".join(text.split())[:MAX_HEADER]
        if not text:
            text = _("Column %(number)s") % {"number": index}
        candidate, counter = text, 2
        while candidate.casefold() in seen:
            candidate = f"{text} ({counter})"
            counter += 1
        seen.add(candidate.casefold())
        headers.append(candidate)
    return headers


# --- XLSX ----------------------------------------------------------------------------------


def _open_xlsx(path: Path, *, sheet: str | None) -> Table:
    from openpyxl import load_workbook

    handle = path.open("rb")
    try:
        # A file object: openpyxl would refuse a path whose name does not end in .xlsx.
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook: a zip of something else, or damaged
        handle.close()
        raise TableError(_("This is not a CSV or XLSX file.")) from exc
    try:
        names = workbook.sheetnames
        worksheet: Any
        if sheet:
            if sheet not in names:
                raise TableError(_("The workbook has no sheet called %(name)s.") % {"name": sheet})
            worksheet = workbook[sheet]
        else:
            worksheet = workbook.worksheets[0]
        dimension_rows = getattr(worksheet, "max_row", None) or 0
        table = Table(path=path, format="xlsx", headers=[], sheet=worksheet.title)
        header_found = False
        data_rows = 0
        for number, values in _xlsx_records(worksheet):
            if not header_found:
                table.raw_headers = values
                table.headers = clean_headers(values)
                table.header_row = number
                header_found = True
                continue
            data_rows += 1
            if data_rows >= 200:
                break
    except TableError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged workbooks
        raise TableError(_("The workbook could not be read.")) from exc
    finally:
        workbook.close()
        handle.close()
    if not header_found:
        raise TableError(_("The file is empty."))
    if data_rows == 0:
        raise TableError(_("The file has a header row but no data rows."))
    if data_rows < 200:
        table.estimated_rows, table.exact = data_rows, True
    else:
        table.estimated_rows = max(data_rows, dimension_rows - table.header_row)
    return table


def _xlsx_records(worksheet: Any) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        values = [cell_text(value) for value in row]
        while values and values[-1] == "":
            values.pop()
        if not values or not any(value.strip() for value in values):
            continue
        yield number, values


def _xlsx_rows(table: Table, start_after: int) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    with table.path.open("rb") as handle:
        workbook = load_workbook(handle, read_only=True, data_only=True)
        try:
            worksheet = workbook[table.sheet] if table.sheet else workbook.worksheets[0]
            for number, values in _xlsx_records(worksheet):
                if number <= max(start_after, table.header_row):
                    continue
                yield number, values
        finally:
            workbook.close()


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a person reads: dates in ISO, ``1.0`` as ``"1"``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        try:
            text = format(Decimal(repr(value)), "f")
        except InvalidOperation:
            return str(value)
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)
