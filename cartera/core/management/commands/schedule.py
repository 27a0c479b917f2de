"""``cartera schedule``: the scheduled jobs, when they last ran and will run, or one run now."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cartera.core import scheduler


def _when(value: Any) -> str:
    """A time as people read it here: local, to the minute, with the offset."""
    return timezone.localtime(value, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M %z")


class Command(BaseCommand):
    """List the jobs (--list, the default), enqueue one now (--run) or every due one (--due)."""

    help = (
        "Show the scheduled jobs (CARTERA_SCHEDULE): each job's cron expression, task, last run "
        "and next run (--list, the default); enqueue one job now (--run NAME); or enqueue the "
        "jobs whose time has come (--due, for a system cron where no 'cartera worker' runs). A "
        "running 'cartera worker' enqueues due jobs by itself. Times are in CARTERA_TIME_ZONE."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """--list, --run NAME, --due."""
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--list", action="store_true", help="show each job, its cron, last and next run"
        )
        action.add_argument(
            "--run", metavar="NAME", help="enqueue the job NAME now (a worker then runs it)"
        )
        action.add_argument(
            "--due",
            action="store_true",
            help="enqueue every job whose latest slot has not run yet, then exit",
        )

    def handle(self, *args: Any, run: str | None = None, due: bool = False, **options: Any) -> None:
        """Do the chosen action."""
        if run:
            try:
                made = scheduler.run_now(run)
            except KeyError:
                names = ", ".join(job.name for job in scheduler.jobs()) or "none"
                raise CommandError(
                    f"There is no scheduled job called {run!r} (jobs: {names}).", returncode=2
                ) from None
            self.stdout.write(f"Enqueued {made.name} (task {made.task_id or '?'}).")
            return
        if due:
            runs = scheduler.enqueue_due()
            for made in runs:
                self.stdout.write(f"Enqueued {made.name} for {_when(made.slot)}.")
            if not runs:
                self.stdout.write("Nothing is due.")
            return
        self._list()

    def _list(self) -> None:
        jobs = scheduler.jobs()
        if not jobs:
            self.stdout.write("No scheduled jobs (CARTERA_SCHEDULE is empty).")
            return
        now = timezone.now()
        last = scheduler.last_runs()
        rows = [("JOB", "CRON", "LAST RUN", "NEXT RUN", "TASK")]
        for job in jobs:
            previous = last.get(job.name)
            if previous is None:
                last_text = "never"
            else:
                notes = [
                    note
                    for note in (
                        "by hand" if previous.manual else "",
                        scheduler.run_status(job, previous),
                    )
                    if note
                ]
                last_text = _when(previous.enqueued_at) + (
                    f" ({', '.join(notes)})" if notes else ""
                )
            rows.append((job.name, job.cron, last_text, _when(job.next_slot(now)), job.task_path))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())
