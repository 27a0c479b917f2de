"""Background tasks on the database queue, run by ``cartera worker --batch``."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cartera.core.tasks import send_email


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """The worker installs its own Ctrl-C handlers; put the test runner's back afterwards."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in handlers.items():
        signal.signal(number, handler)


# The worker checks its connection between tasks as a long-running process does, which a
# test wrapped in a transaction cannot survive: these tests commit for real.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("restore_signals")]


def test_worker_batch_sends_a_queued_email_once() -> None:
    result = send_email.enqueue(
        subject="Informe mensual", body="Adjunto el informe.", to=["cliente@example.com"]
    )
    assert result.status == TaskResultStatus.READY
    assert len(mail.outbox) == 0

    call_command("worker", batch=True, verbosity=0)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Informe mensual"
    assert mail.outbox[0].to == ["cliente@example.com"]
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 1


def test_worker_batch_runs_each_task_only_once() -> None:
    send_email.enqueue(subject="One", body="1", to=["a@example.com"])
    send_email.enqueue(subject="Two", body="2", to=["b@example.com"])

    call_command("worker", batch=True, verbosity=0)
    call_command("worker", batch=True, verbosity=0)

    assert sorted(message.subject for message in mail.outbox) == ["One", "Two"]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {
        TaskResultStatus.SUCCESSFUL
    }


def test_worker_only_takes_tasks_of_its_queue() -> None:
    send_email.using(queue_name="default").enqueue(subject="Hi", body="", to=["a@example.com"])

    call_command("worker", batch=True, queue="other", verbosity=0)

    assert len(mail.outbox) == 0
    assert DBTaskResult.objects.get().status == TaskResultStatus.READY


def test_html_email_carries_both_parts() -> None:
    send_email.enqueue(
        subject="Bienvenida", body="Hola", html_body="<p>Hola</p>", to=["a@example.com"]
    )

    call_command("worker", batch=True, verbosity=0)

    (message,) = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    assert message.body == "Hola"
    assert message.alternatives[0][0] == "<p>Hola</p>"
