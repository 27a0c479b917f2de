"""Timeline pages: every interaction, an account's timeline with its quick-log form, edits."""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from cartera.accounts.models import Account
from cartera.accounts.selectors import get_account_for_user
from cartera.contacts.models import Contact
from cartera.contacts.selectors import contacts_of_visible_account
from cartera.core.errors import DomainError, InvalidInput
from cartera.core.export import export_format, export_response
from cartera.core.filters import parse_filters
from cartera.core.views import add_domain_error, render_page_or_partial
from cartera.users.models import User

from . import selectors, services
from .exports import INTERACTION_EXPORT
from .filters import InteractionFilters
from .forms import InteractionForm
from .models import Interaction, InteractionKind

TIMELINE_PAGE_SIZE = 20
MAX_ACCOUNT_CONTACTS = 200


def _user(request: HttpRequest) -> User:
    """The signed-in person (every view here requires one)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _is_htmx(request: HttpRequest) -> bool:
    """Whether htmx sent the request (it then swaps a fragment, not the page)."""
    return bool(getattr(request, "htmx", False))


def return_url(request: HttpRequest) -> str:
    """The page the person is looking at (for htmx fragments: the page that loaded them)."""
    htmx = getattr(request, "htmx", None)
    current = htmx.current_url_abs_path if htmx else None
    return current or request.get_full_path()


def _more_url(path: str, request: HttpRequest, cursor: str | None) -> str | None:
    """The "Load more" link: the same filters, the next cursor."""
    if not cursor:
        return None
    params = [(key, value) for key, value in request.GET.lists() if key != "cursor"]
    return f"{path}?{urlencode([*params, ('cursor', cursor)], doseq=True)}"


class ContactChoice(NamedTuple):
    """A contact as the "with whom" choice shows it (the form reads ``pk`` and ``full_name``)."""

    pk: int
    full_name: str


def _account_contacts(user: User, account: Account) -> list[Contact]:
    """The account's contacts, for the "with whom" choice (a handful).

    The caller checked that ``user`` sees ``account``, so they see every contact linked to it.
    Only ids and names are read: building up to 200 contacts would parse two phones each.
    """
    contacts = contacts_of_visible_account(account.pk)
    rows = contacts.order_by("name_key", "pk").values_list("pk", "first_name", "last_name")
    choices = [
        ContactChoice(pk, f"{first} {last}".strip())  # as Contact.full_name
        for pk, first, last in rows[:MAX_ACCOUNT_CONTACTS]
    ]
    return cast("list[Contact]", choices)


def _timeline_context(
    request: HttpRequest, user: User, account: Account, *, form: InteractionForm | None = None
) -> dict[str, Any]:
    """An account's timeline page and, for people who write, the quick-log form above it."""
    filters = parse_filters(InteractionFilters, request.GET, ignore={"account", "contact"})
    cursor = request.GET.get("cursor") if request.method == "GET" else None
    page = selectors.account_timeline(account, filters, cursor=cursor, limit=TIMELINE_PAGE_SIZE)
    path = reverse("activities:account_timeline", args=[account.pk])
    if form is None and user.can_write:
        form = InteractionForm(contacts=_account_contacts(user, account))
    return {
        "account": account,
        "page": page,
        "more_url": _more_url(path, request, page.next_cursor),
        "form": form,
        "show_account": False,
        "return_url": return_url(request),
    }


@login_required
@require_GET
def account_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's timeline (embedded by the account page); with a cursor, just the entries."""
    user = _user(request)
    account = get_account_for_user(user, pk)
    if request.GET.get("cursor"):
        filters = parse_filters(InteractionFilters, request.GET, ignore={"account", "contact"})
        page = selectors.account_timeline(
            account, filters, cursor=request.GET["cursor"], limit=TIMELINE_PAGE_SIZE
        )
        path = reverse("activities:account_timeline", args=[account.pk])
        context = {
            "page": page,
            "more_url": _more_url(path, request, page.next_cursor),
            "return_url": return_url(request),
        }
        return render(request, "activities/partials/timeline_entries.html", context)
    context = _timeline_context(request, user, account)
    return render(request, "activities/partials/account_timeline.html", context)


