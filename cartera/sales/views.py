"""Deal pages: list, export, create/edit, detail, trash, board, forecast, pipeline settings.

Views only parse input, call a selector or a service and render; the services decide.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cartera.core.errors import Conflict, DomainError, InvalidInput, NotFound
from cartera.core.export import export_format, export_response
from cartera.core.filters import parse_filters
from cartera.core.views import add_domain_error, render_page_or_partial
from cartera.users.access import assignable_users
from cartera.users.models import Team, User

from . import list_page, selectors, services
from .exports import OPPORTUNITY_EXPORT
from .filters import OpportunityFilters
from .forms import (
    ContactRoleForm,
    LineForm,
    LossReasonForm,
    MoveForm,
    OpportunityForm,
    PipelineForm,
    StageForm,
    opportunity_initial,
)
from .models import (
    ForecastCategory,
    Opportunity,
    OpportunityLine,
    OpportunityType,
    Pipeline,
    StageKind,
)
from .templatetags.forecast_tags import ForecastLinks

CONFLICT_MESSAGE = gettext_lazy(
    "Someone else changed this deal while you were editing it. Nothing was saved: "
    "reload the page to see their changes, then apply yours again."
)
CURRENCY_CODES = ["EUR", "USD", "GBP", "MXN", "COP", "ARS", "CLP", "PEN", "BRL", "CHF", "JPY"]
CLOSE_PERIODS = [
    ("overdue", gettext_lazy("Overdue")),
    ("this_month", gettext_lazy("This month")),
    ("next_month", gettext_lazy("Next month")),
    ("this_quarter", gettext_lazy("This quarter")),
    ("next_quarter", gettext_lazy("Next quarter")),
    ("this_year", gettext_lazy("This year")),
    ("next_year", gettext_lazy("Next year")),
]
SORTS = [
    ("-updated_at", gettext_lazy("Recently updated")),
    ("name", gettext_lazy("Name")),
    ("-amount", gettext_lazy("Largest amount")),
    ("amount", gettext_lazy("Smallest amount")),
    ("-created_at", gettext_lazy("Newest")),
]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError, OverflowError):
        return None


def _filter_choices(user: User) -> dict[str, Any]:
    """Options of the list's and the board's filter bars."""
    return {
        "owners": assignable_users(user),
        "teams": list(Team.objects.order_by("name")),
        "types": OpportunityType.choices,
        "statuses": StageKind.choices,
        "categories": ForecastCategory.choices,
        "close_periods": CLOSE_PERIODS,
        "pipelines": selectors.pipelines(),
        "sorts": SORTS,
    }


# --- list and export ---------------------------------------------------------------------------


@require_GET
@login_required
def deal_list(request: HttpRequest) -> HttpResponse:
    """The deal list: filter bar, table, keyset pages; htmx gets the table only."""
    user = _user(request)
    context: dict[str, Any] = {"nav": "deals"}
    status = 200
    try:
        filters = parse_filters(OpportunityFilters, request.GET)
        page = list_page.opportunity_list_page(
            user, filters, cursor=request.GET.get("cursor") or None
        )
    except InvalidInput as error:
        filters, page, status = OpportunityFilters.model_validate({}), None, error.status
        context["filter_errors"] = error.field_errors
    context.update(filters=filters, page=page)
    query = request.GET.copy()
    query.pop("cursor", None)
    context["export_query"] = query.urlencode()
    if not (request.htmx and not request.htmx.boosted):  # type: ignore[attr-defined]
        context.update(_filter_choices(user))
        if filters.pipeline:
            context["stages"] = selectors.stages_of(selectors.get_pipeline(filters.pipeline))
    return render_page_or_partial(
        request, "sales/list.html", "sales/partials/list_results.html", context, status
    )


@require_GET
@login_required
def deal_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the filtered list: CSV streamed (default) or Excel with ``?format=xlsx``."""
    fmt = export_format(request.GET.get("format"))
    filters = parse_filters(OpportunityFilters, request.GET, ignore={"format"})
    rows = selectors.opportunity_export_rows(_user(request), filters)
    return export_response(OPPORTUNITY_EXPORT, rows, fmt)


