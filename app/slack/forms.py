"""The form modal of a `session.form_input` interaction, and reading its answers.

Pure functions: `form_modal` turns the stored interaction into Slack's modal
view, `parse_submission` turns the submitted `view.state.values` back into
typed answers keyed by field name. The modal stays inside Block Kit's
documented limits for any form the webhook accepts: long text is cut with an
ellipsis, never refused. Everything the submission needs travels in the view
itself (the interaction id in `private_metadata`), so no server memory links
the click to the submit.
"""

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.events import ChoiceIn, FormFieldIn, FormIn, choice_label, choice_value
from app.slack import ids
from app.slack.text import cut, escape_cut, single_line, size
from app.store.models import Interaction

Block = dict[str, Any]
Entry = dict[str, Any]
StateValues = dict[str, dict[str, Entry]]

# Block Kit's documented limits.
MODAL_TITLE_LIMIT = 24
MODAL_BUTTON_LIMIT = 24
MODAL_BLOCKS_LIMIT = 100
PRIVATE_METADATA_LIMIT = 3000
SECTION_LIMIT = 3000
LABEL_LIMIT = 2000
HINT_LIMIT = 2000
PLACEHOLDER_LIMIT = 150
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
TEXT_INPUT_LIMIT = 3000
SELECT_OPTIONS_LIMIT = 100
CHECKBOX_OPTIONS_LIMIT = 10

# Slack option values of options whose own value cannot be sent as it is
# (empty or too long); own values with this prefix are replaced too, so the
# two kinds never collide.
STAND_IN_PREFIX = "hiloop~"
BLANK_TEXT = "(blank)"

REQUIRED = "Please answer this question."
CHOOSE_ONE = "Please choose an option."
TICK_ONE = "Please tick at least one box."
NOT_AN_OPTION = "Please choose one of the listed options."
NOT_A_NUMBER = "Please enter a number, such as 42 or -3.5."
NOT_EXACT = "Please enter a number with at most 15 significant digits."
# Whole numbers every JSON reader keeps exact, and the longest number read.
EXACT_INTEGER_LIMIT = 2**53
NUMBER_TEXT_LIMIT = 100
NOT_A_DATE = "Please pick a date."

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class AnswerError(ValueError):
    """An answer the form cannot take; its message is shown under the field."""


@dataclass(frozen=True)
class Choice:
    """One option of a field: its value, what Slack carries and what it shows."""

    value: str
    slack_value: str
    text: str


# The modal


def form_modal(interaction: Interaction) -> dict[str, Any]:
    """The modal that asks the interaction's form fields."""
    form = form_of(interaction)
    blocks = _intro(interaction) + [_input_block(field) for field in form.fields]
    return {
        "type": "modal",
        "callback_id": ids.FORM_MODAL,
        "private_metadata": json.dumps({"id": interaction.id}),
        "title": _plain(
            cut(single_line(interaction.title) or "Form", MODAL_TITLE_LIMIT)
        ),
        "submit": _plain("Submit"),
        "close": _plain("Cancel"),
        "blocks": blocks[:MODAL_BLOCKS_LIMIT],
    }


def form_of(interaction: Interaction) -> FormIn:
    """The interaction's form spec, as the webhook accepted it."""
    if not interaction.form:
        raise ValueError(f"interaction {interaction.id} has no form")
    return FormIn.model_validate(interaction.form)


def interaction_id_from(private_metadata: str | None) -> str | None:
    """The interaction id a form modal carries, or None when unreadable."""
    try:
        meta = json.loads(private_metadata or "")
        return str(meta["id"])
    except (ValueError, KeyError, TypeError):
        return None


def field_block_id(name: str) -> str:
    return ids.FORM_FIELD_BLOCK + name


def choices(field: FormFieldIn) -> list[Choice]:
    """The options Slack shows for a field, in the field's order."""
    limit = CHECKBOX_OPTIONS_LIMIT if field.type == "checkbox" else SELECT_OPTIONS_LIMIT
    options = (field.options or [])[:limit]
    return [_choice(option, index) for index, option in enumerate(options)]


def _choice(option: str | ChoiceIn, index: int) -> Choice:
    value = choice_value(option)
    sendable = 0 < size(value) <= OPTION_VALUE_LIMIT
    own = sendable and not value.startswith(STAND_IN_PREFIX)
    text = _visible(choice_label(option), _visible(value, BLANK_TEXT))
    return Choice(
        value=value,
        slack_value=value if own else f"{STAND_IN_PREFIX}{index}",
        text=cut(text, OPTION_TEXT_LIMIT),
    )


