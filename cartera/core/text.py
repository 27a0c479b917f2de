"""Text normalisation used for accent-insensitive search and stable sorting."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


class _CombiningMarks(dict[int, int | None]):
    """``str.translate`` table dropping combining marks, filled as characters are met (only
    the alphabets' range is kept, so odd text cannot grow it without bound)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if code < 0x3000:
            self[code] = kept
        return kept


_MARKS = _CombiningMarks()


def normalize(value: str | None) -> str:
    """Lower-case, strip accents and collapse spaces: ``"  Muñoz  Pérez"`` → ``"munoz perez"``."""
    if not value:
        return ""
    if value.isascii():  # most text: nothing to decompose (bulk loads call this per row)
        return " ".join(value.lower().split())
    stripped = unicodedata.normalize("NFKD", value).translate(_MARKS)
    return _SPACES.sub(" ", stripped.casefold()).strip()


def search_terms(query: str | None, *, limit: int = 8) -> list[str]:
    """Split a user's search into normalised terms; quotes and operators are plain text."""
    cleaned = normalize((query or "")[:200])
    terms = [term for term in cleaned.split(" ") if term]
    return terms[:limit]