# --- create and edit ---------------------------------------------------------------------------


def _form(
    user: User, data: Any = None, *, initial: dict[str, Any] | None = None, deal: Any = None
) -> OpportunityForm:
    owners = assignable_users(user)
    if deal is not None and all(owner.pk != deal.owner_id for owner in owners):
        owners.append(deal.owner)
    pipelines = selectors.pipelines()
    if deal is not None and all(p.pk != deal.pipeline_id for p in pipelines):
        pipelines.append(deal.pipeline)
    stages = [stage for pipeline in pipelines for stage in selectors.stages_of(pipeline)]
    reasons = selectors.active_loss_reasons()
    if deal is not None and deal.loss_reason and all(r.pk != deal.loss_reason_id for r in reasons):
        reasons.append(deal.loss_reason)  # retired since, but still this deal's reason
    return OpportunityForm(
        data,
        initial=initial,
        owners=owners,
        pipelines=pipelines,
        stages=stages,
        reasons=reasons,
    )


def _form_context(form: OpportunityForm, deal: Any, account_label: str) -> dict[str, Any]:
    return {
        "nav": "deals",
        "form": form,
        "deal": deal,
        "account_label": account_label,
        "currency_codes": CURRENCY_CODES,
        "conflict": any(str(CONFLICT_MESSAGE) == str(m) for m in form.non_field_errors()),
    }


def _form_error(form: OpportunityForm, error: DomainError) -> None:
    if isinstance(error, Conflict):
        form.add_error(None, str(CONFLICT_MESSAGE))
    else:
        add_domain_error(form, error)


@require_http_methods(["GET", "POST"])
@login_required
def deal_create(request: HttpRequest) -> HttpResponse:
    """Create a deal (``?account=`` preselects the account); read-only people get 403."""
    from django.conf import settings

    user = _user(request)
    services.ensure_can_write(user)
    pipeline = services.ensure_default_pipeline()
    status = 200
    account_label = request.POST.get("q", "")
    if request.method == "POST":
        form = _form(user, request.POST)
        if form.is_valid():
            try:
                deal = services.create_opportunity(actor=user, data=form.changes(None))
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, _("Deal “%(name)s” created.") % {"name": deal})
                return redirect("sales:detail", pk=deal.pk)
        status = 422
    else:
        initial: dict[str, Any] = {
            "owner": user.pk,
            "currency": settings.CARTERA_CURRENCY,
            "pipeline": pipeline.pk,
            "stage": services.first_open_stage(pipeline).pk,
            "type": OpportunityType.NEW_BUSINESS,
        }
        account_pk = request.GET.get("account", "")
        if account_pk.isdigit():
            from cartera.accounts.selectors import get_account_for_user

            try:
                account = get_account_for_user(user, account_pk)
            except NotFound:
                pass
            else:
                initial["account"], account_label = account.pk, account.name
                initial["currency"] = account.currency or initial["currency"]
        form = _form(user, initial=initial)
    return render_page_or_partial(
        request,
        "sales/form.html",
        "sales/form.html",
        _form_context(form, None, account_label),
        status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a deal; a stale version keeps the user's input and overwrites nothing."""
    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True)
    status = 200
    account_label = deal.account.name if deal.account else ""
    if request.method == "POST":
        form = _form(user, request.POST, deal=deal)
        account_label = request.POST.get("q", "")
        if form.is_valid():
            try:
                services.update_opportunity(
                    actor=user,
                    opportunity=deal,
                    changes=form.changes(deal),
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, _("Deal “%(name)s” saved.") % {"name": deal})
                return redirect("sales:detail", pk=deal.pk)
        status = 409 if form.non_field_errors() and _version(request) is not None else 422
    else:
        form = _form(user, initial=opportunity_initial(deal), deal=deal)
    return render_page_or_partial(
        request,
        "sales/form.html",
        "sales/form.html",
        _form_context(form, deal, account_label),
        status,
    )


# --- detail and its actions --------------------------------------------------------------------


