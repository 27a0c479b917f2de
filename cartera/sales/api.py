"""REST operations on deals, their contacts and products, pipelines, the board and the forecast."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Query, Router, Schema, Status
from pydantic import Field

from cartera.contacts.selectors import get_contact_for_user
from cartera.core.api import (
    READ_ERRORS,
    VERSIONED_WRITE_ERRORS,
    WRITE_ERRORS,
    PageOut,
    PageQuery,
    Problem,
    expected_version,
    not_modified,
    page_out,
    request_actor,
    with_etag,
)
from cartera.core.errors import NotFound
from cartera.core.export import EXPORT_ERRORS, EXPORT_OPENAPI, ExportQuery, export_response

from . import selectors, services
from .exports import OPPORTUNITY_EXPORT
from .filters import OpportunityFilters
from .models import OpportunityLine
from .schemas import (
    BoardOut,
    ContactRoleIn,
    DealContactOut,
    ForecastOut,
    LineFields,
    LineOut,
    LossReasonIn,
    LossReasonOut,
    LossReasonPatch,
    MoveIn,
    OpportunityDetailOut,
    OpportunityIn,
    OpportunityOut,
    OpportunityPatch,
    PipelineIn,
    PipelineOut,
    PipelinePatch,
    StageIn,
    StageOrderIn,
    StageOut,
    StagePatch,
    StageVisitOut,
    row_out,
)

router = Router(tags=["sales"])


def _detail(actor: Any, response: HttpResponse, pk: int) -> Any:
    opportunity = selectors.opportunity_detail(actor, pk)
    with_etag(response, opportunity)
    return opportunity


# --- deals -------------------------------------------------------------------------------------


@router.get("/opportunities", response={200: PageOut[OpportunityOut], **READ_ERRORS})
def list_opportunities(
    request: HttpRequest, filters: Query[OpportunityFilters], page: Query[PageQuery]
) -> Any:
    """Deals the caller sees, filtered as on the deal list (lists: repeat or comma-join)."""
    return page_out(
        selectors.opportunity_list(
            request_actor(request), filters, cursor=page.cursor, limit=page.limit
        )
    )


@router.get("/opportunities/export", response=EXPORT_ERRORS, openapi_extra=EXPORT_OPENAPI)
def export_opportunities(
    request: HttpRequest, filters: Query[OpportunityFilters], options: Query[ExportQuery]
) -> HttpResponseBase:
    """Every deal the caller sees matching the list's filters, as CSV (streamed) or XLSX."""
    rows = selectors.opportunity_export_rows(request_actor(request), filters)
    return export_response(OPPORTUNITY_EXPORT, rows, options.format)


@router.get("/opportunities/forecast", response={200: ForecastOut, **READ_ERRORS})
def get_forecast(request: HttpRequest, filters: Query[selectors.ForecastFilters]) -> Any:
    """The weighted forecast per rep, team or pipeline, by month or quarter, per currency."""
    result = selectors.forecast(request_actor(request), filters)
    return {
        "group": filters.group,
        "period": filters.period,
        "periods": [{"start": start, "end": end} for start, end in result.periods],
        "rows": [row_out(row, result.periods) for row in result.rows],
        "totals": [row_out(row, result.periods) for row in result.totals],
    }


@router.post("/opportunities", response={201: OpportunityDetailOut, **WRITE_ERRORS})
def create_opportunity(request: HttpRequest, response: HttpResponse, payload: OpportunityIn) -> Any:
    """Create a deal (owned by the caller unless ``owner`` says otherwise)."""
    actor = request_actor(request)
    opportunity = services.create_opportunity(
        actor=actor, data=payload.model_dump(exclude_unset=True)
    )
    response["Location"] = f"{request.path.rstrip('/')}/{opportunity.pk}"
    return Status(201, _detail(actor, response, opportunity.pk))


@router.get("/opportunities/{pk}", response={200: OpportunityDetailOut, 304: None, **READ_ERRORS})
def get_opportunity(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """One deal with its contacts and products; ``ETag`` is its version."""
    opportunity = selectors.opportunity_detail(request_actor(request), pk)
    if cached := not_modified(request, opportunity):
        return cached
    with_etag(response, opportunity)
    return opportunity


@router.patch("/opportunities/{pk}", response={200: OpportunityDetailOut, **VERSIONED_WRITE_ERRORS})
def update_opportunity(
    request: HttpRequest, response: HttpResponse, pk: int, payload: OpportunityPatch
) -> Any:
    """Change the fields sent; needs ``If-Match`` with the ETag last read (412 if it moved on)."""
    actor = request_actor(request)
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True)
    version = expected_version(request, opportunity)
    services.update_opportunity(
        actor=actor,
        opportunity=opportunity,
        changes=payload.model_dump(exclude_unset=True),
        expected_version=version,
    )
    return _detail(actor, response, pk)