def _intro(interaction: Interaction) -> list[Block]:
    title = _visible(interaction.title.strip(), "Form")
    blocks = [_section(f"*{escape_cut(title, SECTION_LIMIT - 2)}*")]
    if interaction.description and interaction.description.strip():
        blocks.append(_section(escape_cut(interaction.description, SECTION_LIMIT)))
    return blocks


def _input_block(field: FormFieldIn) -> Block:
    element = _ELEMENTS[field.type](field)
    element["action_id"] = ids.FORM_FIELD_INPUT
    block: Block = {
        "type": "input",
        "block_id": field_block_id(field.name),
        "label": _plain(cut(_visible(field.label, field.name), LABEL_LIMIT)),
        # Slack would accept an empty required checkbox group; we check it.
        "optional": not field.required or field.type == "checkbox",
        "element": element,
    }
    hint = _checkbox_hint(field) if field.type == "checkbox" else None
    if hint:
        block["hint"] = _plain(cut(hint, HINT_LIMIT))
    return block


def _checkbox_hint(field: FormFieldIn) -> str | None:
    """Checkboxes have no placeholder, and Slack marks ours optional: say both."""
    placeholder = (field.placeholder or "").strip()
    parts = [placeholder] if placeholder else []
    if field.required:
        parts.append("Required: tick at least one box.")
    return " ".join(parts) or None


def _text_element(field: FormFieldIn) -> Block:
    element = _with_placeholder(
        {"type": "plain_text_input", "max_length": TEXT_INPUT_LIMIT}, field
    )
    if field.type == "textarea":
        element["multiline"] = True
    if isinstance(field.default, str) and field.default.strip():
        element["initial_value"] = cut(field.default, TEXT_INPUT_LIMIT)
    return element


def _number_element(field: FormFieldIn) -> Block:
    # A plain text input, so the parsing and its error text are ours.
    element = _with_placeholder(
        {"type": "plain_text_input", "max_length": TEXT_INPUT_LIMIT}, field
    )
    shown = _number_text(field.default)
    if shown is not None:
        element["initial_value"] = shown
    return element


def _number_text(number: Any) -> str | None:
    """A default number as the input shows it; None if it cannot be shown whole."""
    if isinstance(number, bool) or not isinstance(number, int | float):
        return None
    if isinstance(number, float) and not math.isfinite(number):
        return None
    try:
        text = repr(number)
    except ValueError:  # an integer past Python's digit limit
        return None
    try:
        # Shown only if submitting it untouched gives the same number back.
        kept = parse_number(text) == number
    except AnswerError:
        kept = False
    return text if kept and size(text) <= TEXT_INPUT_LIMIT else None


def _select_element(field: FormFieldIn) -> Block:
    shown = choices(field)
    element = _with_placeholder(
        {"type": "static_select", "options": [_option(c) for c in shown]}, field
    )
    initial = _initial_choices(shown, [field.default])
    if initial:
        element["initial_option"] = initial[0]
    return element


def _multiselect_element(field: FormFieldIn) -> Block:
    return _with_placeholder(_many_element("multi_static_select", field), field)


def _checkbox_element(field: FormFieldIn) -> Block:
    return _many_element("checkboxes", field)


def _many_element(kind: str, field: FormFieldIn) -> Block:
    shown = choices(field)
    element: Block = {"type": kind, "options": [_option(c) for c in shown]}
    defaults = field.default if isinstance(field.default, list) else []
    initial = _initial_choices(shown, defaults)
    if initial:
        element["initial_options"] = initial
    return element


def _date_element(field: FormFieldIn) -> Block:
    element = _with_placeholder({"type": "datepicker"}, field)
    if isinstance(field.default, str) and _is_date(field.default):
        element["initial_date"] = field.default
    return element


_ELEMENTS: dict[str, Callable[[FormFieldIn], Block]] = {
    "text": _text_element,
    "textarea": _text_element,
    "number": _number_element,
    "select": _select_element,
    "multiselect": _multiselect_element,
    "checkbox": _checkbox_element,
    "date": _date_element,
}


def _initial_choices(shown: list[Choice], defaults: list[Any]) -> list[Block]:
    """The option objects of the defaults, once each, in the defaults' order."""
    by_value = {choice.value: choice for choice in shown}
    picked = _unique(d for d in defaults if isinstance(d, str) and d in by_value)
    return [_option(by_value[value]) for value in picked]