def _detail_context(user: User, deal: Opportunity, **extra: Any) -> dict[str, Any]:
    from cartera.catalog.models import Product
    from cartera.quotes.selectors import opportunity_quotes

    history = selectors.stage_history(deal)
    stages = selectors.stages_of(deal.pipeline)
    reasons = selectors.active_loss_reasons()
    context: dict[str, Any] = {
        "nav": "deals",
        "deal": deal,
        "visits": list(reversed(history)),
        "stages": stages,
        "can_write": user.can_write,
        "move_form": MoveForm(
            initial={"stage": deal.stage_id, "version": deal.version},
            stages=stages,
            reasons=reasons,
        ),
        "quotes": opportunity_quotes(user, deal),
        "contact_form": ContactRoleForm(),
        "contact_choices": selectors.contact_choices(user, deal),
        "line_form": LineForm(
            products=list(Product.objects.filter(is_active=True).order_by("sku")[:500])
        ),
    }
    context.update(extra)
    return context


@require_GET
@login_required
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A deal: its fields, contacts with roles, products, stage history with time in each."""
    user = _user(request)
    deal = selectors.opportunity_detail(user, pk)
    return render(request, "sales/detail.html", _detail_context(user, deal))


@require_GET
@login_required
def account_deals(request: HttpRequest, account: int) -> HttpResponse:
    """The Deals tab of an account page (loaded by htmx when the tab is shown)."""
    from cartera.accounts.selectors import get_account_for_user

    user = _user(request)
    found = get_account_for_user(user, account)
    context = {"deals": selectors.account_opportunities(user, found), "account": found}
    return render(request, "sales/partials/account_deals.html", context)


@require_POST
@login_required
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the deal from its page (without JavaScript too)."""
    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True)
    stages = selectors.stages_of(deal.pipeline)
    form = MoveForm(request.POST, stages=stages, reasons=selectors.active_loss_reasons())
    if form.is_valid():
        try:
            services.move_opportunity(
                actor=user,
                opportunity=deal,
                stage=form.cleaned_data["stage"],
                expected_version=form.cleaned_data["version"],
                loss_reason=form.cleaned_data["loss_reason"],
                loss_note=form.cleaned_data["loss_note"],
            )
        except DomainError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("Deal moved to %(stage)s.") % {"stage": deal.stage})
    else:
        messages.error(request, _("Choose a stage."))
    return redirect("sales:detail", pk=pk)


def _error_text(error: DomainError) -> str:
    parts = [m for messages_ in error.field_errors.values() for m in messages_]
    return " ".join(parts) if parts else error.message


@require_POST
@login_required
def deal_trash(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the deal to the trash."""
    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True)
    try:
        services.trash_opportunity(actor=user, opportunity=deal, expected_version=_version(request))
    except DomainError as error:
        messages.error(request, _error_text(error))
        return redirect("sales:detail", pk=pk)
    messages.success(request, _("Deal “%(name)s” moved to the trash.") % {"name": deal})
    return redirect("sales:list")


@require_GET
@login_required
def deal_trash_list(request: HttpRequest) -> HttpResponse:
    """Deals in the trash the user can see, most recently trashed first, with Restore."""
    user = _user(request)
    status = 200
    context: dict[str, Any] = {"nav": "deals", "can_write": user.can_write}
    try:
        filters = parse_filters(OpportunityFilters, request.GET, ignore={"sort"})
        page = selectors.trashed_opportunity_list(
            user, filters, cursor=request.GET.get("cursor") or None
        )
    except InvalidInput as error:
        filters, page, status = OpportunityFilters.model_validate({}), None, error.status
        context["filter_errors"] = error.field_errors
    context.update(filters=filters, page=page)
    return render_page_or_partial(
        request, "sales/trash.html", "sales/partials/trash_results.html", context, status
    )


@require_POST
@login_required
def deal_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring a deal back from the trash, then show it."""
    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True, trashed=True)
    try:
        services.restore_opportunity(actor=user, opportunity=deal)
    except DomainError as error:
        messages.error(request, _error_text(error))
        return redirect("sales:trash_list")
    messages.success(request, _("Deal “%(name)s” restored.") % {"name": deal})
    return redirect("sales:detail", pk=deal.pk)


