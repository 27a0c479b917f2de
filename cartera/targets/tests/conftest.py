"""The reports' deals serve the targets' tests too."""

from cartera.reports.tests.conftest import deals

__all__ = ["deals"]
