"""Reordering a pipeline's stages: the call the drag and drop makes, its stale-page guard, access.

The pipeline page (``sales/pipeline.html`` + ``static/cartera/stages.js``) sends the new order to
``PUT /api/v1/pipelines/<id>/stage-order`` with the order it showed as ``expected``; the browser
test that drags a stage is ``e2e/test_stage_order.py``.
"""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.middleware.csrf import _get_new_csrf_string
from django.urls import reverse

from cartera.core.errors import Conflict
from cartera.core.testing import JSON, PROBLEM, Book, client_for
from cartera.sales import services
from cartera.sales.models import Pipeline, Stage


def order(pipeline: Pipeline) -> list[int]:
    return list(pipeline.stages.order_by("position", "pk").values_list("pk", flat=True))


def url(pipeline: Pipeline) -> str:
    return f"/api/v1/pipelines/{pipeline.pk}/stage-order"


def test_the_page_offers_drag_and_drop_over_the_api(book: Book, pipeline: Pipeline) -> None:
    response = client_for(book.admin).get(reverse("sales:pipeline_edit", args=[pipeline.pk]))
    html = response.content.decode()
    assert f'data-order-url="{url(pipeline)}"' in html
    assert re.findall(r'<tr data-stage="(\d+)"', html) == [str(pk) for pk in order(pipeline)]
    assert html.count('class="stage-handle') == len(order(pipeline))
    assert "cartera/stages.js" in html and "vendor/sortablejs/Sortable.min.js" in html
    # The keyboard fallback stays: an up and a down button per stage.
    assert html.count('data-move="up"') == html.count('data-move="down"') == len(order(pipeline))


def test_a_drop_saves_the_new_order_and_is_audited(book: Book, pipeline: Pipeline) -> None:
    before = order(pipeline)
    wanted = [before[2], before[0], before[1], *before[3:]]
    response = client_for(book.admin).put(
        url(pipeline), {"stages": wanted, "expected": before}, content_type=JSON
    )
    assert response.status_code == 200, response.content
    assert [stage["pk"] for stage in response.json()["stages"]] == wanted
    assert order(pipeline) == wanted
    moved = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Stage), object_id=before[2]
    ).latest("timestamp")
    assert moved.actor == book.admin and moved.changes["position"] == ["2", "0"]


def test_a_stale_page_changes_nothing(book: Book, pipeline: Pipeline) -> None:
    """Another admin reordered since the page was drawn: 412, their order stays."""
    seen = order(pipeline)
    theirs = [seen[1], seen[0], *seen[2:]]
    services.reorder_stages(actor=book.director, pipeline=pipeline, stage_ids=theirs)
    mine = [*seen[:2], seen[3], seen[2], *seen[4:]]
    response = client_for(book.admin).put(
        url(pipeline), {"stages": mine, "expected": seen}, content_type=JSON
    )
    assert response.status_code == 412 and response["Content-Type"] == PROBLEM
    assert "Someone else changed the stages of this pipeline" in response.json()["detail"]
    assert order(pipeline) == theirs


def test_a_stage_added_since_is_a_conflict_too(book: Book, pipeline: Pipeline) -> None:
    seen = order(pipeline)
    services.create_stage(actor=book.director, pipeline=pipeline, data={"name": "Pilot"})
    with pytest.raises(Conflict):
        services.reorder_stages(
            actor=book.admin, pipeline=pipeline, stage_ids=seen[::-1], expected_order=seen
        )
    assert order(pipeline)[: len(seen)] == seen


def test_without_expected_the_order_is_simply_set(book: Book, pipeline: Pipeline) -> None:
    wanted = order(pipeline)[::-1]
    response = client_for(book.admin).put(url(pipeline), {"stages": wanted}, content_type=JSON)
    assert response.status_code == 200 and order(pipeline) == wanted


def test_an_incomplete_order_is_a_clear_422(book: Book, pipeline: Pipeline) -> None:
    seen = order(pipeline)
    response = client_for(book.admin).put(
        url(pipeline), {"stages": seen[:-1], "expected": seen}, content_type=JSON
    )
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    assert response.json()["errors"]["stages"] == ["List every stage of the pipeline exactly once."]
    assert order(pipeline) == seen


@pytest.mark.parametrize("persona", ["owner", "manager", "read_only"])
def test_only_administrators_and_directors_reorder(
    book: Book, pipeline: Pipeline, persona: str
) -> None:
    seen = order(pipeline)
    response = client_for(book.persona(persona)).put(
        url(pipeline), {"stages": seen[::-1], "expected": seen}, content_type=JSON
    )
    assert response.status_code == 403
    assert order(pipeline) == seen


def test_the_call_needs_the_pages_csrf_token(book: Book, pipeline: Pipeline) -> None:
    """As the script sends it: the session cookie plus the token in ``X-CSRFToken``."""
    seen = order(pipeline)
    client = client_for(book.director, enforce_csrf_checks=True)
    body = {"stages": seen[::-1], "expected": seen}
    refused = client.put(url(pipeline), body, content_type=JSON)
    assert refused.status_code == 403 and order(pipeline) == seen
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    accepted = client.put(url(pipeline), body, content_type=JSON, headers={"X-CSRFToken": secret})
    assert accepted.status_code == 200 and order(pipeline) == seen[::-1]


def test_the_buttons_still_reorder_without_scripts(book: Book, pipeline: Pipeline) -> None:
    seen = order(pipeline)
    page = reverse("sales:pipeline_edit", args=[pipeline.pk])
    response = client_for(book.admin).post(page, {"action": "down", "stage": seen[0]})
    assert response.status_code == 302
    assert order(pipeline) == [seen[1], seen[0], *seen[2:]]
