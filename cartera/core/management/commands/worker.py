"""``cartera worker``: run queued background tasks on whichever queue is configured, and enqueue
the scheduled jobs when their time comes (``cartera.core.scheduler``)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from cartera.core.scheduler import CHECK_INTERVAL, SchedulerThread, jobs


def uses_redis() -> bool:
    """Whether tasks go through Redis (RQ) rather than the database queue."""
    backend = str(settings.TASKS["default"]["BACKEND"])
    return backend.startswith("django_tasks_rq.")


class Command(BaseCommand):
    """Delegate to django-tasks-db's ``db_worker``, or to ``rqworker`` with Redis."""

    help = (
        "Run queued background tasks (emails, imports, reminders). Uses the database queue by "
        "default, or Redis through RQ when CARTERA_REDIS_URL is set. Runs until stopped "
        "(Ctrl-C finishes the current task first) unless --batch is given. While it runs it "
        "also enqueues the scheduled jobs (see 'cartera schedule --list') when they are due, "
        "once per slot however many workers run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """--batch, --queue and --interval."""
        parser.add_argument(
            "--batch",
            action="store_true",
            help="run every task already queued, then exit (for cron jobs and tests)",
        )
        parser.add_argument(
            "--queue", default="default", help="queue to take tasks from (default: %(default)s)"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait when the database queue is empty (default: %(default)s)",
        )
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="do not enqueue scheduled jobs from this worker (--batch never does)",
        )

    def handle(
        self,
        *args: Any,
        batch: bool,
        queue: str,
        interval: float,
        no_schedule: bool = False,
        **options: Any,
    ) -> None:
        """Run the worker of the configured backend in this process, with the scheduler beside
        it in a thread unless this is a batch run."""
        scheduler = None
        if not batch and not no_schedule:
            jobs()  # a bad CARTERA_SCHEDULE stops the worker now, not silently in the thread
            scheduler = SchedulerThread(CHECK_INTERVAL)
            scheduler.start()
        try:
            self._work(batch=batch, queue=queue, interval=interval, **options)
        finally:
            if scheduler is not None:
                scheduler.stop()
                scheduler.join(timeout=5)  # let a look at the schedule in progress finish

    def _work(self, *, batch: bool, queue: str, interval: float, **options: Any) -> None:
        verbosity = options.get("verbosity", 1)
        if uses_redis():
            call_command(
                "rqworker",
                queue,
                burst=batch,
                job_class="django_tasks_rq.Job",
                verbosity=verbosity,
            )
            return
        call_command(
            "db_worker",
            queue_name=queue,
            batch=batch,
            interval=interval,
            startup_delay=not batch,
            reload=False,
            verbosity=verbosity,
        )
