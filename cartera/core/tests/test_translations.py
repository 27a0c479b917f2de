"""The Spanish catalogue is complete and keeps every placeholder of its English source."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from django.utils import translation

import cartera

CATALOGUE = Path(cartera.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}|</?\w+[^>]*>")


def _messages() -> list:
    with CATALOGUE.open("rb") as handle:
        return [m for m in read_po(handle) if m.id]


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    missing = [
        m.id
        for m in _messages()
        if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert missing == []


def test_placeholders_survive_translation() -> None:
    wrong = []
    for message in _messages():
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(sources[-1]))
        for target in targets:
            if sorted(PLACEHOLDER.findall(target)) != expected:
                wrong.append(sources[0])
    assert wrong == []


def test_compiled_catalogue_is_used_at_run_time() -> None:
    with translation.override("es"):
        assert translation.gettext("Accounts") == "Cuentas"
        assert translation.pgettext("history action", "created") == "creó"
