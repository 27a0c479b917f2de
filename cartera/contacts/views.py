"""Contact pages: list with filters and export, detail with timeline and history, edit forms."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cartera.accounts.filters import AccountFilters
from cartera.accounts.history import history_rows
from cartera.accounts.selectors import account_list, get_account_for_user, visible_accounts
from cartera.activities.filters import InteractionFilters
from cartera.activities.selectors import contact_timeline as contact_timeline_page
from cartera.activities.views import return_url
from cartera.core.display import choice_labels, phone_display, pk_url, translated_choices
from cartera.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from cartera.core.export import export_format, export_response
from cartera.core.filters import parse_filters
from cartera.core.views import add_domain_error, render_page_or_partial
from cartera.users.models import User

from . import selectors, services
from .exports import CONTACT_EXPORT
from .filters import ContactFilters
from .forms import ContactForm
from .models import BuyingRole, Channel, Contact

TIMELINE_PAGE_SIZE = 20
HISTORY_LIMIT = 50
ACCOUNT_OPTIONS_LIMIT = 10


def _user(request: HttpRequest) -> User:
    """The signed-in person (every view here requires one)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _filter_context(request: HttpRequest, user: User) -> dict[str, Any]:
    """The filters from the query string, and the account the list is narrowed to, if any."""
    filters = parse_filters(ContactFilters, request.GET, ignore={"format"})
    account = None
    if filters.account is not None:
        account = visible_accounts(user).filter(pk=filters.account).only("pk", "name").first()
    return {
        "filters": filters,
        "filter_account": account,
        "filter_accounts": [account] if account else [],
    }


def contact_rows(contacts: list[Contact]) -> list[dict[str, Any]]:
    """What each row of a contact list shows, as plain values (from ``contact_list_page``).

    Labels from per-language lookups, phones formatted once per number and process, links built
    from one ``reverse()`` each: a few dictionary reads per cell, no model calls.
    """
    roles, channels = choice_labels(BuyingRole), choice_labels(Channel)
    contact_url, account_url = pk_url("contacts:detail"), pk_url("accounts:detail")
    rows = []
    for contact in contacts:
        links = contact.visible_links  # type: ignore[attr-defined]
        number = contact.phone_e164 or contact.mobile_e164 or ""  # type: ignore[attr-defined]
        tel, phone = phone_display(number)
        rows.append(
            {
                "url": contact_url(contact.pk),
                "full_name": contact.full_name,
                "do_not_contact": contact.do_not_contact,
                "account_name": links[0].account.name if links else "",
                "account_url": account_url(links[0].account_id) if links else "",
                "more_accounts": len(links) - 1 if len(links) > 1 else 0,
                "job_title": contact.job_title,
                "email": contact.email,
                "tel": tel,
                "phone": phone,
                "buying_role": roles.get(contact.buying_role, contact.buying_role),
                "preferred_channel": channels.get(
                    contact.preferred_channel, contact.preferred_channel
                ),
            }
        )
    return rows


@login_required
@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    """The contacts the user sees, filtered, sorted and paged; htmx gets the table only."""
    user = _user(request)
    context: dict[str, Any] = {
        "nav": "contacts",
        "buying_roles": translated_choices(BuyingRole),
        "channels": translated_choices(Channel),
        "sorts": [
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
            ("-updated_at", _("Recently updated")),
            ("updated_at", _("Least recently updated")),
        ],
        "query": request.GET,
    }
    status = 200
    try:
        context.update(_filter_context(request, user))
        context["page"] = selectors.contact_list_page(
            user, context["filters"], cursor=request.GET.get("cursor")
        )
        context["rows"] = contact_rows(context["page"].items)
    except InvalidInput as error:
        context.update({"filter_errors": error.field_errors, "page": None})
        status = 400
    return render_page_or_partial(
        request,
        "contacts/contact_list.html",
        "contacts/partials/contact_results.html",
        context,
        status=status,
    )


