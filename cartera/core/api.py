"""Plumbing every API router shares: authentication, problem responses, pages and entity tags.

Errors leave the API as RFC 9457 ``application/problem+json`` documents with per-field messages
in the request's language; lists are keyset pages; single resources carry an ``ETag`` and
writes to versioned ones need a matching ``If-Match``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, get_args

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, re_path
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType

from cartera.users.models import User
from cartera.users.services import authenticate_api_token

from .errors import Conflict, DomainError, InvalidInput
from .filters import PositiveId
from .pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from .services import change_stamp

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
NUL_MESSAGE = gettext_lazy("This text contains a character that is not allowed (NUL).")

T = TypeVar("T")

#: A row id as clients send it: positive and within a 64-bit column (SQLite overflows past it).
Id = PositiveId

#: HTTP status → (problem type slug, title).
PROBLEM_KINDS: dict[int, tuple[str, Any]] = {
    400: ("bad-request", gettext_lazy("Bad request")),
    401: ("unauthenticated", gettext_lazy("Authentication required")),
    403: ("forbidden", gettext_lazy("Forbidden")),
    404: ("not-found", gettext_lazy("Not found")),
    405: ("method-not-allowed", gettext_lazy("Method not allowed")),
    412: ("precondition-failed", gettext_lazy("Changed by someone else")),
    422: ("invalid-input", gettext_lazy("Invalid input")),
    428: ("precondition-required", gettext_lazy("If-Match required")),
    429: ("too-many-requests", gettext_lazy("Too many requests")),
    500: ("server-error", gettext_lazy("Server error")),
}


class PreconditionRequired(DomainError):
    """A write to a versioned resource came without ``If-Match``: it could overwrite blindly."""

    status = 428
    default_message = gettext_lazy(
        "Send the ETag you last read in an If-Match header, so that nobody's change is overwritten."
    )


class Problem(Schema):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per field name"
    )


def problem(
    status: int,
    detail: Any = None,
    *,
    errors: Mapping[str, Iterable[Any]] | None = None,
) -> HttpResponse:
    """An ``application/problem+json`` response for ``status``."""
    slug, title = PROBLEM_KINDS.get(status, ("error", gettext_lazy("Error")))
    document = Problem(
        type=f"urn:cartera:problem:{slug}",
        title=str(title),
        status=status,
        detail=str(detail or title),
        errors={field: [str(m) for m in messages] for field, messages in (errors or {}).items()},
    )
    return HttpResponse(
        document.model_dump_json(), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


# ---------------------------------------------------------------------------------------------
# Validation messages


_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))


def _error_message(item: Mapping[str, Any]) -> str:
    """One pydantic error in the user's words and language (Django's own strings where they fit)."""
    kind: str = item["type"]
    context = item.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind in {"enum", "literal_error"}:
        return _("Select a valid choice.")
    if kind == "string_too_long":
        return _("This value is too long (at most %(max)s characters).") % {
            "max": context.get("max_length")
        }
    if kind == "string_too_short":
        return _("This field cannot be blank.")
    if kind == "too_long":
        return _("Too many values (at most %(max)s).") % {"max": context.get("max_length")}
    if kind == "too_short":
        return _("This field cannot be blank.")
    if kind in {"less_than_equal", "less_than"}:
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": context.get("le", context.get("lt"))
        }
    if kind in {"greater_than_equal", "greater_than"}:
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": context.get("ge", context.get("gt"))
        }
    if kind.startswith("int"):
        return _("Enter a whole number.")
    if kind.startswith(("float", "decimal")):
        if kind == "decimal_max_places":
            return _("Ensure that there are no more than %(max)s decimal places.") % {
                "max": context.get("decimal_places")
            }
        if kind in {"decimal_max_digits", "decimal_whole_digits"}:
            return _("This number is too large.")
        return _("Enter a number.")
    if kind.startswith("bool"):
        return _("Enter true or false.")
    if kind.startswith("datetime"):
        return _("Enter a valid date/time.")
    if kind.startswith("date"):
        return _("Enter a valid date.")
    if kind.startswith("string"):
        return _("Enter a text.")
    if kind in {"list_type", "set_type", "tuple_type"}:
        return _("Enter a list of values.")
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return _("Enter an object.")
    if kind == "nul_character":
        return str(NUL_MESSAGE)
    if kind == "value_error" and isinstance(context.get("error"), str | Exception):
        return str(context["error"])
    if kind not in _PYDANTIC_ERROR_TYPES:
        # Our own PydanticCustomError: its message was translated when it was raised.
        return str(item.get("msg") or _("Enter a valid value."))
    return _("Enter a valid value.")


#: Names our operations give their body and query-schema parameters; ninja puts them in an
#: error's location, clients know only the field names inside.
PARAMETER_NAMES = frozenset({"payload", "filters", "page", "params"})


def _field_name(location: tuple[Any, ...]) -> str:
    """``("body", "payload", "tags", 2)`` → ``"tags"``; the whole body → ``"__all__"``."""
    parts = list(location)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if parts and parts[0] in PARAMETER_NAMES:
        parts = parts[1:]
    # Our inputs are flat: the field is the first name; what follows are list indexes and
    # pydantic's union member tags (``str-enum[BuyingRole]``), which mean nothing to a client.
    names = [str(part) for part in parts if not isinstance(part, int)]
    return names[0] if names else "__all__"


def field_errors(errors: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Messages per field from ninja's validation errors."""
    messages: dict[str, list[str]] = {}
    for item in errors:
        text = _error_message(item)
        bucket = messages.setdefault(_field_name(tuple(item.get("loc", ()))), [])
        if text not in bucket:
            bucket.append(text)
    return messages


