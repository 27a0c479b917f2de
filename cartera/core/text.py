"""Text normalisation used for accent-insensitive search and stable sorting."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalize(value: str | None) -> str:
    """Lower-case, strip accents and collapse spaces: ``"  Muñoz  Pérez"`` → ``"munoz perez"``."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def search_terms(query: str | None, *, limit: int = 8) -> list[str]:
    """Split a user's search into normalised terms; quotes and operators are plain text."""
    cleaned = normalize((query or "")[:200])
    terms = [term for term in cleaned.split(" ") if term]
    return terms[:limit]