@router.post(
    "/opportunities/{pk}/move", response={200: OpportunityDetailOut, **VERSIONED_WRITE_ERRORS}
)
def move_opportunity(request: HttpRequest, response: HttpResponse, pk: int, payload: MoveIn) -> Any:
    """Move the deal to another stage of its pipeline (the board's drag and drop).

    Needs ``If-Match``; a stale version is a 412 problem and nothing moves. A lost stage needs
    ``loss_reason``.
    """
    actor = request_actor(request)
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True)
    version = expected_version(request, opportunity)
    services.move_opportunity(
        actor=actor,
        opportunity=opportunity,
        stage=payload.stage,
        expected_version=version,
        loss_reason=payload.loss_reason,
        loss_note=payload.loss_note,
    )
    return _detail(actor, response, pk)


@router.delete("/opportunities/{pk}", response={204: None, **VERSIONED_WRITE_ERRORS})
def trash_opportunity(request: HttpRequest, pk: int) -> Any:
    """Move a deal to the trash (restorable); needs ``If-Match``."""
    actor = request_actor(request)
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True)
    version = expected_version(request, opportunity)
    services.trash_opportunity(actor=actor, opportunity=opportunity, expected_version=version)
    return Status(204, None)


@router.post("/opportunities/{pk}/restore", response={200: OpportunityDetailOut, **WRITE_ERRORS})
def restore_opportunity(request: HttpRequest, response: HttpResponse, pk: int) -> Any:
    """Bring a deal back from the trash."""
    actor = request_actor(request)
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True, trashed=True)
    services.restore_opportunity(actor=actor, opportunity=opportunity)
    return _detail(actor, response, pk)


@router.get("/opportunities/{pk}/stages", response={200: list[StageVisitOut], **READ_ERRORS})
def list_stage_history(request: HttpRequest, pk: int) -> Any:
    """The stages the deal went through, when, who moved it and how long it stayed."""
    opportunity = selectors.get_opportunity_for_user(request_actor(request), pk)
    return selectors.stage_history(opportunity)


@router.put(
    "/opportunities/{pk}/contacts/{contact_pk}", response={200: DealContactOut, **WRITE_ERRORS}
)
def set_deal_contact(request: HttpRequest, pk: int, contact_pk: int, payload: ContactRoleIn) -> Any:
    """Put a contact on the deal with a role, or change their role."""
    actor = request_actor(request)
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True)
    contact = get_contact_for_user(actor, contact_pk)
    return services.set_opportunity_contact(
        actor=actor, opportunity=opportunity, contact=contact, role=payload.role
    )


@router.delete("/opportunities/{pk}/contacts/{contact_pk}", response={204: None, **WRITE_ERRORS})
def remove_deal_contact(request: HttpRequest, pk: int, contact_pk: int) -> Any:
    """Take a contact off the deal."""
    actor = request_actor(request)
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True)
    services.remove_opportunity_contact(actor=actor, opportunity=opportunity, contact=contact_pk)
    return Status(204, None)


def _line(actor: Any, pk: int, line_pk: int) -> OpportunityLine:
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True)
    line = OpportunityLine.objects.filter(pk=line_pk, opportunity=opportunity).first()
    if line is None:
        raise NotFound()
    line.opportunity = opportunity
    return line


@router.post("/opportunities/{pk}/lines", response={201: LineOut, **WRITE_ERRORS})
def add_deal_line(request: HttpRequest, pk: int, payload: LineFields) -> Any:
    """Add a product (or a free-text line); without ``unit_price`` the catalogue price is used.

    The deal's amount becomes the sum of its lines (and its ETag changes).
    """
    actor = request_actor(request)
    opportunity = selectors.get_opportunity_for_user(actor, pk, write=True)
    line = services.add_opportunity_line(
        actor=actor, opportunity=opportunity, data=payload.model_dump(exclude_unset=True)
    )
    return Status(201, line)


@router.patch("/opportunities/{pk}/lines/{line_pk}", response={200: LineOut, **WRITE_ERRORS})
def update_deal_line(request: HttpRequest, pk: int, line_pk: int, payload: LineFields) -> Any:
    """Change a product line; the deal's amount follows."""
    actor = request_actor(request)
    line = _line(actor, pk, line_pk)
    return services.update_opportunity_line(
        actor=actor, line=line, changes=payload.model_dump(exclude_unset=True)
    )


@router.delete("/opportunities/{pk}/lines/{line_pk}", response={204: None, **WRITE_ERRORS})
def remove_deal_line(request: HttpRequest, pk: int, line_pk: int) -> Any:
    """Take a product line off the deal."""
    actor = request_actor(request)
    services.remove_opportunity_line(actor=actor, line=_line(actor, pk, line_pk))
    return Status(204, None)


# --- pipelines and the board -------------------------------------------------------------------


@router.get("/pipelines", response={200: list[PipelineOut], **READ_ERRORS})
def list_pipelines(request: HttpRequest, include_inactive: bool = False) -> Any:
    """Every (active) pipeline with its stages in order."""
    request_actor(request)
    return selectors.pipelines_with_stages(active_only=not include_inactive)