# ---------------------------------------------------------------------------------------------
# Input


def _reject_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", str(NUL_MESSAGE))
    if isinstance(value, list):
        for item in value:
            _reject_nul(item)
    return value


class InputSchema(BaseModel):
    """Base of every request body: unknown fields are errors, NUL bytes are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        """Databases (PostgreSQL) cannot store NUL; say so instead of failing later."""
        return _reject_nul(value)


class QueryParser(Parser):
    """Query strings read as the list pages read them: ``?status=a,b`` is ``status=a&status=b``."""

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        """Values per key; NUL bytes anywhere are a field error (no database stores them)."""
        result: dict[str, Any] = {}
        for key in data:
            values = data.getlist(key)
            if any("\x00" in value for value in values if isinstance(value, str)):
                raise InvalidInput(field_errors={key: [str(NUL_MESSAGE)]})
            if key in list_fields:
                result[key] = [
                    part
                    for value in values
                    if isinstance(value, str)
                    for part in value.split(",")
                    if part
                ]
            elif values[-1] != "":
                result[key] = values[-1]
        return result


class PageQuery(Schema):
    """Where a list starts and how many rows it returns."""

    cursor: str | None = Field(
        None, max_length=1000, description="Opaque cursor from a previous page's next/previous"
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page")


class PageOut(Schema, Generic[T]):
    """One page of a list, with cursors to its neighbours (null at either end)."""

    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None


#: Error responses each kind of operation documents in OpenAPI.
READ_ERRORS: dict[int, Any] = {401: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 403: Problem}
VERSIONED_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 412: Problem, 428: Problem}


def request_actor(request: HttpRequest) -> User:
    """The signed-in person an authenticated operation acts for."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def page_out(page: Page[Any]) -> dict[str, Any]:
    """A selector's ``Page`` in the shape of ``PageOut``."""
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }


def rendered_page(
    request: HttpRequest,
    response: HttpResponse,
    page: Page[Any],
    item: Callable[[Any], dict[str, Any]],
) -> HttpResponse:
    """A page rendered as ``PageOut`` would, each row made by ``item`` and not validated again.

    For API lists read as ``values()`` rows: ``item`` must build exactly what the operation's
    documented item schema dumps (field order included; a test per list compares the bytes).
    ``response`` is the operation's temporal response, so headers are the usual ones.
    """
    from cartera.api import api  # the project's API, which imports every router

    data = page_out(page)
    data["items"] = [item(row) for row in page.items]
    return api.create_response(request, data, temporal_response=response)


# ---------------------------------------------------------------------------------------------
# Entity tags and preconditions

_ETAG = re.compile(r'^\s*"(?P<pk>\d+)-(?P<version>\d+)"\s*$')


def etag_of(obj: Any) -> str:
    """The entity tag of a row: its version when it has one, else its last change time."""
    tag = getattr(obj, "etag", None)
    if isinstance(tag, str):
        return tag
    return f'"{obj.pk}-{change_stamp(obj)}"'