@login_required
@require_GET
def contact_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the filtered contacts: CSV streamed (default) or Excel with ``?format=xlsx``."""
    user = _user(request)
    fmt = export_format(request.GET.get("format"))
    filters = parse_filters(ContactFilters, request.GET, ignore={"format"})
    return export_response(CONTACT_EXPORT, selectors.contact_export_rows(user, filters), fmt)


def _chosen_accounts(user: User, pks: list[int]) -> list[Any]:
    """The picked accounts the user sees, in the order picked, for the autocomplete chips."""
    if not pks:
        return []
    found = {a.pk: a for a in visible_accounts(user).filter(pk__in=pks).only("pk", "name")}
    return [found[pk] for pk in pks if pk in found]


def _form_context(user: User, form: ContactForm, contact: Contact | None) -> dict[str, Any]:
    """What the contact form page needs: the form and the accounts already picked."""
    raw = (
        form.data.getlist("accounts")  # type: ignore[attr-defined]
        if form.is_bound
        else form.initial.get("accounts", [])
    )
    pks = []
    for value in raw:
        try:
            pks.append(int(value))
        except (TypeError, ValueError):
            continue
    return {
        "form": form,
        "contact": contact,
        "chosen_accounts": _chosen_accounts(user, pks),
        "nav": "contacts",
    }


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    """A new contact at one or more accounts (``?account=`` pre-links one)."""
    user = _user(request)
    if not user.can_write:
        raise Forbidden()
    initial: dict[str, Any] = {}
    if request.method == "GET" and request.GET.get("account"):
        account = get_account_for_user(user, request.GET["account"])
        initial["accounts"] = [account.pk]
    form = ContactForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                contact = services.create_contact(actor=user, data=form.service_data())
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Contact %(name)s was created.") % {"name": contact})
                return redirect("contacts:detail", pk=contact.pk)
        else:
            status = 422
    context = _form_context(user, form, None)
    return render(request, "contacts/contact_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a contact; a stale version is refused with the input kept."""
    user = _user(request)
    contact = selectors.get_contact_for_user(user, pk, write=True)
    initial = {field: getattr(contact, field) for field in ContactForm.Meta.fields}
    initial["accounts"] = [link.account_id for link in contact.visible_links]  # type: ignore[attr-defined]
    initial["version"] = contact.version
    form = ContactForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_contact(
                    actor=user,
                    contact=contact,
                    changes=form.service_data(),
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Contact %(name)s was saved.") % {"name": contact})
                return redirect("contacts:detail", pk=contact.pk)
        else:
            status = 422
    context = _form_context(user, form, contact)
    return render(request, "contacts/contact_form.html", context, status=status)


def _version(request: HttpRequest) -> int | None:
    """The version the user saw, from the form (missing or malformed means "unknown")."""
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None


@login_required
@require_POST
def contact_trash(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a contact to the trash (the version guards against trashing a newer edit)."""
    user = _user(request)
    contact = selectors.get_contact_for_user(user, pk, write=True)
    version = _version(request)
    if version is None:
        raise InvalidInput(field_errors={"version": [_("This field is required.")]})
    services.trash_contact(actor=user, contact=contact, expected_version=version)
    messages.success(request, _("Contact %(name)s was moved to the trash.") % {"name": contact})
    return redirect("contacts:list")


@login_required
@require_POST
def contact_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring a contact back from the trash."""
    user = _user(request)
    contact = selectors.get_contact_for_user(user, pk, write=True, trashed=True)
    services.restore_contact(actor=user, contact=contact)
    messages.success(request, _("Contact %(name)s was restored.") % {"name": contact})
    return redirect("contacts:detail", pk=contact.pk)


def _timeline_context(request: HttpRequest, user: User, contact: Contact) -> dict[str, Any]:
    """One page of the contact's timeline and the link to the next one."""
    page = contact_timeline_page(
        user,
        contact,
        InteractionFilters(),
        cursor=request.GET.get("cursor"),
        limit=TIMELINE_PAGE_SIZE,
    )
    more_url = None
    if page.next_cursor:
        base = reverse("contacts:timeline", args=[contact.pk])
        more_url = f"{base}?{urlencode({'cursor': page.next_cursor})}"
    return {
        "page": page,
        "more_url": more_url,
        "show_account": True,
        "return_url": return_url(request),
    }


@login_required
@require_GET
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about a contact: details, preferences, accounts, timeline and history."""
    user = _user(request)
    try:
        contact = selectors.get_contact_for_user(user, pk)
    except NotFound:
        contact = selectors.get_contact_for_user(user, pk, trashed=True)
    context = {
        "contact": contact,
        "history": history_rows(
            user, list(selectors.contact_history(user, contact)[:HISTORY_LIMIT]), subject=contact
        ),
        "nav": "contacts",
        **_timeline_context(request, user, contact),
    }
    return render(request, "contacts/contact_detail.html", context)


@login_required
@require_GET
def contact_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of a contact's timeline ("Load more" appends it)."""
    user = _user(request)
    contact = selectors.get_contact_for_user(user, pk)
    context = _timeline_context(request, user, contact)
    return render(request, "activities/partials/timeline_entries.html", context)


@login_required
@require_GET
def account_options(request: HttpRequest) -> HttpResponse:
    """A few accounts matching ``q``, for the autocomplete (never the whole book)."""
    user = _user(request)
    query = (request.GET.get("q") or "").strip()[:200]
    accounts = []
    if query:
        accounts = account_list(user, AccountFilters(q=query), limit=ACCOUNT_OPTIONS_LIMIT).items
    # The name the picked value is submitted under: one account (list filter) or several (form).
    field = "account" if request.GET.get("field") == "account" else "accounts"
    context = {"accounts": accounts, "query": query, "field": field}
    return render(request, "contacts/partials/account_options.html", context)
