"""Normalisation behind accent-insensitive search and sorting."""

from cartera.core.text import normalize, search_terms


def test_normalize_strips_accents_case_and_extra_spaces() -> None:
    assert normalize("  Muñoz   PÉREZ ") == "munoz perez"
    assert normalize("Königlich Essen") == "koniglich essen"
    assert normalize("Straße") == "strasse"
    assert normalize(None) == ""


def test_search_terms_treat_operators_and_quotes_as_text() -> None:
    assert search_terms('"O\'Brien" OR 1=1 --') == ['"o\'brien"', "or", "1=1", "--"]
    assert search_terms("   ") == []
    assert len(search_terms("a " * 50)) == 8
