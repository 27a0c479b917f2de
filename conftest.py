"""Fixtures shared by the whole suite."""

from __future__ import annotations

from typing import Any

import pytest

from cartera.core.testing import Book, build_book


@pytest.fixture
def book(db: None) -> Book:
    """The personas and their shared book of business (see ``cartera.core.testing``)."""
    return build_book()


@pytest.fixture(autouse=True)
def _fast_and_english(settings: Any) -> None:
    """A fast password hasher for tests, and English unless a test switches language."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages render {% static %} without a collected manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.LANGUAGE_CODE = "en"