@require_POST
@login_required
def deal_contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a contact on the deal with a role."""
    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True)
    form = ContactRoleForm(request.POST)
    if form.is_valid():
        try:
            services.set_opportunity_contact(
                actor=user,
                opportunity=deal,
                contact=form.cleaned_data["contact"],
                role=form.cleaned_data["role"],
            )
        except DomainError as error:
            messages.error(request, _error_text(error))
    else:
        messages.error(request, _("Choose a contact and a role."))
    return redirect(reverse("sales:detail", args=[pk]) + "#contacts")


@require_POST
@login_required
def deal_contact_remove(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    """Take a contact off the deal."""
    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True)
    services.remove_opportunity_contact(actor=user, opportunity=deal, contact=contact_pk)
    return redirect(reverse("sales:detail", args=[pk]) + "#contacts")


@require_POST
@login_required
def deal_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a product line."""
    from cartera.catalog.models import Product

    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True)
    products = list(Product.objects.filter(is_active=True).order_by("sku")[:500])
    form = LineForm(request.POST, products=products)
    if form.is_valid():
        try:
            services.add_opportunity_line(
                actor=user, opportunity=deal, data=form.data_for_service()
            )
        except DomainError as error:
            messages.error(request, _error_text(error))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(reverse("sales:detail", args=[pk]) + "#products")


