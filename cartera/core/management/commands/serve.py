"""``cartera serve``: the web server and a background worker, stopped together by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.management.commands.collectstatic import (
    Command as CollectStatic,
)
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from whitenoise.storage import CompressedManifestStaticFilesStorage

from cartera.core.management.commands.worker import uses_redis

STOP_TIMEOUT_SECONDS = 15


def collect_static() -> None:
    """Copy static files to STATIC_ROOT with hashed names and a manifest.

    The settings pick the manifest storage only once a manifest exists, so the first collection
    names it explicitly; the server processes started afterwards then serve hashed, compressed
    files.
    """
    command = CollectStatic()
    command.storage = CompressedManifestStaticFilesStorage()
    call_command(command, interactive=False, verbosity=0, clear=False)


class Command(BaseCommand):
    """Collect static files, then run gunicorn and (with the database queue) a worker."""

    help = (
        "Serve Cartera at http://HOST:PORT with gunicorn (DEBUG off, static files by WhiteNoise) "
        "and, unless --no-worker or the queue is on Redis, a background worker for queued "
        "tasks. Ctrl-C stops both."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """--host, --port, --workers, --no-worker."""
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
        )
        parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
        parser.add_argument(
            "--workers", type=int, default=2, help="gunicorn processes (default: %(default)s)"
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start a background worker (run 'cartera worker' elsewhere)",
        )

    def handle(
        self, *args: Any, host: str, port: int, workers: int, no_worker: bool, **options: Any
    ) -> None:
        """Start the processes and watch them until Ctrl-C, SIGTERM or one of them dies."""
        if workers < 1:
            raise CommandError("--workers must be 1 or more.", returncode=1)
        collect_static()
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "cartera.settings"),
            "CARTERA_DEBUG": "0",
            "CARTERA_DATA_DIR": str(settings.DATA_DIR),
        }
        commands = {
            "web server": [
                sys.executable, "-m", "gunicorn", "cartera.wsgi",
                "--bind", f"{host}:{port}",
                "--workers", str(workers),
                # Threads keep each worker's heartbeat going during a long export download
                # (a sync worker streaming a million rows would be killed after --timeout).
                "--worker-class", "gthread", "--threads", "4",
                "--access-logfile", "-",
                "--graceful-timeout", "10",
                # Its default socket lives in $HOME and would be shared by every instance.
                "--no-control-socket",
            ],
        }  # fmt: skip
        if not no_worker and not uses_redis():
            commands["worker"] = [sys.executable, "-m", "django", "worker", "--verbosity", "0"]
        processes: dict[str, subprocess.Popen[bytes]] = {}
        # Ctrl-C reaches the whole process group: the children stop by themselves and get a
        # moment to do so; a SIGTERM reaches only this process, which passes it on at once.
        grace = 0.0
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
        # A shell starting us in the background ignores SIGINT; Ctrl-C must work all the same.
        previous_interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            for name, command in commands.items():
                processes[name] = subprocess.Popen(command, env=environment)  # noqa: S603
            self.stdout.write(
                self.style.SUCCESS(f"Cartera is running at http://{host}:{port}/")
                + f" ({', '.join(processes)}; press Ctrl-C to stop)"
            )
            exited = _wait_for_first_exit(processes)
            code = processes[exited].returncode
            self.stderr.write(f"The {exited} stopped (exit code {code}); stopping the rest.")
            if code:
                raise CommandError(f"The {exited} failed.", returncode=code)
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
            grace = 3.0
        except _Terminated:
            self.stdout.write("Stopping…")
        finally:
            _stop(processes, grace=grace)
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_interrupt)


class _Terminated(Exception):
    """This process received SIGTERM."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (from a service manager or ``kill``) stops as cleanly as Ctrl-C does."""
    raise _Terminated


def _wait_for_first_exit(processes: dict[str, subprocess.Popen[bytes]]) -> str:
    """Block until one process ends; return its name."""
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                return name
        time.sleep(0.5)


def _stop(processes: dict[str, subprocess.Popen[bytes]], *, grace: float) -> None:
    """Let processes end within ``grace``, then SIGTERM them, then kill those that hang."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(p.poll() is None for p in processes.values()):
        time.sleep(0.1)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