def _with_placeholder(element: Block, field: FormFieldIn) -> Block:
    placeholder = single_line(field.placeholder or "")
    if placeholder:
        element["placeholder"] = _plain(cut(placeholder, PLACEHOLDER_LIMIT))
    elif field.type == "number":
        element["placeholder"] = _plain("A number")
    return element


def _option(choice: Choice) -> Block:
    return {"text": _plain(choice.text), "value": choice.slack_value}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _plain(text: str) -> dict[str, Any]:
    # plain_text is not parsed for mentions or links, so it needs no escaping.
    return {"type": "plain_text", "text": text, "emoji": True}


def _visible(text: str, fallback: str) -> str:
    return text if text.strip() else fallback


# The submission


def parse_submission(
    interaction: Interaction, state_values: StateValues
) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed answers keyed by field name, and errors keyed by block id.

    Answers are only complete when there are no errors.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in form_of(interaction).fields:
        block_id = field_block_id(field.name)
        entry = _entry(state_values, block_id)
        try:
            values[field.name] = _READERS[field.type](field, entry)
        except AnswerError as problem:
            errors[block_id] = str(problem)
    return values, errors


def _entry(state_values: StateValues, block_id: str) -> Entry:
    block = state_values.get(block_id) if isinstance(state_values, dict) else None
    entry = block.get(ids.FORM_FIELD_INPUT) if isinstance(block, dict) else None
    return entry if isinstance(entry, dict) else {}


def _read_text(field: FormFieldIn, entry: Entry) -> str | None:
    text = entry.get("value")
    if not isinstance(text, str) or not text.strip():
        _require(field, REQUIRED)
        return None
    return text


def _read_number(field: FormFieldIn, entry: Entry) -> int | float | None:
    text = entry.get("value")
    if not isinstance(text, str) or not text.strip():
        _require(field, REQUIRED)
        return None
    return parse_number(text)


def parse_number(text: str) -> int | float:
    """The number typed, exactly as JSON will carry it to the agent.

    Whole numbers within ±2**53 become ints (every JSON reader keeps those
    exact); other numbers become floats only when the float is the number
    typed. Anything that would reach the agent changed is refused.
    """
    cleaned = text.strip()
    if not _NUMBER.fullmatch(cleaned) or len(cleaned) > NUMBER_TEXT_LIMIT:
        raise AnswerError(NOT_A_NUMBER)
    typed = Decimal(cleaned)
    if typed == typed.to_integral_value() and abs(typed) <= EXACT_INTEGER_LIMIT:
        return int(typed)
    number = float(typed)
    if not math.isfinite(number):
        raise AnswerError(NOT_A_NUMBER)
    # The float is the number typed if it reads back as it (0.1), or is it (2**60).
    if typed not in (Decimal(repr(number)), Decimal(number)):
        raise AnswerError(NOT_EXACT)
    return number


def _read_select(field: FormFieldIn, entry: Entry) -> str | None:
    selected = entry.get("selected_option")
    if not selected:
        _require(field, CHOOSE_ONE)
        return None
    return _chosen_values(field, [selected])[0]


def _read_many(field: FormFieldIn, entry: Entry) -> list[str]:
    selected = entry.get("selected_options")
    chosen = _chosen_values(field, selected if isinstance(selected, list) else [])
    if not chosen and field.required:
        raise AnswerError(TICK_ONE if field.type == "checkbox" else CHOOSE_ONE)
    return chosen


def _chosen_values(field: FormFieldIn, selected: list[Any]) -> list[str]:
    """The field's own values of the selected options, once each."""
    by_slack_value = {choice.slack_value: choice.value for choice in choices(field)}
    chosen = []
    for option in selected:
        slack_value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(slack_value, str) or slack_value not in by_slack_value:
            raise AnswerError(NOT_AN_OPTION)
        chosen.append(by_slack_value[slack_value])
    return _unique(chosen)


def _read_date(field: FormFieldIn, entry: Entry) -> str | None:
    selected = entry.get("selected_date")
    if not selected:
        _require(field, NOT_A_DATE)
        return None
    if not isinstance(selected, str) or not _is_date(selected):
        raise AnswerError(NOT_A_DATE)
    return selected


_READERS: dict[str, Callable[[FormFieldIn, Entry], Any]] = {
    "text": _read_text,
    "textarea": _read_text,
    "number": _read_number,
    "select": _read_select,
    "multiselect": _read_many,
    "checkbox": _read_many,
    "date": _read_date,
}


def _require(field: FormFieldIn, message: str) -> None:
    """An unanswered field is fine unless it is required."""
    if field.required:
        raise AnswerError(message)


def _is_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
