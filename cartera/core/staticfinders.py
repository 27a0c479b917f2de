"""Static files from ``node_modules``: only the files the pages use, not whole packages.

The npm packages ship sources, every build flavour, type definitions and source maps (~30 MB,
~2,000 files). Collecting them all made the first ``cartera serve`` spend minutes compressing
files no page loads. ``settings.CARTERA_VENDOR_FILES`` lists what is served instead, as
``(URL prefix, directory under node_modules, [files])``; a file listed but missing is reported by
``manage.py check`` (run ``npm ci``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage
from django.core.checks import Warning as CheckWarning
from django.core.files.storage import FileSystemStorage


class VendorFinder(BaseFinder):
    """Find the listed front-end files under ``node_modules`` (``settings.NODE_MODULES``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        root = Path(settings.NODE_MODULES)
        self.packages: list[tuple[str, Path, list[str]]] = [
            (prefix.strip("/"), root / directory, list(files))
            for prefix, directory, files in settings.CARTERA_VENDOR_FILES
        ]

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        """A warning per listed file that is not installed."""
        return [
            CheckWarning(
                f"Front-end file {base / name} is missing.",
                hint="Run `npm ci` (or `make install`).",
                id="cartera.W001",
            )
            for _prefix, base, files in self.packages
            for name in files
            if not (base / name).is_file()
        ]

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        """The absolute path of ``path`` (e.g. ``vendor/chartjs/chart.umd.min.js``), if listed.

        Like Django's own finders: a path, or a list with ``find_all``; ``[]`` when not found.
        """
        found: list[str] = []
        for prefix, base, files in self.packages:
            name = path.removeprefix(prefix + "/") if path.startswith(prefix + "/") else None
            if name in files and (base / name).is_file():
                found.append(str(base / name))
                if not find_all:
                    return found[0]
        return found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        """Every listed file that is installed, with a storage that puts it under its prefix."""
        for prefix, base, files in self.packages:
            storage = FileSystemStorage(location=base)
            storage.prefix = prefix  # type: ignore[attr-defined]  # read by collectstatic
            for name in files:
                if (base / name).is_file():
                    yield name, storage
