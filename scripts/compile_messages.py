"""Compile every ``.po`` catalogue under cartera/locale to ``.mo`` with Babel (no GNU gettext).

Usage: python scripts/compile_messages.py [LOCALE_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE_DIR = Path(__file__).resolve().parent.parent / "cartera" / "locale"


def compile_catalogues(locale_dir: Path) -> int:
    """Write a ``.mo`` beside each ``.po`` that is newer than it; return how many were written."""
    written = 0
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            # Fuzzy entries are drafts: like msgfmt, leave them out of the compiled catalogue.
            write_mo(mo_file, catalog, use_fuzzy=False)
        written += 1
        print(f"compiled {mo_path.relative_to(locale_dir.parent.parent)}")
    return written


if __name__ == "__main__":
    compile_catalogues(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_LOCALE_DIR)