@require_POST
@login_required
def deal_line_remove(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Remove a product line."""
    user = _user(request)
    deal = selectors.get_opportunity_for_user(user, pk, write=True)
    line = OpportunityLine.objects.filter(pk=line_pk, opportunity=deal).first()
    if line is None:
        raise NotFound()
    line.opportunity = deal
    services.remove_opportunity_line(actor=user, line=line)
    return redirect(reverse("sales:detail", args=[pk]) + "#products")


# --- board -------------------------------------------------------------------------------------


#: The board's own parameters (not deal filters): columns to rebuild, "Show more" position.
BOARD_OWN_PARAMS = ("stages", "more", "after", "shown", "total")


def _count_param(request: HttpRequest, name: str) -> int:
    value = request.GET.get(name, "")
    return min(int(value), 10**9) if value.isascii() and value.isdigit() else 0


def _board_more(
    request: HttpRequest,
    pipeline: Pipeline,
    filters: OpportunityFilters,
    stage_id: int,
    filter_query: str,
) -> HttpResponse:
    """A column's next cards ("Show more", htmx) and its footer, swapped out of band."""
    try:
        more = selectors.board_more(
            _user(request), pipeline, filters, stage_id, request.GET.get("after", "")
        )
    except InvalidInput as error:
        return HttpResponse(" ".join(error.field_errors.get("after", [])), status=error.status)
    context = {
        "more": more,
        "stage": more.stage,
        "shown": _count_param(request, "shown") + len(more.cards),
        "total": _count_param(request, "total"),
        "filter_query": filter_query,
    }
    return render(request, "sales/partials/board_more.html", context)


@require_GET
@login_required
def board(request: HttpRequest, pipeline: int | None = None) -> HttpResponse:
    """A pipeline's kanban board; htmx gets only some columns (``?stages=``) or a column's
    next cards (``?more=<stage>&after=<position>``)."""
    user = _user(request)
    chosen: Pipeline = (
        selectors.get_pipeline(pipeline)
        if pipeline is not None
        else services.ensure_default_pipeline()
    )
    context: dict[str, Any] = {"nav": "board", "pipeline": chosen}
    status = 200
    try:
        filters = parse_filters(OpportunityFilters, request.GET, ignore=set(BOARD_OWN_PARAMS))
    except InvalidInput as error:
        filters, status = OpportunityFilters.model_validate({}), error.status
        context["filter_errors"] = error.field_errors
    query = request.GET.copy()
    for key in BOARD_OWN_PARAMS:
        query.pop(key, None)
    more = request.GET.get("more", "")
    if more.isascii() and more.isdigit() and request.htmx:  # type: ignore[attr-defined]
        return _board_more(request, chosen, filters, int(more), query.urlencode())
    stage_ids = [
        int(s) for s in request.GET.get("stages", "").split(",") if s.isascii() and s.isdigit()
    ] or None
    result = selectors.board(
        user,
        chosen,
        filters,
        per_column=selectors.BOARD_PAGE_CARDS,
        stage_ids=stage_ids,
        card_fields=selectors.BOARD_CARD_FIELDS,
    )
    context.update(
        board=result,
        filters=filters,
        filter_query=query.urlencode(),
        can_write=user.can_write,
        loss_reasons=selectors.active_loss_reasons(),
    )
    if request.htmx and not request.htmx.boosted:  # type: ignore[attr-defined]
        return render(request, "sales/partials/board_columns.html", context, status=status)
    context.update(_filter_choices(user))
    return render(request, "sales/board.html", context, status=status)


# --- forecast ----------------------------------------------------------------------------------


@require_GET
@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    """The weighted forecast by month or quarter, per rep, team or pipeline."""
    user = _user(request)
    status = 200
    context: dict[str, Any] = {"nav": "forecast"}
    try:
        filters = parse_filters(selectors.ForecastFilters, request.GET)
    except InvalidInput as error:
        filters, status = selectors.ForecastFilters.model_validate({}), error.status
        context["filter_errors"] = error.field_errors
    result = selectors.forecast(user, filters)
    columns = [
        ("won", _("Closed won")),
        ("commit", _("Commit")),
        ("best_case", _("Best case")),
        ("pipeline", _("Pipeline")),
        ("weighted", _("Weighted")),
    ]
    context.update(
        forecast=result,
        filters=filters,
        columns=columns,
        # The rows are written by ``{% forecast_rows %}`` (``forecast_tags``), links built once.
        links=ForecastLinks(result, reverse("sales:list")),
        period_labels=[_period_label(start, filters.period) for start, _end in result.periods],
        previous_start=_shift(result.periods[0][0], filters, -1),
        next_start=_shift(result.periods[0][0], filters, 1),
        groups=[("owner", _("Rep")), ("team", _("Team")), ("pipeline", _("Pipeline"))],
        **_filter_choices(user),
    )
    return render(request, "sales/forecast.html", context, status=status)


def _period_label(start: dt.date, period: str) -> str:
    from django.utils.formats import date_format

    if period == "quarter":
        return _("Q%(quarter)s %(year)s") % {
            "quarter": (start.month - 1) // 3 + 1,
            "year": start.year,
        }
    return date_format(start, "F Y")


def _shift(start: dt.date, filters: selectors.ForecastFilters, direction: int) -> str:
    from .filters import _add_months

    months = (3 if filters.period == "quarter" else 1) * filters.periods * direction
    return _add_months(start, months).isoformat()


# --- settings ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def pipeline_settings(request: HttpRequest) -> HttpResponse:
    """Pipelines and loss reasons (administrators and directors); POST adds one of either."""
    user = _user(request)
    services.ensure_can_configure(user)
    services.ensure_default_pipeline()
    pipeline_form = PipelineForm(prefix="pipeline")
    reason_form = LossReasonForm(prefix="reason")
    status = 200
    if request.method == "POST":
        try:
            if "pipeline-name" in request.POST:
                pipeline_form = PipelineForm(request.POST, prefix="pipeline")
                if pipeline_form.is_valid():
                    created = services.create_pipeline(actor=user, data=pipeline_form.cleaned_data)
                    messages.success(request, _("Pipeline “%(name)s” created.") % {"name": created})
                    return redirect("sales:pipeline_edit", pk=created.pk)
            else:
                reason_form = LossReasonForm(request.POST, prefix="reason")
                if reason_form.is_valid():
                    services.create_loss_reason(actor=user, data=reason_form.cleaned_data)
                    messages.success(request, _("Loss reason added."))
                    return redirect("sales:settings")
        except DomainError as error:
            target = pipeline_form if "pipeline-name" in request.POST else reason_form
            add_domain_error(target, error)
        status = 422
    context = {
        "nav": "settings",
        "pipelines": [selectors.get_pipeline(p.pk) for p in selectors.pipelines(active_only=False)],
        "reasons": selectors.loss_reasons(),
        "pipeline_form": pipeline_form,
        "reason_form": reason_form,
    }
    return render(request, "sales/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def pipeline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """One pipeline: its settings, its stages (edit, add, reorder, delete)."""
    user = _user(request)
    services.ensure_can_configure(user)
    pipeline = selectors.get_pipeline(pk)
    form = PipelineForm(
        initial={
            "name": pipeline.name,
            "description": pipeline.description,
            "is_default": pipeline.is_default,
            "is_active": pipeline.is_active,
        }
    )
    stage_form = StageForm(
        prefix="new", initial={"probability": 10, "forecast_category": "pipeline"}
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "pipeline":
                form = PipelineForm(request.POST)
                if form.is_valid():
                    services.update_pipeline(
                        actor=user, pipeline=pipeline, changes=form.cleaned_data
                    )
                    messages.success(request, _("Pipeline saved."))
                    return redirect("sales:pipeline_edit", pk=pk)
            elif action == "add_stage":
                stage_form = StageForm(request.POST, prefix="new")
                if stage_form.is_valid():
                    services.create_stage(
                        actor=user, pipeline=pipeline, data=stage_form.cleaned_data
                    )
                    messages.success(request, _("Stage added."))
                    return redirect("sales:pipeline_edit", pk=pk)
            elif action in {"edit_stage", "delete_stage", "up", "down"}:
                stage = selectors.get_stage(request.POST.get("stage", ""))
                if stage.pipeline_id != pipeline.pk:
                    raise NotFound()
                if action == "edit_stage":
                    edit = StageForm(request.POST, prefix=f"stage-{stage.pk}")
                    if not edit.is_valid():
                        raise InvalidInput(
                            field_errors={
                                name: [str(e) for e in errs] for name, errs in edit.errors.items()
                            }
                        )
                    services.update_stage(actor=user, stage=stage, changes=edit.cleaned_data)
                    messages.success(request, _("Stage “%(name)s” saved.") % {"name": stage})
                elif action == "delete_stage":
                    services.delete_stage(actor=user, stage=stage)
                    messages.success(request, _("Stage deleted."))
                else:
                    order = [s.pk for s in selectors.stages_of(pipeline)]
                    index = order.index(stage.pk)
                    other = index - 1 if action == "up" else index + 1
                    if 0 <= other < len(order):
                        order[index], order[other] = order[other], order[index]
                        services.reorder_stages(actor=user, pipeline=pipeline, stage_ids=order)
                return redirect("sales:pipeline_edit", pk=pk)
        except DomainError as error:
            messages.error(request, _error_text(error))
            return redirect("sales:pipeline_edit", pk=pk)
        status = 422
    stages = selectors.stages_of(pipeline)
    counts = selectors.stage_deal_counts(pipeline)
    stage_forms = [
        (
            stage,
            StageForm(
                prefix=f"stage-{stage.pk}",
                initial={
                    "name": stage.name,
                    "probability": stage.probability,
                    "kind": stage.kind,
                    "forecast_category": stage.forecast_category,
                    "usual_days": stage.usual_days,
                },
            ),
            counts.get(stage.pk, 0),
        )
        for stage in stages
    ]
    context = {
        "nav": "settings",
        "pipeline": pipeline,
        "form": form,
        "stage_form": stage_form,
        "stage_forms": stage_forms,
    }
    return render(request, "sales/pipeline.html", context, status=status)


@require_POST
@login_required
def loss_reason_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Retire or bring back a loss reason."""
    user = _user(request)
    reason = selectors.get_loss_reason(pk)
    try:
        services.update_loss_reason(
            actor=user, reason=reason, changes={"is_active": not reason.is_active}
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
    return redirect("sales:settings")
