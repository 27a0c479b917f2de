"""The front-end files from node_modules: every one the pages use is served, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import override_settings

from cartera.core.staticfinders import VendorFinder

TEMPLATE_ROOT = Path(settings.BASE_DIR)
VENDOR_REFERENCE = re.compile(r"""vendor/[\w./-]+\.(?:js|css)""")


def referenced_vendor_files() -> set[str]:
    """``vendor/…`` paths named by the templates and the project's own scripts."""
    found: set[str] = set()
    for path in TEMPLATE_ROOT.rglob("*"):
        if path.suffix in {".html", ".js"} and "vendor" not in path.parts:
            found.update(VENDOR_REFERENCE.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_vendor_file_a_page_uses_is_found() -> None:
    used = referenced_vendor_files()
    assert {"vendor/htmx/htmx.min.js", "vendor/chartjs/chart.umd.min.js"} <= used
    for name in used:
        assert finders.find(name), f"{name} is referenced by a page but not served"


def test_fonts_and_source_maps_the_files_point_to_are_served() -> None:
    for name in (
        "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
        "vendor/bootstrap/css/bootstrap.min.css.map",
        "vendor/chartjs/chart.umd.min.js.map",
    ):
        assert finders.find(name), name


def test_the_rest_of_the_packages_is_not_collected() -> None:
    finder = VendorFinder()
    listed = {f"{storage.prefix}/{name}" for name, storage in finder.list([])}
    assert "vendor/sortablejs/Sortable.min.js" in listed
    # Sources, other builds and type definitions ship in the packages but are not served.
    assert (Path(settings.NODE_MODULES) / "sortablejs" / "Sortable.js").exists()
    assert finder.find("vendor/sortablejs/Sortable.js") == []
    assert finder.find("vendor/chartjs/chart.js", find_all=True) == []
    assert len(listed) < 20


def test_a_missing_file_is_a_check_warning() -> None:
    bogus = [("vendor/nothing", "no-such-package/dist", ["nothing.min.js"])]
    with override_settings(CARTERA_VENDOR_FILES=bogus):
        messages = VendorFinder().check()
    assert [message.id for message in messages] == ["cartera.W001"]
    assert "nothing.min.js" in messages[0].msg