@login_required
@require_POST
def quick_log(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a call, email, meeting or note; htmx gets the refreshed timeline with it on top."""
    user = _user(request)
    account = get_account_for_user(user, pk, write=True)
    form = InteractionForm(request.POST, contacts=_account_contacts(user, account))
    status = 422
    if form.is_valid():
        try:
            services.log_interaction(actor=user, account=account, data=form.service_data())
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            if not _is_htmx(request):
                messages.success(request, _("Logged."))
                return redirect("accounts:detail", pk=account.pk)
            context = _timeline_context(request, user, account)
            return render(request, "activities/partials/account_timeline.html", context)
    context = {"account": account, "form": form}
    if _is_htmx(request):
        response = render(
            request, "activities/partials/quick_log_form.html", context, status=status
        )
        return reswap(retarget(response, "#quick-log-form"), "outerHTML")
    return render(request, "activities/quick_log_page.html", context, status=status)


@login_required
@require_GET
def interaction_list(request: HttpRequest) -> HttpResponse:
    """Every interaction the user sees, newest first, filtered by type; htmx appends pages."""
    user = _user(request)
    context: dict[str, Any] = {"nav": "timeline", "kinds": InteractionKind.choices}
    status = 200
    try:
        filters = parse_filters(InteractionFilters, request.GET)
        page = selectors.interaction_list(
            user, filters, cursor=request.GET.get("cursor"), limit=TIMELINE_PAGE_SIZE
        )
    except InvalidInput as error:
        filters, page, status = InteractionFilters(), None, 400
        context["filter_errors"] = error.field_errors
    more_url = _more_url(reverse("activities:list"), request, page.next_cursor if page else None)
    context.update(
        {
            "filters": filters,
            "page": page,
            "more_url": more_url,
            "show_account": True,
            "return_url": return_url(request),
        }
    )
    if _is_htmx(request) and request.GET.get("cursor"):
        return render(request, "activities/partials/timeline_entries.html", context, status=status)
    return render_page_or_partial(
        request,
        "activities/interaction_list.html",
        "activities/partials/interaction_results.html",
        context,
        status=status,
    )


@login_required
@require_GET
def interaction_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the filtered timeline: CSV streamed (default) or Excel with ``?format=xlsx``."""
    user = _user(request)
    fmt = export_format(request.GET.get("format"))
    filters = parse_filters(InteractionFilters, request.GET, ignore={"format"})
    return export_response(
        INTERACTION_EXPORT, selectors.interaction_export_rows(user, filters), fmt
    )


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """Where to go after an edit: ``next`` if it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _editable(user: User, pk: int) -> Interaction:
    """An interaction the user may change; status changes belong to the record and never are."""
    interaction = selectors.get_interaction_for_user(user, pk, write=True)
    services.ensure_can_edit_interaction(user, interaction)
    return interaction


@login_required
@require_http_methods(["GET", "POST"])
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct an interaction; a stale version is refused with the input kept."""
    user = _user(request)
    interaction = _editable(user, pk)
    account_url = reverse("accounts:detail", args=[interaction.account_id])
    contacts = _account_contacts(user, interaction.account)
    initial = {
        "kind": interaction.kind,
        "subject": interaction.subject,
        "body": interaction.body,
        "contact": interaction.contact_id,
        "occurred_at": interaction.occurred_at,
        "duration_minutes": interaction.duration_minutes,
        "version": interaction.version,
    }
    form = InteractionForm(request.POST or None, initial=initial, contacts=contacts)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_interaction(
                    actor=user,
                    interaction=interaction,
                    changes=form.service_data(),
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The entry was saved."))
                return redirect(_safe_next(request, account_url))
        else:
            status = 422
    context = {
        "form": form,
        "interaction": interaction,
        "next": _safe_next(request, account_url),
        "nav": "timeline",
    }
    return render(request, "activities/interaction_form.html", context, status=status)


@login_required
@require_POST
def interaction_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an entry; htmx gets an empty answer so the entry disappears in place."""
    user = _user(request)
    interaction = _editable(user, pk)
    try:
        version: int | None = int(request.POST["version"])
    except (KeyError, ValueError):
        version = None
    account_url = reverse("accounts:detail", args=[interaction.account_id])
    services.delete_interaction(actor=user, interaction=interaction, expected_version=version)
    if _is_htmx(request):
        return HttpResponse("")
    messages.success(request, _("The entry was deleted."))
    return redirect(_safe_next(request, account_url))
