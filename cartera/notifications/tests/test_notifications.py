"""Notifications: the page (unread first, mark read), the API and the bell."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from cartera.core.testing import JSON, Book, client_for
from cartera.notifications.models import Notification
from cartera.notifications.services import notify


def _notes(book: Book) -> list[Notification]:
    old = notify(recipient=book.owner, title="Old news", url="/accounts/")
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2), read_at=timezone.now()
    )
    first = notify(recipient=book.owner, title="First unread", url=f"/accounts/{book.account.pk}/")
    second = notify(recipient=book.owner, title="Second unread", actor=book.manager)
    notify(recipient=book.outsider, title="Not yours")
    return [old, first, second]


def test_page_lists_unread_first_and_only_mine(book: Book) -> None:
    _notes(book)
    page = client_for(book.owner).get("/notifications/").content.decode()
    assert page.index("Second unread") < page.index("First unread") < page.index("Old news")
    assert "Not yours" not in page


def test_mark_one_read_and_open_its_link(book: Book) -> None:
    _old, first, second = _notes(book)
    client = client_for(book.owner)
    response = client.post(f"/notifications/{first.pk}/read/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == first.url
    assert Notification.objects.get(pk=first.pk).read_at is not None
    assert Notification.objects.get(pk=second.pk).read_at is None
    others = Notification.objects.get(recipient=book.outsider)
    assert client.post(f"/notifications/{others.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=others.pk).read_at is None


def test_unsafe_links_are_not_followed(book: Book) -> None:
    evil = notify(recipient=book.owner, title="Phish", url="https://evil.example/")
    response = client_for(book.owner).post(f"/notifications/{evil.pk}/read/", {"open": "1"})
    assert response["Location"] == "/notifications/"


def test_mark_all_read(book: Book) -> None:
    _notes(book)
    client_for(book.owner).post("/notifications/read-all/")
    assert not Notification.objects.filter(recipient=book.owner, read_at=None).exists()
    assert Notification.objects.filter(recipient=book.outsider, read_at=None).exists()


def test_api_lists_counts_and_marks_read(book: Book, django_assert_num_queries: object) -> None:
    _old, first, _second = _notes(book)
    client = client_for(book.owner)
    body = client.get("/api/v1/notifications").json()
    assert [item["title"] for item in body["items"]] == [
        "Second unread",
        "First unread",
        "Old news",
    ]
    assert body["items"][0]["actor"]["pk"] == book.manager.pk
    unread = client.get("/api/v1/notifications?unread=true").json()["items"]
    assert len(unread) == 2
    assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 2}
    marked = client.post("/api/v1/notifications/read", {"ids": [first.pk]}, content_type=JSON)
    assert marked.json() == {"marked": 1}
    assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 1}
    assert client.post("/api/v1/notifications/read", {}, content_type=JSON).json() == {"marked": 1}
    bad = client.post("/api/v1/notifications/read", {"ids": ["x"]}, content_type=JSON)
    assert bad.status_code == 422
    assert client_for(book.outsider).get("/api/v1/notifications").json()["items"][0]["title"] == (
        "Not yours"
    )


def test_api_list_query_count_does_not_grow(book: Book) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(book.owner)
    notify(recipient=book.owner, title="one", actor=book.manager)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/notifications")
    for index in range(15):
        notify(recipient=book.owner, title=f"n{index}", actor=book.admin)
    with CaptureQueriesContext(connection) as many:
        client.get("/api/v1/notifications")
    # session, user, the page with its actors joined
    assert len(many.captured_queries) == len(few.captured_queries) <= 3


@pytest.mark.parametrize(("count", "shown"), [(0, None), (3, "3"), (120, "99+")])
def test_bell_shows_the_unread_count(book: Book, count: int, shown: str | None) -> None:
    Notification.objects.bulk_create(
        [Notification(recipient=book.owner, title=f"n{i}") for i in range(count)]
    )
    request = RequestFactory().get("/")
    request.user = book.owner
    html = Template('{% include "notifications/partials/bell.html" %}').render(
        Context({"request": request, "user": book.owner})
    )
    assert 'href="/notifications/"' in html
    if shown is None:
        assert "badge" not in html
    else:
        assert f">{shown}<" in html


def test_bell_counts_once_per_request(book: Book, django_assert_num_queries: object) -> None:
    notify(recipient=book.owner, title="x")
    request = RequestFactory().get("/")
    request.user = book.owner
    bell = '{% include "notifications/partials/bell.html" %}'
    template = Template(bell + bell)
    with django_assert_num_queries(1):
        template.render(Context({"request": request, "user": book.owner}))


def test_pages_fetch_the_bell_after_loading(book: Book, django_assert_num_queries: object) -> None:
    notify(recipient=book.owner, title="x")
    client = client_for(book.owner)
    page = client.get("/notifications/").content.decode()
    assert 'hx-get="/notifications/bell/"' in page
    # session, user, the unread count
    with django_assert_num_queries(3):
        bell = client.get("/notifications/bell/")
    assert bell.status_code == 200
    assert 'data-unread="1"' in bell.content.decode()
