"""Lead pages: list, export, create/edit, detail (score reasons, activities), assign, convert,
the public web form, and the settings of web forms, assignment and scoring rules.

Views only parse input, call a selector or a service and render; the services decide.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited  # type: ignore[import-untyped]

from cartera.accounts.history import history_rows
from cartera.accounts.models import CompanySize, Industry
from cartera.core.display import (
    DateFormatter,
    choice_labels,
    country_name,
    country_options,
    pk_url,
    translated_choices,
    user_options,
)
from cartera.core.errors import Conflict, DomainError, InvalidInput, NotFound
from cartera.core.export import export_format, export_response
from cartera.core.filters import parse_filters
from cartera.core.views import add_domain_error, render_page_or_partial
from cartera.users.access import assignable_users
from cartera.users.models import User

from . import selectors, services
from .exports import LEAD_EXPORT
from .filters import LeadFilters
from .forms import (
    ActivityForm,
    AssignForm,
    AssignmentRuleForm,
    ConvertForm,
    LeadEditForm,
    PublicLeadForm,
    ScoringRuleForm,
    WebFormSettingsForm,
    lead_initial,
    scoring_initial,
)
from .models import AssignmentRule, Lead, LeadSource, LeadStatus, ScoringRule

#: Newest audit entries shown on a lead's page.
HISTORY_LIMIT = 20
#: Submissions of one web form allowed per visitor address.
WEB_FORM_RATE = "5/m"

CONFLICT_MESSAGE = gettext_lazy(
    "Someone else changed this lead while you were editing it. Nothing was saved: "
    "reload the page to see their changes, then apply yours again."
)
STATUS_COLOURS = {
    "new": "text-bg-primary",
    "working": "text-bg-info",
    "qualified": "text-bg-success",
    "unqualified": "text-bg-secondary",
    "converted": "text-bg-dark",
}


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError, OverflowError):
        return None


def _owners(user: User, lead: Lead | None = None) -> list[User]:
    owners = assignable_users(user)
    if lead is not None and lead.owner is not None and lead.owner not in owners:
        owners.append(lead.owner)
    return owners


def _form_error(form: Any, error: DomainError) -> None:
    if isinstance(error, Conflict):
        form.add_error(None, str(CONFLICT_MESSAGE))
    else:
        add_domain_error(form, error)


# --- list and export -------------------------------------------------------------------------


def lead_rows(leads: list[Lead]) -> list[dict[str, Any]]:
    """What each row of the lead list shows, as plain values."""
    detail_url = pk_url("leads:detail")
    statuses, sources = choice_labels(LeadStatus), choice_labels(LeadSource)
    industries = choice_labels(Industry)
    dates = DateFormatter()
    return [
        {
            "url": detail_url(lead.pk),
            "company": lead.company,
            "person": lead.person_name,
            "email": lead.email,
            "status": statuses.get(lead.status, lead.status),
            "status_class": STATUS_COLOURS.get(lead.status, "text-bg-light"),
            "source": sources.get(lead.source, lead.source),
            "industry": industries.get(lead.industry, lead.industry),
            "country": country_name(lead.country),
            "score": lead.score,
            "owner": str(lead.owner) if lead.owner else "",
            "team": lead.team.name if lead.team else "",
            "created_iso": dates.iso(lead.created_at),
            "created": dates.short_date(lead.created_at),
        }
        for lead in leads
    ]


@require_GET
@login_required
def lead_list_view(request: HttpRequest) -> HttpResponse:
    """The lead list: filter bar, table, keyset pages; htmx gets the table only."""
    user = _user(request)
    context: dict[str, Any] = {"nav": "leads", "can_configure": services.can_configure(user)}
    status = 200
    try:
        filters = parse_filters(LeadFilters, request.GET)
        page = selectors.lead_list(user, filters, cursor=request.GET.get("cursor") or None)
    except InvalidInput as error:
        filters, page, status = LeadFilters.model_validate({}), None, error.status
        context["filter_errors"] = error.field_errors
    context.update(filters=filters, page=page, rows=lead_rows(page.items) if page else [])
    if not (request.htmx and not request.htmx.boosted):  # type: ignore[attr-defined]
        context.update(
            statuses=translated_choices(LeadStatus),
            sources=translated_choices(LeadSource),
            industries=translated_choices(Industry),
            sizes=translated_choices(CompanySize),
            countries=country_options(),
            owners=user_options(assignable_users(user)),
            sorts=[
                ("-created_at", _("Newest")),
                ("created_at", _("Oldest")),
                ("-score", _("Highest score")),
                ("name", _("Name")),
            ],
        )
    return render_page_or_partial(
        request, "leads/list.html", "leads/partials/list_results.html", context, status
    )


@require_GET
@login_required
def lead_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the filtered list: CSV (default) or Excel with ``?format=xlsx``."""
    fmt = export_format(request.GET.get("format"))
    filters = parse_filters(LeadFilters, request.GET, ignore={"format"})
    return export_response(LEAD_EXPORT, selectors.lead_export_rows(_user(request), filters), fmt)