@router.post("/pipelines", response={201: PipelineOut, **WRITE_ERRORS})
def create_pipeline(request: HttpRequest, payload: PipelineIn) -> Any:
    """A new pipeline (administrators and directors)."""
    data = payload.model_dump(exclude_unset=True)
    stages = data.pop("stages", None)
    pipeline = services.create_pipeline(actor=request_actor(request), data=data, stages=stages)
    return Status(201, selectors.get_pipeline(pipeline.pk))


@router.get("/pipelines/{pk}", response={200: PipelineOut, **READ_ERRORS})
def get_pipeline(request: HttpRequest, pk: int) -> Any:
    """A pipeline with its stages."""
    request_actor(request)
    return selectors.get_pipeline(pk)


@router.patch("/pipelines/{pk}", response={200: PipelineOut, **WRITE_ERRORS})
def update_pipeline(request: HttpRequest, pk: int, payload: PipelinePatch) -> Any:
    """Rename, reorder, make default or (de)activate a pipeline."""
    services.update_pipeline(
        actor=request_actor(request),
        pipeline=selectors.get_pipeline(pk),
        changes=payload.model_dump(exclude_unset=True),
    )
    return selectors.get_pipeline(pk)


@router.post("/pipelines/{pk}/stages", response={201: StageOut, **WRITE_ERRORS})
def create_stage(request: HttpRequest, pk: int, payload: StageIn) -> Any:
    """Add a stage (at the end unless ``position`` is given)."""
    stage = services.create_stage(
        actor=request_actor(request),
        pipeline=selectors.get_pipeline(pk),
        data=payload.model_dump(exclude_unset=True),
    )
    return Status(201, stage)


def _stage(pk: int, stage_pk: int) -> Any:
    stage = selectors.get_stage(stage_pk)
    if stage.pipeline_id != pk:
        raise NotFound()
    return stage


@router.patch("/pipelines/{pk}/stages/{stage_pk}", response={200: StageOut, **WRITE_ERRORS})
def update_stage(request: HttpRequest, pk: int, stage_pk: int, payload: StagePatch) -> Any:
    """Edit a stage's name, probability, kind, forecast category or usual days."""
    return services.update_stage(
        actor=request_actor(request),
        stage=_stage(pk, stage_pk),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete("/pipelines/{pk}/stages/{stage_pk}", response={204: None, **WRITE_ERRORS})
def delete_stage(request: HttpRequest, pk: int, stage_pk: int) -> Any:
    """Delete an empty stage (one with deals, or with history, is refused with 422)."""
    services.delete_stage(actor=request_actor(request), stage=_stage(pk, stage_pk))
    return Status(204, None)


@router.put(
    "/pipelines/{pk}/stage-order", response={200: PipelineOut, **WRITE_ERRORS, 412: Problem}
)
def reorder_stages(request: HttpRequest, pk: int, payload: StageOrderIn) -> Any:
    """Put the stages in this order (every stage id once); ``expected`` guards a stale order."""
    services.reorder_stages(
        actor=request_actor(request),
        pipeline=selectors.get_pipeline(pk),
        stage_ids=payload.stages,
        expected_order=payload.expected,
    )
    return selectors.get_pipeline(pk)


class BoardQuery(Schema):
    """How many cards each column shows."""

    per_column: int = Field(
        selectors.BOARD_COLUMN_LIMIT, ge=1, le=200, description="Cards per column"
    )


@router.get("/pipelines/{pk}/board", response={200: BoardOut, **READ_ERRORS})
def get_board(
    request: HttpRequest,
    pk: int,
    filters: Query[OpportunityFilters],
    options: Query[BoardQuery],
) -> Any:
    """The pipeline's board: per stage the first cards and totals per currency (all deals)."""
    result = selectors.board(
        request_actor(request), selectors.get_pipeline(pk), filters, per_column=options.per_column
    )
    return {"pipeline": result.pipeline, "columns": result.columns}


@router.get("/loss-reasons", response={200: list[LossReasonOut], **READ_ERRORS})
def list_loss_reasons(request: HttpRequest, include_inactive: bool = False) -> Any:
    """The reasons to choose from when a deal is lost."""
    request_actor(request)
    return selectors.loss_reasons() if include_inactive else selectors.active_loss_reasons()


@router.post("/loss-reasons", response={201: LossReasonOut, **WRITE_ERRORS})
def create_loss_reason(request: HttpRequest, payload: LossReasonIn) -> Any:
    """Add a loss reason (administrators and directors)."""
    reason = services.create_loss_reason(
        actor=request_actor(request), data=payload.model_dump(exclude_unset=True)
    )
    return Status(201, reason)


@router.patch("/loss-reasons/{pk}", response={200: LossReasonOut, **WRITE_ERRORS})
def update_loss_reason(request: HttpRequest, pk: int, payload: LossReasonPatch) -> Any:
    """Rename, reorder or retire a loss reason."""
    return services.update_loss_reason(
        actor=request_actor(request),
        reason=selectors.get_loss_reason(pk),
        changes=payload.model_dump(exclude_unset=True),
    )
