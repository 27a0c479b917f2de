"""Pipeline settings: drag a stage to reorder; a stale page says so and puts the row back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from cartera.core.testing import Book
from cartera.sales.models import Pipeline
from cartera.sales.services import ensure_default_pipeline, reorder_stages
from e2e.helpers import SignIn, shot

pytestmark = pytest.mark.browser


def order(pipeline: Pipeline) -> list[int]:
    return list(pipeline.stages.order_by("position", "pk").values_list("pk", flat=True))


def row(page: Page, stage_pk: int) -> Locator:
    return page.locator(f'#stage-rows tr[data-stage="{stage_pk}"]')


def shown_order(page: Page) -> list[int]:
    shown = page.eval_on_selector_all(
        "#stage-rows tr[data-stage]", "rows => rows.map(r => Number(r.dataset.stage))"
    )
    return [int(pk) for pk in shown]


def drag_above(page: Page, handle: Locator, target: Locator) -> None:
    """Drag with real pointer events, in steps (SortableJS ignores synthetic drag events)."""
    handle.scroll_into_view_if_needed()
    start = handle.bounding_box()
    end = target.bounding_box()
    assert start and end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] - 10, steps=5)
    page.mouse.move(start["x"] + start["width"] / 2, end["y"] + 8, steps=15)
    page.mouse.move(start["x"] + start["width"] / 2, end["y"] + 4, steps=5)
    page.mouse.up()


def test_drag_a_stage_to_the_top_saves_the_order(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """The drop goes to the API with the order shown; the buttons follow the new order."""
    pipeline = ensure_default_pipeline()
    before = order(pipeline)
    moved = before[2]
    sign_in_as(book.admin)
    page.goto(f"/deals/settings/pipelines/{pipeline.pk}/", wait_until="domcontentloaded")
    expect(page.locator("#stage-rows.is-sortable")).to_be_attached()
    shot(page, request, "before")

    stage_order_call = re.compile(rf"/api/v1/pipelines/{pipeline.pk}/stage-order")
    with page.expect_response(stage_order_call) as answer:
        drag_above(page, row(page, moved).locator(".stage-handle"), row(page, before[0]))
    assert answer.value.status == 200
    assert answer.value.request.post_data_json == {
        "stages": [moved, before[0], before[1], *before[3:]],
        "expected": before,
    }
    expect(page.locator("#stage-message")).to_contain_text("Stage order saved.")
    assert order(pipeline) == [moved, before[0], before[1], *before[3:]]
    expect(row(page, moved).locator("[data-move='up']")).to_be_disabled()
    expect(row(page, before[0]).locator("[data-move='up']")).to_be_enabled()
    shot(page, request, "after")

    # The server's order is the one the page shows after a reload.
    page.reload(wait_until="domcontentloaded")
    assert shown_order(page) == order(pipeline)


def test_a_stale_page_refuses_the_drop_and_puts_the_row_back(
    page: Page, book: Book, sign_in_as: SignIn, request: pytest.FixtureRequest
) -> None:
    """Someone reordered after the page was drawn: 412, a message, the row back in place."""
    pipeline = ensure_default_pipeline()
    seen = order(pipeline)
    sign_in_as(book.admin)
    page.goto(f"/deals/settings/pipelines/{pipeline.pk}/", wait_until="domcontentloaded")
    expect(page.locator("#stage-rows.is-sortable")).to_be_attached()

    theirs = [seen[1], seen[0], *seen[2:]]
    reorder_stages(actor=book.director, pipeline=pipeline, stage_ids=theirs)

    stage_order_call = re.compile(rf"/api/v1/pipelines/{pipeline.pk}/stage-order")
    with page.expect_response(stage_order_call) as answer:
        drag_above(page, row(page, seen[3]).locator(".stage-handle"), row(page, seen[1]))
    assert answer.value.status == 412
    message = page.locator("#stage-message")
    expect(message).to_contain_text("Someone else changed the stages of this pipeline")
    expect(message).to_have_class(re.compile("alert-warning"))
    assert shown_order(page) == seen
    assert order(pipeline) == theirs
    shot(page, request, "stale")