def not_modified(request: HttpRequest, obj: Any) -> HttpResponseNotModified | None:
    """A 304 when the client already holds this version (``If-None-Match``)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return None
    tag = etag_of(obj)
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    if tag in candidates or "*" in candidates:
        response = HttpResponseNotModified()
        response["ETag"] = tag
        return response
    return None


def expected_version(request: HttpRequest, obj: Any) -> int | None:
    """The version ``If-Match`` says the client last read; missing → 428, another row's → 412.

    ``If-Match: *`` (any version) is honoured as RFC 9110 defines it.
    """
    header = request.headers.get("If-Match")
    if not header or not header.strip():
        raise PreconditionRequired()
    candidates = [part.strip() for part in header.split(",")]
    if "*" in candidates:
        return None
    for candidate in candidates:
        match = _ETAG.match(candidate)
        if match and int(match["pk"]) == obj.pk:
            return int(match["version"])
    raise Conflict()


def with_etag(response: HttpResponse, obj: Any) -> None:
    """Put the row's current entity tag on the response."""
    response["ETag"] = etag_of(obj)


# ---------------------------------------------------------------------------------------------
# Authentication


def _use_preferences(request: HttpRequest, user: User) -> None:
    """A token-authenticated user's saved language wins, as it does for sessions."""
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = user.language


class TokenAuth(HttpBearer):
    """``Authorization: Bearer crt_…``: a personal access token (no CSRF: no cookie involved)."""

    def __call__(self, request: HttpRequest) -> Any:
        """A presented but unusable token is a 401, never a fall-back to the session."""
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _space, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError()
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User:
        """The token's active owner, or 401."""
        user = authenticate_api_token(token) if token else None
        if user is None:
            raise AuthenticationError()
        request.user = user
        _use_preferences(request, user)
        return user


class SessionAuth(NinjaSessionAuth):
    """The browser's session; unsafe methods must carry the CSRF token."""

    def __call__(self, request: HttpRequest) -> Any:
        """Signed-out requests are 401 (not a CSRF 403)."""
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


# ---------------------------------------------------------------------------------------------
# The API object


class CarteraAPI(NinjaAPI):
    """A NinjaAPI whose every error, even 404 and 405 outside operations, is a problem document."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """The view's name (unique across routers): ``list_accounts``, ``update_contact``."""
        return operation.view_func.__name__

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The schema, with error responses declared as ``application/problem+json``."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema["paths"].values():
            for operation in methods.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if int(status) >= 400 and content:
                        response["content"] = {PROBLEM_CONTENT_TYPE: next(iter(content.values()))}
        return schema

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _problem_for_405(pattern.callback)
        return [*urls, re_path(r"^.*$", _unknown_path, name="unknown")]


def _problem_for_405(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type") != PROBLEM_CONTENT_TYPE:
            allowed = response.get("Allow", "")
            replacement = problem(
                405, _("This address does not accept %(method)s.") % {"method": request.method}
            )
            replacement["Allow"] = allowed
            return replacement
        return response

    return wrapper


def _unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return problem(404, _("There is no API operation at this address."))


_unknown_path.csrf_exempt = True  # type: ignore[attr-defined]


def install_problem_handlers(api: NinjaAPI) -> None:
    """Turn every exception an operation can raise into a problem response."""

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem(exc.status, exc.message, errors=exc.field_errors)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return problem(422, InvalidInput.default_message, errors=field_errors(exc.errors))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem(
            401,
            _("Sign in, or send a valid personal access token as 'Authorization: Bearer …'."),
        )
        response["WWW-Authenticate"] = 'Bearer realm="cartera"'
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            return problem(400, _("The request body is not valid JSON."))
        if exc.status_code == 403:
            return problem(403, _("The CSRF token is missing or not valid."))
        return problem(exc.status_code, PROBLEM_KINDS.get(exc.status_code, (None, None))[1])

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(404)

    @api.exception_handler(OverflowError)
    def number_too_large(request: HttpRequest, exc: OverflowError) -> HttpResponse:
        # SQLite cannot bind integers past 64 bits; a filter id that large matches nothing.
        return problem(422, _("A number in the request is too large."))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API operation failed", exc_info=exc)
        return problem(500, _("Something went wrong on our side. Nothing was changed."))


def build_api(**kwargs: Any) -> CarteraAPI:
    """The API with Cartera's authentication, parser and problem handlers."""
    api = CarteraAPI(auth=[TokenAuth(), SessionAuth()], parser=QueryParser(), **kwargs)
    install_problem_handlers(api)
    return api
