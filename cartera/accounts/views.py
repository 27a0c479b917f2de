"""Account pages: list, export, create/edit, detail with its tabs, team, trash and restore.

Views only parse input, call a selector or a service and render; the services decide.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cartera.contacts.filters import ContactFilters
from cartera.contacts.selectors import contact_list_page
from cartera.contacts.views import contact_rows
from cartera.core.display import (
    DateFormatter,
    choice_labels,
    country_name,
    country_options,
    pk_url,
    translated_choices,
    user_options,
)
from cartera.core.errors import Conflict, DomainError, InvalidInput
from cartera.core.export import export_format, export_response
from cartera.core.filters import parse_filters
from cartera.core.views import add_domain_error, render_page_or_partial
from cartera.users.access import assignable_users
from cartera.users.models import User

from .exports import ACCOUNT_EXPORT
from .filters import AccountFilters
from .forms import AccountForm, TeamMemberForm, account_initial
from .history import history_rows
from .models import Account, AccountStatus, CompanySize, Industry, Tier
from .selectors import (
    account_detail,
    account_export_rows,
    account_history,
    account_list,
    account_list_page,
    get_account_for_user,
    visible_accounts,
)
from .services import (
    create_account,
    ensure_can_write,
    remove_team_member,
    restore_account,
    set_team_member,
    trash_account,
    update_account,
)
from .templatetags.account_tags import status_badge_html

HISTORY_LIMIT = 100
AUTOCOMPLETE_LIMIT = 10

#: Header click → sort; a second click on the same column reverses it.
SORT_TOGGLES = {
    "name": ("name", "-name"),
    "updated_at": ("-updated_at", "updated_at"),
    "created_at": ("-created_at", "created_at"),
}

CONFLICT_MESSAGE = gettext_lazy(
    "Someone else changed this account while you were editing it. Nothing was saved: "
    "reload the page to see their changes, then apply yours again."
)


def _version(request: HttpRequest) -> int | None:
    """The version the user's form was built from (``None`` if absent or garbled)."""
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError, OverflowError):
        return None


def _sort_links(current: str) -> dict[str, str]:
    """Where each sortable column header points."""
    links = {}
    for column, (first, second) in SORT_TOGGLES.items():
        links[column] = second if current == first else first
    return links


def _filter_choices(user: User) -> dict[str, Any]:
    """Options of the filter bar, translated once per language (``cartera.core.display``)."""
    return {
        "statuses": translated_choices(AccountStatus),
        "tiers": translated_choices(Tier),
        "industries": translated_choices(Industry),
        "sizes": translated_choices(CompanySize),
        "countries": country_options(),
        "owners": user_options(assignable_users(user)),
    }


def account_rows(accounts: list[Account]) -> list[dict[str, Any]]:  # from account_list_page
    """What each row of the account list shows, as plain values.

    Labels come from per-language lookups and dates from one formatter, so a page of 50 rows
    costs a few dictionary reads per cell instead of a translation and a model call each.
    """
    detail_url = pk_url("accounts:detail")
    tiers, industries = choice_labels(Tier), choice_labels(Industry)
    dates = DateFormatter()
    return [
        {
            "url": detail_url(account.pk),
            "name": account.name,
            "tags": account.tag_names,  # type: ignore[attr-defined]
            "status_badge": status_badge_html(account.status),
            "tier": tiers.get(account.tier, account.tier),
            "is_key_account": account.is_key_account,
            "owner": str(account.owner),
            "industry": industries.get(account.industry, account.industry),
            "country": country_name(account.country),
            "city": account.city,
            "updated_iso": dates.iso(account.updated_at),
            "updated": dates.short_date(account.updated_at),
            "created_iso": dates.iso(account.created_at),
            "created": dates.short_date(account.created_at),
        }
        for account in accounts
    ]


@require_GET
@login_required
def account_list_view(request: HttpRequest) -> HttpResponse:
    """The account list: filter bar, sortable table, keyset pages; htmx gets the table only."""
    user: User = request.user  # type: ignore[assignment]
    context: dict[str, Any] = {"nav": "accounts"}
    status = 200
    try:
        filters = parse_filters(AccountFilters, request.GET)
        page = account_list_page(user, filters, cursor=request.GET.get("cursor") or None)
    except InvalidInput as error:
        filters, page, status = AccountFilters.model_validate({}), None, error.status
        context["filter_errors"] = error.field_errors
    context.update(filters=filters, page=page, sort_links=_sort_links(filters.sort))
    context["rows"] = account_rows(page.items) if page else []
    if not (request.htmx and not request.htmx.boosted):  # type: ignore[attr-defined]
        context.update(_filter_choices(user))
    return render_page_or_partial(
        request, "accounts/list.html", "accounts/partials/list_results.html", context, status
    )


