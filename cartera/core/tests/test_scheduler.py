"""Scheduled jobs: due slots, once per slot across workers, catching up, the command and worker."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from cartera.core import scheduler
from cartera.core.management.commands import worker
from cartera.core.models import ScheduledRun
from cartera.settings import env_schedule

MADRID = ZoneInfo("Europe/Madrid")
PING = "cartera.core.tests.test_scheduler.ping"


@task()
def ping() -> str:
    """A task for the schedule in these tests."""
    return "pong"


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    """A time in Madrid (the TIME_ZONE cron expressions are read in)."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=MADRID)


@pytest.fixture
def every_ten_minutes(settings: Any) -> scheduler.Job:
    settings.TIME_ZONE = "Europe/Madrid"
    settings.CARTERA_SCHEDULE = {"ping": ("*/10 * * * *", PING)}
    return scheduler.get_job("ping")


# --- the cron arithmetic -------------------------------------------------------------------------


def test_last_and_next_slot(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Madrid"
    job = scheduler.Job("nightly", "15 0 * * *", PING)
    assert job.last_slot(at(2026, 3, 10, 0, 14)) == at(2026, 3, 9, 0, 15)
    assert job.last_slot(at(2026, 3, 10, 0, 15)) == at(2026, 3, 10, 0, 15)  # exactly on it
    assert job.last_slot(at(2026, 3, 10, 23, 59)) == at(2026, 3, 10, 0, 15)
    assert job.next_slot(at(2026, 3, 10, 0, 15)) == at(2026, 3, 11, 0, 15)
    # read in local time whatever zone ``now`` comes in
    utc_now = at(2026, 3, 10, 0, 20).astimezone(dt.UTC)
    assert job.last_slot(utc_now) == at(2026, 3, 10, 0, 15)
    # 02:30 does not exist on the night clocks go forward: the slot is the first minute after
    dst = scheduler.Job("dst", "30 2 * * *", PING)
    assert dst.next_slot(at(2026, 3, 28, 12, 0)) == at(2026, 3, 29, 3, 0)


def test_the_default_schedule_names_real_tasks(settings: Any) -> None:
    names = {job.name: job.task_path for job in scheduler.jobs()}
    assert names == {
        "expire_quotes": "cartera.quotes.tasks.expire_overdue_quotes",
        "rescore_leads": "cartera.leads.tasks.rescore_all_leads",
    }


def test_bad_schedules_are_refused(settings: Any) -> None:
    settings.CARTERA_SCHEDULE = {"bad": ("every day", PING)}
    with pytest.raises(ImproperlyConfigured, match="not a cron expression"):
        scheduler.jobs()
    settings.CARTERA_SCHEDULE = {"bad": ("0 4 * * *", "cartera.core.tests.test_scheduler.at")}
    with pytest.raises(ImproperlyConfigured, match="is not a task"):
        scheduler.jobs()
    settings.CARTERA_SCHEDULE = {"bad": ("0 4 * * *", "cartera.nowhere.task")}
    with pytest.raises(ImproperlyConfigured, match="cannot import"):
        scheduler.jobs()


def test_the_environment_changes_the_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    default = {"a": ("0 1 * * *", "x.a"), "b": ("0 2 * * *", "x.b")}
    monkeypatch.delenv("CARTERA_SCHEDULE", raising=False)
    assert env_schedule("CARTERA_SCHEDULE", default) == default
    monkeypatch.setenv(
        "CARTERA_SCHEDULE", '{"a": "*/5 * * * *", "b": null, "c": ["0 3 * * 1", "x.c"]}'
    )
    assert env_schedule("CARTERA_SCHEDULE", default) == {
        "a": ("*/5 * * * *", "x.a"),
        "c": ("0 3 * * 1", "x.c"),
    }
    for wrong in ("not json", "[1, 2]", '{"c": "0 3 * * *"}', '{"a": 5}'):
        monkeypatch.setenv("CARTERA_SCHEDULE", wrong)
        with pytest.raises(ImproperlyConfigured):
            env_schedule("CARTERA_SCHEDULE", default)


# --- enqueuing -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_slot_is_enqueued_once(every_ten_minutes: scheduler.Job) -> None:
    first = scheduler.enqueue_due(at(2026, 3, 10, 10, 5))
    assert [(run.name, run.slot) for run in first] == [("ping", at(2026, 3, 10, 10, 0))]
    assert scheduler.enqueue_due(at(2026, 3, 10, 10, 9, 59)) == []
    later = scheduler.enqueue_due(at(2026, 3, 10, 10, 10))
    assert [run.slot for run in later] == [at(2026, 3, 10, 10, 10)]
    results = DBTaskResult.objects.filter(task_path=PING)
    assert results.count() == 2
    assert {str(r.pk) for r in results} == set(
        ScheduledRun.objects.values_list("task_id", flat=True)
    )


@pytest.mark.django_db
def test_missed_slots_run_once_on_start_up(every_ten_minutes: scheduler.Job) -> None:
    scheduler.enqueue_due(at(2026, 3, 10, 10, 0))
    # no worker ran for almost four hours (23 slots): one catch-up run, for the latest slot
    caught_up = scheduler.enqueue_due(at(2026, 3, 10, 13, 47))
    assert [run.slot for run in caught_up] == [at(2026, 3, 10, 13, 40)]
    assert ScheduledRun.objects.count() == 2
    assert DBTaskResult.objects.filter(task_path=PING).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_enqueue_a_slot_once(every_ten_minutes: scheduler.Job) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race on the unique row is run on PostgreSQL")
    slot = at(2026, 3, 10, 10, 0)
    barrier = threading.Barrier(4)
    outcomes: list[bool] = []

    def worker_sees_the_slot() -> None:
        barrier.wait()
        try:
            # straight to the insert, past the "already ran?" look, as two workers can be
            outcomes.append(
                scheduler._record_and_enqueue(every_ten_minutes, slot, manual=False) is not None
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=worker_sees_the_slot) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [False, False, False, True]
    assert ScheduledRun.objects.filter(name="ping", slot=slot).count() == 1
    assert DBTaskResult.objects.filter(task_path=PING).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_thread_enqueues_and_stops(
    every_ten_minutes: scheduler.Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked = threading.Event()
    real = scheduler.enqueue_due

    def enqueue_and_tell(now: dt.datetime | None = None) -> list[ScheduledRun]:
        try:
            return real(now)
        finally:
            looked.set()

    monkeypatch.setattr(scheduler, "enqueue_due", enqueue_and_tell)
    thread = scheduler.SchedulerThread(interval=60)
    thread.start()
    assert looked.wait(10)
    thread.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert ScheduledRun.objects.filter(name="ping").count() == 1


# --- the worker and the command ------------------------------------------------------------------


def test_the_worker_runs_the_scheduler_beside_the_queue(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CARTERA_SCHEDULE = {}
    seen: list[bool] = []

    def work(self: Any, **options: Any) -> None:
        seen.append(any(t.name == "cartera-scheduler" for t in threading.enumerate()))

    monkeypatch.setattr(worker.Command, "_work", work)
    call_command("worker", verbosity=0)
    call_command("worker", batch=True, verbosity=0)
    call_command("worker", no_schedule=True, verbosity=0)
    assert seen == [True, False, False]
    settings.CARTERA_SCHEDULE = {"bad": ("whenever", PING)}
    with pytest.raises(ImproperlyConfigured):
        call_command("worker", verbosity=0)


@pytest.mark.django_db
def test_schedule_command_lists_runs_and_enqueues(settings: Any) -> None:
    # yearly: no slot passes between the two --due below
    settings.CARTERA_SCHEDULE = {"ping": ("0 0 1 1 *", PING)}
    out = StringIO()
    call_command("schedule", "--list", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["JOB", "CRON", "LAST", "RUN", "NEXT", "RUN", "TASK"]
    assert lines[1].split()[:6] == ["ping", "0", "0", "1", "1", "*"]
    assert "never" in lines[1] and lines[1].endswith(PING)
    next_year = timezone.localdate().year + 1
    assert f"{next_year}-01-01 00:00" in lines[1]

    out = StringIO()
    call_command("schedule", "--run", "ping", stdout=out)
    run = ScheduledRun.objects.get()
    assert run.manual and out.getvalue() == f"Enqueued ping (task {run.task_id}).\n"
    assert DBTaskResult.objects.filter(task_path=PING).count() == 1

    out = StringIO()
    call_command("schedule", stdout=out)  # --list is the default
    assert "never" not in out.getvalue() and "(by hand, ready)" in out.getvalue()

    out = StringIO()
    call_command("schedule", "--due", stdout=out)
    assert out.getvalue().startswith("Enqueued ping for ")
    out = StringIO()
    call_command("schedule", "--due", stdout=out)
    assert out.getvalue() == "Nothing is due.\n"

    with pytest.raises(CommandError, match="no scheduled job called 'nope'"):
        call_command("schedule", "--run", "nope")