# --- create, edit, detail --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    """Enter a lead by hand; without an owner the assignment rules choose one."""
    user = _user(request)
    services.ensure_can_write(user)
    kwargs = {"owners": _owners(user), "teams": list(selectors.team_choices()), "creating": True}
    status = 200
    if request.method == "POST":
        form = LeadEditForm(request.POST, **kwargs)  # type: ignore[arg-type]
        if form.is_valid():
            try:
                lead = services.create_lead(actor=user, data=form.lead_data())
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, _("Lead “%(name)s” created.") % {"name": lead})
                if Lead.objects.visible_to(user).filter(pk=lead.pk).exists():
                    return redirect("leads:detail", pk=lead.pk)
                return redirect("leads:list")
        status = 422
    else:
        form = LeadEditForm(initial={"source": LeadSource.OTHER}, **kwargs)  # type: ignore[arg-type]
    context = {"nav": "leads", "form": form, "lead": None}
    return render(request, "leads/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a lead; a stale version keeps the user's input and overwrites nothing."""
    user = _user(request)
    lead = selectors.get_lead_for_user(user, pk, write=True)
    kwargs = {
        "owners": _owners(user, lead),
        "teams": list(selectors.team_choices()),
        "creating": False,
    }
    status = 200
    if request.method == "POST":
        form = LeadEditForm(request.POST, **kwargs)  # type: ignore[arg-type]
        if form.is_valid():
            try:
                services.update_lead(
                    actor=user,
                    lead=lead,
                    changes=form.lead_data(lead),
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as error:
                _form_error(form, error)
                status = 412 if isinstance(error, Conflict) else error.status
            else:
                messages.success(request, _("Changes saved."))
                return redirect("leads:detail", pk=lead.pk)
        else:
            status = 422
    else:
        form = LeadEditForm(initial=lead_initial(lead), **kwargs)  # type: ignore[arg-type]
    context = {"nav": "leads", "form": form, "lead": lead}
    return render(request, "leads/form.html", context, status=status)


def _detail_context(user: User, lead: Lead) -> dict[str, Any]:
    can_write = user.can_write and not lead.is_converted
    return {
        "nav": "leads",
        "lead": lead,
        "reasons": services.describe_reasons(lead.score_reasons),
        "activities": selectors.lead_activities(lead),
        "history": history_rows(
            user, list(selectors.lead_history(lead)[:HISTORY_LIMIT]), subject=lead
        ),
        "status_class": STATUS_COLOURS.get(lead.status, "text-bg-light"),
        "can_write": user.can_write,
        "can_convert": can_write,
        "activity_form": ActivityForm() if user.can_write else None,
        "assign_form": AssignForm(
            owners=_owners(user, lead), initial={"owner": lead.owner_id, "version": lead.version}
        )
        if user.can_write
        else None,
    }


@require_GET
@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A lead's page: details, score and its reasons, activities, assignment, conversion."""
    user = _user(request)
    lead = selectors.get_lead_for_user(user, pk)
    return render(request, "leads/detail.html", _detail_context(user, lead))


@require_POST
@login_required
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the lead to someone (they are notified), or run the assignment rules again."""
    user = _user(request)
    lead = selectors.get_lead_for_user(user, pk, write=True)
    form = AssignForm(request.POST, owners=_owners(user, lead))
    try:
        if not form.is_valid():
            raise InvalidInput(
                field_errors={k: [str(m) for m in v] for k, v in form.errors.items()}
            )
        if request.POST.get("auto"):
            services.auto_assign_lead(
                actor=user, lead=lead, expected_version=form.cleaned_data["version"]
            )
        else:
            services.assign_lead(
                actor=user,
                lead=lead,
                owner=form.cleaned_data["owner"],
                expected_version=form.cleaned_data["version"],
            )
    except DomainError as error:
        messages.error(
            request, CONFLICT_MESSAGE if isinstance(error, Conflict) else _message(error)
        )
        return redirect("leads:detail", pk=lead.pk)
    if lead.owner is None:
        messages.info(request, _("The lead has no owner now."))
    else:
        messages.success(request, _("Lead assigned to %(name)s.") % {"name": lead.owner})
    if Lead.objects.visible_to(user).filter(pk=lead.pk).exists():
        return redirect("leads:detail", pk=lead.pk)
    return redirect("leads:list")


def _message(error: DomainError) -> str:
    details = [message for messages_ in error.field_errors.values() for message in messages_]
    return " ".join(details) or error.message


@require_POST
@login_required
def lead_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a call, email, meeting or note with the lead."""
    user = _user(request)
    lead = selectors.get_lead_for_user(user, pk, write=True)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.log_lead_activity(actor=user, lead=lead, data=form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Activity logged."))
            return redirect(reverse("leads:detail", args=[lead.pk]) + "#activities")
    lead = selectors.get_lead_for_user(user, pk)
    context = _detail_context(user, lead) | {"activity_form": form}
    return render(request, "leads/detail.html", context, status=422)


@require_POST
@login_required
def lead_trash(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a lead to the trash."""
    user = _user(request)
    lead = selectors.get_lead_for_user(user, pk, write=True)
    try:
        services.trash_lead(actor=user, lead=lead, expected_version=_version(request))
    except Conflict:
        messages.error(request, CONFLICT_MESSAGE)
        return redirect("leads:detail", pk=lead.pk)
    messages.success(request, _("“%(name)s” moved to the trash.") % {"name": lead})
    return redirect("leads:list")


# --- conversion ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    """Preview what the conversion reuses or creates; POST converts in one step."""
    user = _user(request)
    lead = selectors.get_lead_for_user(user, pk, write=True)
    if lead.is_converted:
        messages.info(request, _("This lead was already converted."))
        return redirect("leads:detail", pk=lead.pk)
    plan = services.plan_conversion(user, lead)
    status = 200
    if request.method == "POST":
        form = ConvertForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            reuse_account = plan.account if data["account_choice"] != "new" else None
            reuse_contact = plan.contact if data["contact_choice"] != "new" else None
            try:
                services.convert_lead(
                    actor=user,
                    lead=lead,
                    expected_version=data["version"],
                    account=reuse_account,
                    contact=reuse_contact,
                    create_opportunity=data["create_opportunity"],
                    opportunity=form.opportunity_data(),
                )
            except DomainError as error:
                _form_error(form, error)
                status = 412 if isinstance(error, Conflict) else error.status
            else:
                messages.success(request, _("Lead converted."))
                if lead.converted_opportunity_id:
                    return redirect(_opportunity_url(lead.converted_opportunity_id))
                return redirect("accounts:detail", pk=lead.converted_account_id)
        else:
            status = 422
    else:
        form = ConvertForm(
            initial={
                "account_choice": "existing" if plan.account else "new",
                "contact_choice": "existing" if plan.contact else "new",
                "create_opportunity": True,
                "opportunity_name": plan.opportunity_name,
                "currency": settings.CARTERA_CURRENCY,
                "version": lead.version,
            }
        )
    context = {"nav": "leads", "lead": lead, "plan": plan, "form": form}
    return render(request, "leads/convert.html", context, status=status)


def _opportunity_url(pk: int) -> str:
    """The deal's page."""
    return reverse("sales:detail", args=[pk])


# --- public web form -------------------------------------------------------------------------


def _public_form(request: HttpRequest, slug: str, template: str) -> HttpResponse:
    web_form = selectors.public_web_form(slug)
    with translation.override(web_form.language):
        context: dict[str, Any] = {"web_form": web_form, "submitted": False}
        if request.method != "POST":
            context["form"] = PublicLeadForm()
            return render(request, template, context)
        limited = is_ratelimited(
            request,
            group=f"leads:web_form:{web_form.pk}",
            key="ip",
            rate=WEB_FORM_RATE,
            method="POST",
            increment=True,
        )
        if limited:
            return render(request, "leads/public_429.html", context, status=429)
        form = PublicLeadForm(request.POST)
        context["form"] = form
        if form.is_spam:
            # Accepted in appearance only: bots learn nothing, nothing is stored.
            context["submitted"] = True
            return render(request, template, context)
        if form.is_valid():
            try:
                services.submit_web_form(web_form=web_form, data=form.lead_data())
            except NotFound:
                raise
            except DomainError as error:
                add_domain_error(form, error)
            else:
                context["submitted"] = True
                return render(request, template, context)
        return render(request, template, context, status=422)


# Public and cross-site (embedded in customers' websites, where the CSRF cookie is not sent):
# there is no session to protect, spam is held off by the honeypot and the rate limit.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, slug: str) -> HttpResponse:
    """The web form on its own page (no login)."""
    return _public_form(request, slug, "leads/public_form.html")


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def public_form_embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The web form for an ``<iframe>`` on another website (no login, no page chrome)."""
    return _public_form(request, slug, "leads/public_embed.html")


# --- settings: web forms ---------------------------------------------------------------------


def _settings_context(user: User, tab: str, **extra: Any) -> dict[str, Any]:
    return {"nav": "leads", "tab": tab, **extra}


@require_GET
@login_required
def web_form_list(request: HttpRequest) -> HttpResponse:
    """Web forms that capture leads, with their public addresses."""
    user = _user(request)
    forms_ = list(selectors.web_forms(user))
    context = _settings_context(user, "forms", web_forms=forms_)
    return render(request, "leads/settings_forms.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def web_form_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change a web form; its page shows the embed snippet."""
    user = _user(request)
    web_form = selectors.get_web_form(user, pk) if pk is not None else None
    services.ensure_can_configure(user)
    teams = list(selectors.team_choices())
    status = 200
    if request.method == "POST":
        form = WebFormSettingsForm(request.POST, teams=teams)
        if form.is_valid():
            try:
                saved = services.save_web_form(
                    actor=user, data=form.cleaned_data, web_form=web_form
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Web form saved."))
                return redirect("leads:web_form_edit", pk=saved.pk)
        status = 422
    elif web_form is not None:
        initial = {
            name: getattr(web_form, name)
            for name in ("name", "slug", "title", "is_active", "thank_you_text", "language")
        }
        form = WebFormSettingsForm(initial={**initial, "team": web_form.team_id}, teams=teams)
    else:
        form = WebFormSettingsForm(
            initial={"is_active": True, "language": translation.get_language()}, teams=teams
        )
    context = _settings_context(user, "forms", form=form, web_form=web_form)
    if web_form is not None:
        base = settings.CARTERA_BASE_URL.rstrip("/")
        context["public_url"] = base + reverse("leads:public_form", args=[web_form.slug])
        context["embed_url"] = base + reverse("leads:public_form_embed", args=[web_form.slug])
    return render(request, "leads/settings_form_edit.html", context, status=status)


@require_POST
@login_required
def web_form_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a web form (its leads stay)."""
    user = _user(request)
    services.delete_web_form(actor=user, web_form=selectors.get_web_form(user, pk))
    messages.success(request, _("Web form deleted."))
    return redirect("leads:web_forms")


# --- settings: assignment rules --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def assignment_rules(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The ordered assignment rules; the form adds one or changes the one being edited."""
    user = _user(request)
    rules = list(selectors.assignment_rules(user))
    rule: AssignmentRule | None = selectors.get_assignment_rule(user, pk) if pk else None
    kwargs = {"people": assignable_users(user), "teams": list(selectors.team_choices())}
    status = 200
    if request.method == "POST":
        form = AssignmentRuleForm(request.POST, **kwargs)  # type: ignore[arg-type]
        if form.is_valid():
            data = dict(form.cleaned_data)
            if data.get("position") is None:
                data.pop("position", None)
            try:
                services.save_assignment_rule(actor=user, data=data, rule=rule)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Assignment rule saved."))
                return redirect("leads:assignment_rules")
        status = 422
    elif rule is not None:
        names = ("name", "position", "is_active", "industry", "size", "action")
        initial = {name: getattr(rule, name) for name in names}
        initial.update(country=rule.country.code or "", user=rule.user_id, team=rule.team_id)
        form = AssignmentRuleForm(initial=initial, **kwargs)  # type: ignore[arg-type]
    else:
        form = AssignmentRuleForm(initial={"is_active": True}, **kwargs)  # type: ignore[arg-type]
    context = _settings_context(user, "assignment", rules=rules, rule=rule, form=form)
    return render(request, "leads/settings_assignment.html", context, status=status)


@require_POST
@login_required
def assignment_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an assignment rule."""
    user = _user(request)
    services.delete_assignment_rule(actor=user, rule=selectors.get_assignment_rule(user, pk))
    messages.success(request, _("Assignment rule deleted."))
    return redirect("leads:assignment_rules")


# --- settings: scoring rules -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def scoring_rules(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The scoring rules; saving one rescores every open lead."""
    user = _user(request)
    rules = list(selectors.scoring_rules(user))
    rule: ScoringRule | None = selectors.get_scoring_rule(user, pk) if pk else None
    status = 200
    if request.method == "POST":
        form = ScoringRuleForm(request.POST)
        if form.is_valid():
            try:
                services.save_scoring_rule(actor=user, data=form.rule_data(), rule=rule)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Scoring rule saved; scores were recomputed."))
                return redirect("leads:scoring_rules")
        status = 422
    elif rule is not None:
        form = ScoringRuleForm(initial=scoring_initial(rule))
    else:
        form = ScoringRuleForm(initial={"is_active": True, "threshold": 1})
    reasons = {r.pk: services.rule_reason(r) for r in rules}
    rows = [{"rule": r, "reason": f"{r.points:+d} {reasons[r.pk]}"} for r in rules]
    context = _settings_context(user, "scoring", rows=rows, rule=rule, form=form)
    return render(request, "leads/settings_scoring.html", context, status=status)


@require_POST
@login_required
def scoring_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a scoring rule (scores are recomputed)."""
    user = _user(request)
    services.delete_scoring_rule(actor=user, rule=selectors.get_scoring_rule(user, pk))
    messages.success(request, _("Scoring rule deleted; scores were recomputed."))
    return redirect("leads:scoring_rules")