@require_GET
@login_required
def account_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the filtered list: CSV streamed (default) or Excel with ``?format=xlsx``."""
    user: User = request.user  # type: ignore[assignment]
    fmt = export_format(request.GET.get("format"))
    filters = parse_filters(AccountFilters, request.GET, ignore={"format"})
    return export_response(ACCOUNT_EXPORT, account_export_rows(user, filters), fmt)


@require_GET
@login_required
def account_autocomplete(request: HttpRequest) -> HttpResponse:
    """Accounts matching ``q`` to pick from (a parent, a contact's account), never all of them."""
    user: User = request.user  # type: ignore[assignment]
    query = request.GET.get("q", "")[:200]
    accounts: list[Account] = []
    if query.strip():
        queryset = AccountFilters.model_validate({"q": query}).apply(visible_accounts(user))
        exclude = request.GET.get("exclude", "")
        if exclude.isascii() and exclude.isdigit():
            queryset = queryset.exclude(pk=int(exclude))
        accounts = list(queryset.only("pk", "name", "city").order_by("name_key", "pk")[:10])
    return render_page_or_partial(
        request,
        "accounts/partials/autocomplete.html",
        "accounts/partials/autocomplete.html",
        {"accounts": accounts, "query": query},
    )


def _form_context(form: AccountForm, account: Account | None, parent_label: str) -> dict[str, Any]:
    return {
        "nav": "accounts",
        "form": form,
        "account": account,
        "parent_label": parent_label,
        "currency_codes": ["EUR", "USD", "GBP", "MXN", "COP", "ARS", "CLP", "PEN", "BRL", "CHF"],
        "conflict": any(
            str(CONFLICT_MESSAGE) == str(message) for message in form.non_field_errors()
        ),
    }


def _form_error(form: AccountForm, error: DomainError) -> None:
    if isinstance(error, Conflict):
        form.add_error(None, str(CONFLICT_MESSAGE))
    else:
        add_domain_error(form, error)


@require_http_methods(["GET", "POST"])
@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    """Create an account; read-only people get 403."""
    user: User = request.user  # type: ignore[assignment]
    ensure_can_write(user)
    owners = assignable_users(user)
    status = 200
    if request.method == "POST":
        form = AccountForm(request.POST, owners=owners)
        if form.is_valid():
            try:
                account = create_account(actor=user, data=form.account_data())
            except DomainError as error:
                _form_error(form, error)
            else:
                messages.success(request, _("Account “%(name)s” created.") % {"name": account})
                return redirect("accounts:detail", pk=account.pk)
        status = 422
    else:
        form = AccountForm(
            owners=owners,
            initial={"owner": user.pk, "currency": "EUR", "status": AccountStatus.PROSPECT},
        )
    context = _form_context(form, None, request.POST.get("q", ""))
    return render_page_or_partial(
        request, "accounts/form.html", "accounts/form.html", context, status
    )


@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit an account; a stale version keeps the user's input and overwrites nothing."""
    user: User = request.user  # type: ignore[assignment]
    account = get_account_for_user(user, pk, write=True)
    owners = assignable_users(user)
    if all(owner.pk != account.owner_id for owner in owners):
        owners.append(account.owner)
    status = 200
    parent_label = account.parent.name if account.parent else ""
    if request.method == "POST":
        form = AccountForm(request.POST, owners=owners)
        parent_label = request.POST.get("q", "")
        if form.is_valid():
            try:
                update_account(
                    actor=user,
                    account=account,
                    changes=form.account_data(account),
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as error:
                _form_error(form, error)
                status = 412 if isinstance(error, Conflict) else error.status
            else:
                messages.success(request, _("Changes saved."))
                return redirect("accounts:detail", pk=account.pk)
        else:
            status = 422
    else:
        form = AccountForm(owners=owners, initial=account_initial(account))
    context = _form_context(form, account, parent_label)
    return render_page_or_partial(
        request, "accounts/form.html", "accounts/form.html", context, status
    )


@require_GET
@login_required
def account_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's page: header, summary, team, related accounts; other tabs load by htmx."""
    user: User = request.user  # type: ignore[assignment]
    account = account_detail(user, pk)
    context = {
        "nav": "accounts",
        "account": account,
        "can_write": user.can_write,
        "team_form": TeamMemberForm(people=assignable_users(user)) if user.can_write else None,
    }
    return render_page_or_partial(request, "accounts/detail.html", "accounts/detail.html", context)


@require_GET
@login_required
def account_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """The account's contacts tab."""
    user: User = request.user  # type: ignore[assignment]
    account = get_account_for_user(user, pk)
    filters = ContactFilters.model_validate({"account": account.pk})
    page = contact_list_page(user, filters, limit=50)
    context = {
        "nav": "accounts",
        "account": account,
        "page": page,
        "rows": contact_rows(page.items),
    }
    return render_page_or_partial(
        request, "accounts/contacts.html", "accounts/partials/contacts.html", context
    )


def _team_response(
    request: HttpRequest, account_pk: int, form: TeamMemberForm | None, status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    account = account_detail(user, account_pk)
    if form is None and user.can_write:
        form = TeamMemberForm(people=assignable_users(user))
    context = {
        "nav": "accounts",
        "account": account,
        "can_write": user.can_write,
        "team_form": form,
    }
    return render_page_or_partial(
        request, "accounts/team.html", "accounts/partials/team.html", context, status
    )


@require_http_methods(["GET", "POST"])
@login_required
def account_team(request: HttpRequest, pk: int) -> HttpResponse:
    """The account team tab; POST adds someone or changes their role."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "GET":
        get_account_for_user(user, pk)
        return _team_response(request, pk, None)
    account = get_account_for_user(user, pk, write=True)
    people = assignable_users(user)
    form = TeamMemberForm(request.POST, people=people)
    if form.is_valid():
        person = next(p for p in people if p.pk == form.cleaned_data["user"])
        try:
            set_team_member(
                actor=user, account=account, user=person, role=form.cleaned_data["role"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, _("Account team updated."))
                return redirect(reverse("accounts:detail", args=[account.pk]) + "#team")
            return _team_response(request, account.pk, None)
    return _team_response(request, account.pk, form, status=422)


@require_POST
@login_required
def account_team_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take someone off the account team."""
    user: User = request.user  # type: ignore[assignment]
    get_account_for_user(user, pk, write=True)
    account = account_detail(user, pk)
    person_pk = request.POST.get("user", "")
    member = next(
        (m for m in account.team_members.all() if str(m.user_id) == person_pk.strip()), None
    )
    if member is None:
        messages.error(request, _("That person is not on the account team."))
    else:
        remove_team_member(actor=user, account=account, user=member.user)
        messages.success(request, _("%(name)s left the account team.") % {"name": member.user})
    if request.htmx:  # type: ignore[attr-defined]
        return _team_response(request, account.pk, None)
    return redirect(reverse("accounts:detail", args=[account.pk]) + "#team")


# --- History -------------------------------------------------------------------------------


@require_GET
@login_required
def account_history_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The account's audit trail (newest 100 entries), including its team and contact links."""
    user: User = request.user  # type: ignore[assignment]
    account = get_account_for_user(user, pk)
    entries = list(account_history(user, account)[: HISTORY_LIMIT + 1])
    context = {
        "nav": "accounts",
        "account": account,
        "rows": history_rows(user, entries[:HISTORY_LIMIT]),
        "truncated": len(entries) > HISTORY_LIMIT,
        "limit": HISTORY_LIMIT,
    }
    return render_page_or_partial(
        request, "accounts/history.html", "accounts/partials/history.html", context
    )


# --- Trash ---------------------------------------------------------------------------------


@require_GET
@login_required
def account_trash(request: HttpRequest) -> HttpResponse:
    """Accounts in the trash the user can see, most recently changed first, with Restore."""
    user: User = request.user  # type: ignore[assignment]
    status = 200
    context: dict[str, Any] = {"nav": "accounts", "can_write": user.can_write}
    try:
        filters = parse_filters(AccountFilters, request.GET, ignore={"sort"})
        filters = filters.model_copy(update={"sort": "-updated_at"})
        page = account_list(user, filters, cursor=request.GET.get("cursor") or None, trashed=True)
    except InvalidInput as error:
        filters, page, status = AccountFilters.model_validate({}), None, error.status
        context["filter_errors"] = error.field_errors
    context.update(filters=filters, page=page)
    return render_page_or_partial(
        request, "accounts/trash.html", "accounts/partials/trash_results.html", context, status
    )


@require_POST
@login_required
def account_trash_action(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an account to the trash (the version guards against trashing fresh changes)."""
    user: User = request.user  # type: ignore[assignment]
    account = get_account_for_user(user, pk, write=True)
    try:
        trash_account(actor=user, account=account, expected_version=_version(request))
    except Conflict:
        messages.error(request, CONFLICT_MESSAGE)
        return redirect("accounts:detail", pk=account.pk)
    messages.success(
        request,
        _("“%(name)s” moved to the trash. You can restore it from there.") % {"name": account},
    )
    return redirect("accounts:list")


@require_POST
@login_required
def account_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring an account back from the trash."""
    user: User = request.user  # type: ignore[assignment]
    account = get_account_for_user(user, pk, write=True, trashed=True)
    restore_account(actor=user, account=account)
    messages.success(request, _("“%(name)s” restored.") % {"name": account})
    return redirect("accounts:detail", pk=account.pk)
