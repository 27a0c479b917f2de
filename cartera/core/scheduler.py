"""Scheduled jobs: tasks enqueued on a cron schedule by the running workers.

``settings.CARTERA_SCHEDULE`` maps a job name to a cron expression (read in ``TIME_ZONE``) and
the dotted path of a django-tasks task. Every ``cartera worker`` runs a ``SchedulerThread`` that
wakes about every 30 seconds and calls ``enqueue_due()``: for each job, the latest cron slot at
or before now is due unless a ``ScheduledRun`` row for ``(job, slot)`` exists. The worker that
inserts the row enqueues the task in the same transaction; a concurrent worker's insert fails on
the unique constraint and it skips the job, so a slot runs once however many workers there are.

Only the latest slot is ever considered, so slots missed while no worker ran are caught up by
one run at start-up, never by one run per missed slot. croniter does the cron arithmetic.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task
from django_tasks.exceptions import TaskException

from .models import ScheduledRun

logger = logging.getLogger(__name__)

#: Seconds between two looks at the schedule in a running worker.
CHECK_INTERVAL = 30.0
#: Rows of runs older than this are deleted when a new run is recorded.
KEEP_RUNS_FOR = dt.timedelta(days=90)


@dataclass(frozen=True)
class Job:
    """One scheduled job."""

    name: str
    cron: str
    task_path: str

    def task(self) -> Task[Any, Any]:
        """The task object the dotted path names."""
        try:
            task = import_string(self.task_path)
        except ImportError as error:
            raise ImproperlyConfigured(
                f"Scheduled job {self.name!r}: cannot import {self.task_path!r} ({error})."
            ) from None
        if not isinstance(task, Task):
            raise ImproperlyConfigured(
                f"Scheduled job {self.name!r}: {self.task_path!r} is not a task (use @task())."
            )
        return task

    def last_slot(self, now: dt.datetime) -> dt.datetime:
        """The latest cron slot at or before ``now`` (aware, in ``TIME_ZONE``)."""
        local = timezone.localtime(now, timezone.get_default_timezone())
        previous: dt.datetime = croniter(self.cron, local).get_prev(dt.datetime)
        # croniter's previous slot is strictly before its start; ``now`` may be a slot itself.
        following: dt.datetime = croniter(self.cron, previous).get_next(dt.datetime)
        return following if following <= local else previous

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        """The first cron slot after ``now`` (aware, in ``TIME_ZONE``)."""
        local = timezone.localtime(now, timezone.get_default_timezone())
        following: dt.datetime = croniter(self.cron, local).get_next(dt.datetime)
        return following


def jobs() -> list[Job]:
    """The configured jobs by name; a bad cron expression or task path is ImproperlyConfigured."""
    configured: dict[str, tuple[str, str]] = getattr(settings, "CARTERA_SCHEDULE", {})
    found = []
    for name, (cron, task_path) in sorted(configured.items()):
        if not croniter.is_valid(cron):
            raise ImproperlyConfigured(
                f"Scheduled job {name!r}: {cron!r} is not a cron expression."
            )
        job = Job(name=name, cron=cron, task_path=task_path)
        job.task()
        found.append(job)
    return found


def get_job(name: str) -> Job:
    """The job called ``name``; ``KeyError`` if there is none."""
    for job in jobs():
        if job.name == name:
            return job
    raise KeyError(name)


def _record_and_enqueue(job: Job, slot: dt.datetime, *, manual: bool) -> ScheduledRun | None:
    """Insert the run's row and enqueue the task in one transaction; ``None`` if the row exists
    (another worker got there first)."""
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(name=job.name, slot=slot, manual=manual)
            result = job.task().enqueue()
            run.task_id = str(result.id)[:64]
            run.save(update_fields=["task_id"])
    except IntegrityError:
        return None
    ScheduledRun.objects.filter(enqueued_at__lt=timezone.now() - KEEP_RUNS_FOR).delete()
    return run


def enqueue_due(now: dt.datetime | None = None) -> list[ScheduledRun]:
    """Enqueue every job whose latest slot has not run yet; returns the runs this call made."""
    now = now or timezone.now()
    made = []
    for job in jobs():
        slot = job.last_slot(now)
        if ScheduledRun.objects.filter(name=job.name, slot=slot).exists():
            continue
        run = _record_and_enqueue(job, slot, manual=False)
        if run is not None:
            logger.info("scheduled job %s enqueued for %s", job.name, slot.isoformat())
            made.append(run)
    return made


def run_now(name: str) -> ScheduledRun:
    """Enqueue the job called ``name`` at once (``KeyError`` if there is none)."""
    job = get_job(name)
    for _attempt in range(3):  # the slot is the time: only starts in one microsecond collide
        run = _record_and_enqueue(job, timezone.now(), manual=True)
        if run is not None:
            return run
    raise RuntimeError(f"scheduled job {name!r} could not be recorded")


def run_status(job: Job, run: ScheduledRun) -> str:
    """The run's task status as the queue reports it ("successful", "failed", …), or "" once the
    queue no longer knows it."""
    if not run.task_id:
        return ""
    try:
        return str(job.task().get_result(run.task_id).status).lower()
    except (TaskException, NotImplementedError):
        return ""


def last_runs() -> dict[str, ScheduledRun]:
    """Each job's most recent run (scheduled or by hand)."""
    latest: dict[str, ScheduledRun] = {}
    for run in ScheduledRun.objects.order_by("name", "-enqueued_at", "-pk"):
        latest.setdefault(run.name, run)
    return latest


class SchedulerThread(threading.Thread):
    """Calls ``enqueue_due()`` every ``interval`` seconds until ``stop()``; errors are logged."""

    def __init__(self, interval: float = CHECK_INTERVAL) -> None:
        super().__init__(name="cartera-scheduler", daemon=True)
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        """Look at the schedule at once, then every ``interval`` seconds."""
        while not self._stopped.is_set():
            try:
                close_old_connections()
                enqueue_due()
            except Exception:  # a failure must not stop the schedule (nor the worker)
                logger.exception("scheduled jobs could not be enqueued")
            finally:
                connection.close()
            self._stopped.wait(self.interval)

    def stop(self) -> None:
        """Finish after the current look."""
        self._stopped.set()
