"""``cartera rebuild_rollups``: recompute the deal totals the board and the forecast read."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cartera.sales import rollups
from cartera.sales.models import Pipeline


class Command(BaseCommand):
    """Rebuild (or check) the deal totals table from the deals."""

    help = (
        "Recompute the deal totals (per pipeline, stage, owner, type, currency, forecast "
        "category and month) that the board and the forecast read, from the deals themselves. "
        "Every change through Cartera keeps them exact; run this after writing deals into the "
        "database by other means (SQL, a restore of the deals table). Writes to deals wait "
        "while it runs (seconds for hundreds of thousands of deals)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """--pipeline, --check."""
        parser.add_argument(
            "--pipeline", type=int, metavar="ID", help="only this pipeline's totals (its id)"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="change nothing: compare the totals with the deals, list the buckets that "
            "differ and exit with status 1 if any does",
        )

    def handle(self, *args: Any, pipeline: int | None, check: bool, **options: Any) -> None:
        """Rebuild, or compare and report."""
        if pipeline is not None and not Pipeline.objects.filter(pk=pipeline).exists():
            raise CommandError(f"There is no pipeline with id {pipeline}.")
        if check:
            found = rollups.discrepancies(pipeline)
            for key, (stored, actual) in sorted(found.items(), key=lambda item: str(item[0])):
                self.stdout.write(f"{key}: stored {stored}, deals {actual}")
            if found:
                raise CommandError(
                    f"{len(found)} bucket(s) differ from the deals: run "
                    "'cartera rebuild_rollups' to recompute them."
                )
            self.stdout.write("The deal totals match the deals.")
            return
        rows = rollups.rebuild(pipeline)
        self.stdout.write(f"Deal totals rebuilt: {rows} bucket(s).")
