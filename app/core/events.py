"""The Oz webhook event: its fields, its rules and the interaction it becomes."""

import math
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

EVENT_TYPES: dict[str, str] = {
    "session.review_request": "review",
    "session.approval_needed": "approval",
    "session.human_input": "chat",
    "session.form_input": "form",
    "session.share": "broadcast",
}
PRIORITIES = ("low", "normal", "high", "urgent")
FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "select",
    "multiselect",
    "checkbox",
    "date",
)
FIELDS_WITH_OPTIONS = ("select", "multiselect", "checkbox")

MAX_TIMEOUT_SECONDS = 604_800
MAX_DESCRIPTION = 10_000
MAX_TITLE = 300
MAX_FORM_FIELDS = 20
MIN_OPTIONS, MAX_OPTIONS = 2, 5
MAX_BATCH = 20
MAX_NESTING = 32

Text = Annotated[str, StringConstraints(min_length=1)]
_FIELD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class _Lenient(BaseModel):
    """Oz may add fields; unknown ones are ignored rather than rejected."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class ContextIn(BaseModel):
    """What the reviewer is shown about the session; extra keys are kept."""

    model_config = ConfigDict(extra="allow")

    files: list[Annotated[str, StringConstraints(max_length=1000)]] | None = None
    diff: str | None = None
    branch: Annotated[str, StringConstraints(max_length=300)] | None = None
    repository: Annotated[str, StringConstraints(max_length=300)] | None = None
    session_url: Annotated[str, StringConstraints(max_length=1500)] | None = None

    @field_validator("session_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s<>|]+", value, flags=re.IGNORECASE):
            raise ValueError("must be an http or https URL without spaces, <, > or |")
        return value


ChoiceText = Annotated[str, StringConstraints(min_length=1, max_length=150)]


class ChoiceIn(_Lenient):
    """One option of a select, multiselect or checkbox field."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    label: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


class FormFieldIn(_Lenient):
    name: str
    label: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    type: Literal[
        "text", "textarea", "number", "select", "multiselect", "checkbox", "date"
    ]
    required: StrictBool = False
    options: list[ChoiceText | ChoiceIn] | None = None
    placeholder: Annotated[str, StringConstraints(max_length=500)] | None = None
    default: Any = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _FIELD_NAME.match(value):
            raise ValueError("must be 1-64 letters, digits, '_', '.' or '-'")
        return value

    @model_validator(mode="after")
    def _options_and_default(self) -> "FormFieldIn":
        if self.type in FIELDS_WITH_OPTIONS:
            if not self.options:
                raise ValueError(f"a {self.type} field needs options")
            limit = 10 if self.type == "checkbox" else 100
            if len(self.options) > limit:
                raise ValueError(f"a {self.type} field takes at most {limit} options")
            values = [choice_value(option) for option in self.options]
            if len(set(values)) != len(values):
                raise ValueError("option values must be unique")
        elif self.options is not None:
            raise ValueError(f"a {self.type} field takes no options")
        _check_default(self)
        return self


class FormIn(_Lenient):
    fields: list[FormFieldIn] = Field(min_length=1, max_length=MAX_FORM_FIELDS)

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[FormFieldIn]) -> list[FormFieldIn]:
        names = [field.name for field in fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        return fields


class OptionIn(_Lenient):
    """A custom choice of an approval, shown as a button."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    label: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    style: Literal["primary", "danger"] | None = None


class EventIn(_Lenient):
    """One Oz webhook event; anything accepted here can be stored and shown."""

    event: str
    session_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE)]
    description: (
        Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None
    ) = None
    context: ContextIn | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    timeout_seconds: (
        Annotated[StrictInt, Field(ge=1, le=MAX_TIMEOUT_SECONDS)] | None
    ) = None
    form: FormIn | None = None
    options: list[OptionIn] | None = None

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        check_storable(data)
        return data

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise ValueError("must be one of " + ", ".join(EVENT_TYPES))
        return value

    @model_validator(mode="after")
    def _type_specific(self) -> "EventIn":
        if self.event == "session.form_input" and self.form is None:
            raise _field_error("form", "is required for session.form_input")
        if self.event != "session.form_input" and self.form is not None:
            raise _field_error("form", "is only accepted with session.form_input")
        if self.options is not None:
            if self.event != "session.approval_needed":
                raise _field_error(
                    "options", "are only accepted with session.approval_needed"
                )
            if not MIN_OPTIONS <= len(self.options) <= MAX_OPTIONS:
                raise _field_error(
                    "options", f"must hold {MIN_OPTIONS} to {MAX_OPTIONS} choices"
                )
            values = [option.value for option in self.options]
            if len(set(values)) != len(values):
                raise _field_error("options", "values must be unique")
        return self

    @property
    def interaction_type(self) -> str:
        return EVENT_TYPES[self.event]


class FieldError(ValueError):
    """A model-level rule that names the field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _field_error(field: str, message: str) -> FieldError:
    return FieldError(field, message)


def check_storable(value: Any, path: tuple[str, ...] = (), depth: int = 0) -> None:
    """Refuse JSON that every database cannot keep and hand back as it came.

    NUL characters and non-finite numbers (NaN, Infinity, 1e400) are refused by
    PostgreSQL; nesting past MAX_NESTING cannot be serialized back.
    """
    where = ".".join(path)
    if depth > MAX_NESTING:
        raise FieldError(where, f"is nested more than {MAX_NESTING} levels deep")
    if isinstance(value, str):
        if "\x00" in value:
            raise FieldError(where, "must not contain NUL characters")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FieldError(where, "must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, (*path, str(key)), depth + 1)
            check_storable(item, (*path, str(key)), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, (*path, str(index)), depth + 1)


def choice_value(option: "ChoiceText | ChoiceIn") -> str:
    return option if isinstance(option, str) else option.value


def choice_label(option: "ChoiceText | ChoiceIn") -> str:
    if isinstance(option, str):
        return option
    return option.label or option.value


def _check_default(field: FormFieldIn) -> None:
    default = field.default
    if default is None:
        return
    values = [choice_value(o) for o in field.options or []]
    if field.type in ("text", "textarea"):
        ok = isinstance(default, str)
    elif field.type == "number":
        ok = isinstance(default, int | float) and not isinstance(default, bool)
    elif field.type == "select":
        ok = default in values
    elif field.type in ("multiselect", "checkbox"):
        ok = isinstance(default, list) and all(item in values for item in default)
    else:
        ok = isinstance(default, str) and _is_date(default)
    if not ok:
        raise ValueError(f"default does not fit a {field.type} field")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))
