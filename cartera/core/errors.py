"""The one domain error type that services raise; the API and the views translate it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the operation; ``field_errors`` name the fields at fault."""

    status = 400
    default_message = _("The request could not be completed.")

    def __init__(
        self,
        message: str | None = None,
        *,
        field_errors: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.message = str(message or self.default_message)
        self.field_errors = {
            key: [str(m) for m in msgs] for key, msgs in (field_errors or {}).items()
        }
        super().__init__(self.message)

    @classmethod
    def from_django(cls, error: DjangoValidationError) -> DomainError:
        """Turn a model ``full_clean()`` error into a domain error with per-field messages."""
        if hasattr(error, "error_dict"):
            fields = {
                field: [str(m) for e in errs for m in e.messages]
                for field, errs in error.error_dict.items()
            }
            return InvalidInput(field_errors=fields)
        return InvalidInput(" ".join(error.messages))


class InvalidInput(DomainError):
    """Input failed validation."""

    status = 422
    default_message = _("Some fields are not valid.")


class NotFound(DomainError):
    """The object does not exist or the user may not see it: the two are never told apart."""

    status = 404
    default_message = _("Not found.")


class Forbidden(DomainError):
    """The user can see the object but may not change it."""

    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    """Someone else changed the object since it was read: nothing was overwritten."""

    status = 412
    default_message = _(
        "Someone else changed this record since you opened it. "
        "Reload it and apply your change again."
    )
