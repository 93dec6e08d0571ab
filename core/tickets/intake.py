"""One validation path for every way a ticket arrives (portal, staff form, import, mail)."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.tickets.enums import Category, TicketStatus

SUBJECT_MAX = 200
DESCRIPTION_MAX = 20_000


class IntakeError(ValueError):
    """A ticket could not be accepted; `errors` maps each field to a message a person can act on."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class TicketInput(BaseModel):
    """What a new ticket needs, whatever the channel."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    subject: str = Field(min_length=1, max_length=SUBJECT_MAX)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    reproducible: bool | None = None
    page_url: str | None = Field(None, max_length=2000)
    user_agent: str | None = Field(None, max_length=500)
    requester_email: str | None = Field(None, max_length=254)
    account: str | None = Field(None, max_length=64)
    external_id: str | None = Field(None, max_length=120)
    created_at: datetime | None = None
    status: TicketStatus | None = None
    category: Category | None = None
    first_response_at: datetime | None = None
    solved_at: datetime | None = None

    @field_validator("page_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if not v:
            return None
        if urlparse(v).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) address")
        return v

    @field_validator("requester_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if not v:
            return None
        if "@" not in v or " " in v or "." not in v.split("@")[-1]:
            raise ValueError("is not an e-mail address")
        return v.lower()

    @field_validator("reproducible", mode="before")
    @classmethod
    def _tristate(cls, v):
        if isinstance(v, str):
            low = v.strip().lower()
            if low in ("", "null", "none", "unknown", "sometimes"):
                return None
            if low in ("true", "yes", "1", "y", "always", "si", "sí"):
                return True
            if low in ("false", "no", "0", "n"):
                return False
        return v

    @field_validator("created_at", "first_response_at", "solved_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        if v > datetime.now(timezone.utc):
            raise ValueError("is in the future")
        return v


_FIELD_NAMES = {"subject": "Subject", "description": "Description", "page_url": "Page URL",
                "requester_email": "Requester e-mail", "reproducible": "Happens every time?"}


def validate(data: dict) -> TicketInput:
    """Parse raw input into TicketInput, or raise IntakeError with one message per bad field."""
    try:
        return TicketInput.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "ticket"
            errors.setdefault(field, _message(field, err))
        raise IntakeError(errors) from None


def _message(field: str, err: dict) -> str:
    label = _FIELD_NAMES.get(field, field)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("string_too_short", "missing") or (kind == "string_type" and err.get("input") is None):
        return f"{label} is required"
    if kind == "string_too_long":
        return f"{label} is too long (at most {ctx.get('max_length')} characters)"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{label} {msg}" if kind == "value_error" else f"{label}: {msg}"
