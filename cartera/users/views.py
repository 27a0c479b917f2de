"""Pages for signing in, one's profile, language and API tokens, and the people/team admin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from cartera.core.errors import DomainError, InvalidInput, NotFound
from cartera.core.pagination import keyset_page
from cartera.core.views import add_domain_error, render_page_or_partial

from . import selectors, services
from .forms import (
    ApiTokenForm,
    NewPasswordForm,
    NewUserForm,
    ProfileForm,
    QueuedPasswordResetForm,
    SignInForm,
    TeamForm,
    UserForm,
)
from .models import User

USER_ORDERING = ("full_name", "pk")
TEAM_ORDERING = ("name", "pk")
TOKEN_ORDERING = ("-created_at", "-pk")


class SignInView(auth_views.LoginView):
    """Sign in with email and password; signed-in people go straight to the home page."""

    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("core:home")  # type: ignore[assignment]


class SignOutView(auth_views.LogoutView):
    """Sign out (POST only) and say so on the sign-in page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """End the session, then leave a note for the next page."""
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have signed out."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link; the email is sent by the background worker."""

    form_class = QueuedPasswordResetForm


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the emailed link."""

    form_class = NewPasswordForm


def _user(request: HttpRequest) -> User:
    """The signed-in person (the views below all require one)."""
    user = request.user
    assert isinstance(user, User)
    return user


def _require_admin(user: User) -> None:
    """People and team pages do not exist for anyone but administrators."""
    if not user.is_admin:
        raise NotFound()


@require_POST
def set_language(request: HttpRequest) -> HttpResponseBase:
    """Switch the interface language: saved on the person, and in a cookie for the sign-in page.

    Django's own view sets the cookie and redirects to a safe ``next`` only.
    """
    if request.user.is_authenticated:
        try:
            services.set_language(actor=_user(request), language=request.POST.get("language", ""))
        except InvalidInput:
            messages.error(request, _("That language is not available."))
    return django_set_language(request)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Edit one's own name, language and time zone."""
    user = _user(request)
    initial = {"full_name": user.full_name, "language": user.language, "time_zone": user.time_zone}
    form = ProfileForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_user(actor=user, user=user, changes=form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                language = user.language or translation.get_language()
                with translation.override(language):
                    messages.success(request, _("Your profile was saved."))
                return redirect("users:profile")
        else:
            status = 422
    return render(request, "users/profile.html", {"form": form, "nav": "profile"}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """One's API tokens, and a form to create one whose secret is shown only in the answer."""
    user = _user(request)
    form = ApiTokenForm(request.POST or None)
    created_secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, created_secret = services.create_api_token(
                    actor=user,
                    user=user,
                    name=form.cleaned_data["name"],
                    expires_at=form.expires_at(),
                )
            except DomainError as error:
                if "expires_at" in error.field_errors:
                    error.field_errors["expires_on"] = error.field_errors.pop("expires_at")
                add_domain_error(form, error)
                status = error.status
            else:
                form = ApiTokenForm()
                status = 201
        else:
            status = 422
    page = keyset_page(
        selectors.token_list(user),
        ordering=TOKEN_ORDERING,
        cursor=request.GET.get("cursor"),
        limit=100,
    )
    context = {"form": form, "page": page, "created_secret": created_secret, "nav": "tokens"}
    return render(request, "users/token_list.html", context, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of one's own tokens for good."""
    user = _user(request)
    token = selectors.get_token_for_user(user, pk)
    services.revoke_api_token(actor=user, token=token)
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("users:token_list")


@login_required
@require_http_methods(["GET"])
def user_list(request: HttpRequest) -> HttpResponse:
    """Everyone who can sign in, with role, team and whether they are active (admins only)."""
    user = _user(request)
    _require_admin(user)
    page = keyset_page(
        selectors.user_list(user), ordering=USER_ORDERING, cursor=request.GET.get("cursor")
    )
    return render_page_or_partial(
        request,
        "users/user_list.html",
        "users/partials/user_table.html",
        {"page": page, "nav": "people"},
    )


def _save_user_form(
    request: HttpRequest, actor: User, person: User | None
) -> tuple[UserForm, int, User | None]:
    """Validate the person form and create or update through the service."""
    teams = selectors.team_list()
    form_class = NewUserForm if person is None else UserForm
    initial = None
    if person is not None:
        initial = {
            "full_name": person.full_name,
            "email": person.email,
            "role": person.role,
            "team": person.team_id,
            "language": person.language,
            "is_active": person.is_active,
        }
    form = form_class(request.POST or None, initial=initial, teams=teams)
    if request.method != "POST":
        return form, 200, None
    if not form.is_valid():
        return form, 422, None
    data = dict(form.cleaned_data)
    password = data.pop("password", None)
    try:
        if person is None:
            saved = services.create_user(actor=actor, data=data, password=password)
        else:
            saved = services.update_user(actor=actor, user=person, changes=data)
    except DomainError as error:
        add_domain_error(form, error)
        return form, error.status, None
    return form, 200, saved


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    """Add a person with a role, a team and an initial password (admins only)."""
    actor = _user(request)
    _require_admin(actor)
    form, status, saved = _save_user_form(request, actor, None)
    if saved is not None:
        messages.success(request, _("%(name)s can now sign in.") % {"name": saved})
        return redirect("users:user_list")
    context = {"form": form, "person": None, "nav": "people"}
    return render(request, "users/user_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a person's details, role, team or whether they may sign in (admins only)."""
    actor = _user(request)
    person = selectors.get_user_for_admin(actor, pk)
    form, status, saved = _save_user_form(request, actor, person)
    if saved is not None:
        messages.success(request, _("%(name)s was saved.") % {"name": saved})
        return redirect("users:user_list")
    context = {"form": form, "person": person, "nav": "people"}
    return render(request, "users/user_form.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def team_list(request: HttpRequest) -> HttpResponse:
    """Every team with its manager (admins only)."""
    user = _user(request)
    _require_admin(user)
    page = keyset_page(
        selectors.team_list(), ordering=TEAM_ORDERING, cursor=request.GET.get("cursor")
    )
    return render_page_or_partial(
        request,
        "users/team_list.html",
        "users/partials/team_table.html",
        {"page": page, "nav": "teams"},
    )


def _team_page(request: HttpRequest, pk: int | None) -> HttpResponse:
    """Create (``pk`` None) or edit a team through the service."""
    actor = _user(request)
    _require_admin(actor)
    team = selectors.get_team(actor, pk) if pk is not None else None
    people = selectors.user_list(actor).filter(is_active=True)
    initial = (
        {"name": team.name, "manager": team.manager_id, "office": team.office} if team else None
    )
    form = TeamForm(request.POST or None, initial=initial, people=people)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if team is None:
                    saved = services.create_team(actor=actor, data=form.cleaned_data)
                else:
                    saved = services.update_team(actor=actor, team=team, changes=form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Team “%(name)s” was saved.") % {"name": saved})
                return redirect("users:team_list")
        else:
            status = 422
    context = {"form": form, "team": team, "nav": "teams"}
    return render(request, "users/team_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    """Add a team (admins only)."""
    return _team_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a team or change its manager (admins only)."""
    return _team_page(request, pk)
