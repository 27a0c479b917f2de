"""Catalogue pages: product list (search, filters, export), detail with prices, create/edit,
price lists with their prices. Everyone reads; administrators and directors change.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from cartera.core.display import translated_choices
from cartera.core.errors import Conflict, DomainError, InvalidInput
from cartera.core.export import export_format, export_response
from cartera.core.filters import parse_filters
from cartera.core.views import render_page_or_partial
from cartera.users.models import User

from . import selectors, services
from .exports import PRODUCT_EXPORT
from .filters import ProductFilters
from .forms import PriceListForm, ProductForm
from .models import Unit

CONFLICT = gettext_lazy(
    "Someone else changed this while you were editing it. Nothing was saved: reload."
)


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError, OverflowError):
        return None


@require_GET
@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue: search, filters by family, unit and active; htmx gets the table only."""
    user = _user(request)
    context: dict[str, Any] = {
        "nav": "products",
        "can_manage": services.can_manage_catalog(user),
        "units": translated_choices(Unit),
        "families": selectors.product_families(),
    }
    status = 200
    try:
        filters = parse_filters(ProductFilters, request.GET)
        page = selectors.product_list(user, filters, cursor=request.GET.get("cursor") or None)
    except InvalidInput as error:
        filters, page, status = ProductFilters.model_validate({}), None, error.status
        context["filter_errors"] = error.field_errors
    context.update(filters=filters, page=page)
    return render_page_or_partial(
        request, "catalog/list.html", "catalog/partials/list_results.html", context, status
    )


@require_GET
@login_required
def product_export(request: HttpRequest) -> HttpResponseBase:
    """The filtered catalogue as CSV (default) or Excel with ``?format=xlsx``."""
    fmt = export_format(request.GET.get("format"))
    filters = parse_filters(ProductFilters, request.GET, ignore={"format"})
    return export_response(
        PRODUCT_EXPORT, selectors.product_export_rows(_user(request), filters), fmt
    )


@require_GET
@login_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A product with its price on every list."""
    product = selectors.get_product(pk)
    context = {
        "nav": "products",
        "product": product,
        "prices": list(product.prices.all()),
        "can_manage": services.can_manage_catalog(_user(request)),
    }
    return render(request, "catalog/detail.html", context)


def _form_page(
    request: HttpRequest, form: Any, title: str, back: str, status: int = 200
) -> HttpResponse:
    context = {"nav": "products", "form": form, "title": title, "back": back}
    return render(request, "catalog/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def product_create(request: HttpRequest) -> HttpResponse:
    """Add a product (administrators and directors)."""
    user = _user(request)
    services.ensure_can_manage_catalog(user)
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                product = services.create_product(actor=user, data=form.data_for_service())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Product “%(name)s” created.") % {"name": product})
                return redirect("catalog:detail", pk=product.pk)
        return _form_page(request, form, _("New product"), "catalog:list", 422)
    return _form_page(request, ProductForm(), _("New product"), "catalog:list")


@require_http_methods(["GET", "POST"])
@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a product; a stale version overwrites nothing."""
    user = _user(request)
    product = selectors.get_product(pk)
    services.ensure_can_manage_catalog(user)
    if request.method == "POST":
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                services.update_product(
                    actor=user,
                    product=product,
                    changes=form.data_for_service(),
                    expected_version=form.cleaned_data["version"],
                )
            except Conflict:
                form.add_error(None, CONFLICT)
                return _form_page(request, form, str(product), "catalog:list", 412)
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("catalog:detail", pk=product.pk)
        return _form_page(request, form, str(product), "catalog:list", 422)
    initial = {name: getattr(product, name) for name in ProductForm.names}
    initial["version"] = product.version
    return _form_page(request, ProductForm(initial=initial), str(product), "catalog:list")


@require_GET
@login_required
def price_list_index(request: HttpRequest) -> HttpResponse:
    """Every price list."""
    context = {
        "nav": "products",
        "price_lists": list(selectors.price_lists()),
        "can_manage": services.can_manage_catalog(_user(request)),
    }
    return render(request, "catalog/price_lists.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def price_list_create(request: HttpRequest) -> HttpResponse:
    """Add a price list (administrators and directors)."""
    user = _user(request)
    services.ensure_can_manage_catalog(user)
    if request.method == "POST":
        form = PriceListForm(request.POST)
        if form.is_valid():
            try:
                plist = services.create_price_list(actor=user, data=form.data_for_service())
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Price list created."))
                return redirect("catalog:price_list", pk=plist.pk)
        return _form_page(request, form, _("New price list"), "catalog:price_lists", 422)
    form = PriceListForm(initial={"currency": "EUR", "is_active": True})
    return _form_page(request, form, _("New price list"), "catalog:price_lists")


@require_http_methods(["GET", "POST"])
@login_required
def price_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A price list's prices; managers edit the list and set prices (POST ``product`` +
    ``unit_price``, or the list's own fields)."""
    user = _user(request)
    plist = selectors.get_price_list(pk)
    can_manage = services.can_manage_catalog(user)
    status = 200
    initial = {name: getattr(plist, name) for name in PriceListForm.names}
    initial["version"] = plist.version
    form = PriceListForm(initial=initial)
    price_error = ""
    if request.method == "POST":
        services.ensure_can_manage_catalog(user)
        if "unit_price" in request.POST:
            product_pk = request.POST.get("product", "")
            try:
                product = selectors.get_product(product_pk)
                if request.POST.get("remove"):
                    services.remove_price(actor=user, price_list=plist, product=product)
                else:
                    services.set_price(
                        actor=user,
                        price_list=plist,
                        product=product,
                        unit_price=request.POST["unit_price"],
                    )
            except DomainError as error:
                price_error = " ".join(
                    [m for msgs in error.field_errors.values() for m in msgs] or [error.message]
                )
                status = error.status
            else:
                messages.success(request, _("Price saved."))
                return redirect("catalog:price_list", pk=plist.pk)
        else:
            form = PriceListForm(request.POST)
            if form.is_valid():
                try:
                    services.update_price_list(
                        actor=user,
                        price_list=plist,
                        changes=form.data_for_service(),
                        expected_version=form.cleaned_data["version"],
                    )
                except Conflict:
                    form.add_error(None, CONFLICT)
                    status = 412
                except DomainError as error:
                    form.add_domain_error(error)
                    status = error.status
                else:
                    messages.success(request, _("Changes saved."))
                    return redirect("catalog:price_list", pk=plist.pk)
            else:
                status = 422
        plist = selectors.get_price_list(pk)
    priced = {item.product_id for item in plist.items.all()}
    context = {
        "nav": "products",
        "price_list": plist,
        "items": list(plist.items.all()),
        "form": form,
        "can_manage": can_manage,
        "price_error": price_error,
        "unpriced": list(
            selectors.visible_products(user)
            .exclude(pk__in=priced)
            .order_by("name_key", "pk")
            .only("pk", "sku", "name")[:500]
        )
        if can_manage
        else [],
    }
    return render(request, "catalog/price_list.html", context, status=status)
