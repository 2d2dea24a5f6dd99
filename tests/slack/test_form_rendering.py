"""The form modal stays inside Block Kit's limits, and its answers come back typed."""

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.bridge import new_interaction
from app.core.events import FIELD_TYPES, FIELDS_WITH_OPTIONS, EventIn
from app.slack import forms, ids
from app.slack.text import size
from app.store.models import Agent, Interaction

Spec = dict[str, Any]
Block = dict[str, Any]

ELLIPSIS = "…"
# A text answer that had to be cut to fit the input.
CUT = object()


def form_interaction(
    fields: list[Spec], title: str = "Release checklist", description: str | None = None
) -> Interaction:
    """An interaction stored the way the bridge stores an accepted form."""
    event = EventIn.model_validate(
        {
            "event": "session.form_input",
            "session_id": "oz_sess_1",
            "title": title,
            "description": description,
            "form": {"fields": fields},
        }
    )
    agent = Agent(id="agent-1", name="team", channel="C0REVIEW1")
    interaction = new_interaction(event, agent, datetime.now(UTC))
    interaction.id = "int-0001"
    return interaction


def input_blocks(view: dict[str, Any]) -> dict[str, Block]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def element_of(view: dict[str, Any], name: str) -> Block:
    element: Block = input_blocks(view)[forms.field_block_id(name)]["element"]
    return element


def answer(block_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {block_id: {ids.FORM_FIELD_INPUT: entry}}


def state_for(**entries: dict[str, Any]) -> dict[str, Any]:
    """`state.values` with one entry per field name."""
    state: dict[str, Any] = {}
    for name, entry in entries.items():
        state.update(answer(forms.field_block_id(name), entry))
    return state


def text_entry(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def option_entry(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def select_entry(value: str | None) -> dict[str, Any]:
    selected = None if value is None else option_entry(value)
    return {"type": "static_select", "selected_option": selected}


def many_entry(kind: str, values: list[str]) -> dict[str, Any]:
    return {"type": kind, "selected_options": [option_entry(v) for v in values]}


def date_entry(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


EVERY_TYPE: list[Spec] = [
    {"name": "summary", "label": "Summary", "type": "text", "required": True},
    {"name": "notes", "label": "Notes", "type": "textarea", "placeholder": "Anything"},
    {"name": "replicas", "label": "Replicas", "type": "number", "default": 3},
    {
        "name": "region",
        "label": "Region",
        "type": "select",
        "options": ["eu", {"value": "us", "label": "United States"}],
        "default": "eu",
    },
    {
        "name": "teams",
        "label": "Teams",
        "type": "multiselect",
        "options": ["web", "api", "ops"],
    },
    {
        "name": "checks",
        "label": "Checks done",
        "type": "checkbox",
        "required": True,
        "options": [{"value": "tests", "label": "Tests pass"}, "docs"],
    },
    {"name": "day", "label": "Release day", "type": "date", "default": "2025-03-14"},
]


# The modal


def test_modal_carries_the_interaction_id_and_its_buttons() -> None:
    view = forms.form_modal(form_interaction(EVERY_TYPE))

    assert view["type"] == "modal"
    assert view["callback_id"] == ids.FORM_MODAL
    assert json.loads(view["private_metadata"]) == {"id": "int-0001"}
    assert view["title"]["text"] == "Release checklist"
    assert view["submit"]["text"] and view["close"]["text"]
    assert list(input_blocks(view)) == [
        forms.field_block_id(field["name"]) for field in EVERY_TYPE
    ]
    actions = {b["element"]["action_id"] for b in input_blocks(view).values()}
    assert actions == {ids.FORM_FIELD_INPUT}


def test_long_title_is_cut_and_event_text_is_escaped() -> None:
    title = "<!channel> deploy & migrate the <https://evil.example|bank> now"
    interaction = form_interaction(EVERY_TYPE, title=title, description="a <@U1> b")

    view = forms.form_modal(interaction)

    assert len(view["title"]["text"]) == forms.MODAL_TITLE_LIMIT
    assert view["title"]["text"].endswith(ELLIPSIS)
    shown = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert "&lt;!channel&gt; deploy &amp; migrate" in shown[0]
    assert "<" not in shown[0] and "<" not in shown[1]
    assert shown[1] == "a &lt;@U1&gt; b"


def test_every_field_type_gets_its_element() -> None:
    view = forms.form_modal(form_interaction(EVERY_TYPE))
    kinds = {name: element_of(view, name) for name in (f["name"] for f in EVERY_TYPE)}

    assert kinds["summary"]["type"] == "plain_text_input"
    assert "multiline" not in kinds["summary"]
    assert kinds["notes"]["multiline"] is True
    assert kinds["notes"]["placeholder"]["text"] == "Anything"
    assert kinds["replicas"]["type"] == "plain_text_input"
    assert kinds["replicas"]["initial_value"] == "3"
    assert kinds["region"]["type"] == "static_select"
    assert kinds["region"]["initial_option"] == kinds["region"]["options"][0]
    assert [o["text"]["text"] for o in kinds["region"]["options"]] == [
        "eu",
        "United States",
    ]
    assert kinds["teams"]["type"] == "multi_static_select"
    assert "initial_options" not in kinds["teams"]
    assert kinds["checks"]["type"] == "checkboxes"
    assert kinds["day"] == {
        "type": "datepicker",
        "initial_date": "2025-03-14",
        "action_id": ids.FORM_FIELD_INPUT,
    }


def test_required_decides_optional_except_for_checkboxes() -> None:
    blocks = input_blocks(forms.form_modal(form_interaction(EVERY_TYPE)))
    optional = {
        bid.removeprefix(ids.FORM_FIELD_BLOCK): b["optional"]
        for bid, b in blocks.items()
    }

    assert optional == {
        "summary": False,
        "notes": True,
        "replicas": True,
        "region": True,
        "teams": True,
        "checks": True,  # required, but checked by us: Slack would let it pass
        "day": True,
    }
    hint = blocks[forms.field_block_id("checks")]["hint"]["text"]
    assert "Required" in hint


def test_checkbox_placeholder_becomes_the_hint() -> None:
    field = {
        "name": "ok",
        "label": "OK?",
        "type": "checkbox",
        "options": ["yes"],
        "placeholder": "Tick if it is fine",
    }
    block = input_blocks(forms.form_modal(form_interaction([field])))["hiloop.field.ok"]

    assert block["hint"]["text"] == "Tick if it is fine"
    assert "placeholder" not in block["element"]


def test_long_texts_are_cut_visibly() -> None:
    field = {
        "name": "pick",
        "label": "L" * 2000,
        "type": "select",
        "placeholder": "p" * 500,
        "options": [{"value": "v" * 150, "label": "o" * 500}, "s" * 150],
    }
    text_field = {"name": "essay", "label": "Essay", "type": "textarea"}
    text_field["default"] = "x" * 5000
    view = forms.form_modal(form_interaction([field, text_field]))
    element = element_of(view, "pick")

    label = input_blocks(view)["hiloop.field.pick"]["label"]["text"]
    assert label == "L" * 2000
    assert element["placeholder"]["text"] == "p" * 149 + ELLIPSIS
    assert element["options"][0] == {
        "text": {"type": "plain_text", "text": "o" * 74 + ELLIPSIS, "emoji": True},
        "value": "v" * 150,
    }
    assert element["options"][1]["text"]["text"] == "s" * 74 + ELLIPSIS
    assert size(element["options"][1]["value"]) <= forms.OPTION_VALUE_LIMIT
    essay = element_of(view, "essay")
    assert essay["initial_value"] == "x" * 2999 + ELLIPSIS
    assert essay["max_length"] == 3000


def test_values_that_cannot_travel_are_stood_in_for_and_mapped_back() -> None:
    # 107 characters, but 207 UTF-16 units: over Slack's 150 for option values.
    long_value = "region-" + "\U0001f30d" * 100
    field = {
        "name": "where",
        "label": "Where",
        "type": "multiselect",
        "options": [long_value, f"{forms.STAND_IN_PREFIX}1", "plain"],
        "default": [long_value],
    }
    interaction = form_interaction([field])
    element = element_of(forms.form_modal(interaction), "where")
    sent = [option["value"] for option in element["options"]]

    assert sent[2] == "plain"
    assert len(set(sent)) == 3 and all(0 < size(v) <= 150 for v in sent)
    assert [o["value"] for o in element["initial_options"]] == sent[:1]
    chosen = state_for(where=many_entry("multi_static_select", sent[::-1]))
    values, errors = forms.parse_submission(interaction, chosen)
    assert errors == {}
    assert values == {"where": ["plain", f"{forms.STAND_IN_PREFIX}1", long_value]}


def test_a_default_number_that_cannot_be_shown_is_left_out() -> None:
    fields = [
        {"name": "big", "label": "B", "type": "number", "default": 10**3000},
        {"name": "tiny", "label": "T", "type": "number", "default": 1e-7},
    ]
    view = forms.form_modal(form_interaction(fields))

    assert "initial_value" not in element_of(view, "big")
    assert element_of(view, "tiny")["initial_value"] == "1e-07"


def test_blank_labels_and_titles_fall_back_to_something_visible() -> None:
    field = {"name": "why", "label": "   ", "type": "select", "options": [" ", "b"]}
    view = forms.form_modal(form_interaction([field], title="  "))

    assert view["title"]["text"] == "Form"
    assert input_blocks(view)["hiloop.field.why"]["label"]["text"] == "why"
    assert element_of(view, "why")["options"][0]["text"]["text"] == forms.BLANK_TEXT


# The submission


def every_answer(**overrides: dict[str, Any]) -> dict[str, Any]:
    entries = {
        "summary": text_entry("Ship 2.4"),
        "notes": text_entry(None),
        "replicas": text_entry(" 12 "),
        "region": select_entry("us"),
        "teams": many_entry("multi_static_select", ["ops", "web"]),
        "checks": many_entry("checkboxes", ["tests", "docs"]),
        "day": date_entry("2025-04-01"),
    }
    entries.update(overrides)
    return state_for(**entries)


def test_answers_of_every_type_come_back_typed() -> None:
    values, errors = forms.parse_submission(
        form_interaction(EVERY_TYPE), every_answer()
    )

    assert errors == {}
    assert values == {
        "summary": "Ship 2.4",
        "notes": None,
        "replicas": 12,
        "region": "us",
        "teams": ["ops", "web"],
        "checks": ["tests", "docs"],
        "day": "2025-04-01",
    }
    assert isinstance(values["replicas"], int)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("3.5", 3.5),
        ("2.0", 2),
        (".5", 0.5),
        ("1e3", 1000),
        ("1.5E-3", 0.0015),
    ],
)
def test_numbers_parse_as_json_numbers(typed: str, expected: float) -> None:
    number = forms.parse_number(typed)

    assert number == expected
    assert type(number) is type(expected)


@pytest.mark.parametrize(
    "typed",
    ["abc", "NaN", "nan", "inf", "-Infinity", "1e400", "0x10", "1_000", "1,5", "٣"],
)
def test_what_is_not_a_finite_number_is_an_error_on_its_block(typed: str) -> None:
    state = every_answer(replicas=text_entry(typed))

    values, errors = forms.parse_submission(form_interaction(EVERY_TYPE), state)

    assert errors == {"hiloop.field.replicas": forms.NOT_A_NUMBER}


def test_a_required_checkbox_with_nothing_ticked_is_an_error() -> None:
    state = every_answer(checks=many_entry("checkboxes", []))

    _, errors = forms.parse_submission(form_interaction(EVERY_TYPE), state)

    assert errors == {"hiloop.field.checks": forms.TICK_ONE}


def test_missing_required_answers_are_errors() -> None:
    state = every_answer(summary=text_entry("   "))
    del state["hiloop.field.checks"]

    _, errors = forms.parse_submission(form_interaction(EVERY_TYPE), state)

    assert errors == {
        "hiloop.field.summary": forms.REQUIRED,
        "hiloop.field.checks": forms.TICK_ONE,
    }


def test_optional_answers_left_empty_are_null_or_empty_lists() -> None:
    fields = [dict(f, required=False) for f in EVERY_TYPE]
    for field in fields:
        field.pop("default", None)

    values, errors = forms.parse_submission(form_interaction(fields), {})

    assert errors == {}
    assert values == {
        "summary": None,
        "notes": None,
        "replicas": None,
        "region": None,
        "teams": [],
        "checks": [],
        "day": None,
    }


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("region", select_entry("mars")),
        ("teams", many_entry("multi_static_select", ["web", "sales"])),
        ("checks", many_entry("checkboxes", ["tests", "vibes"])),
        ("region", {"type": "static_select", "selected_option": {"text": "no value"}}),
    ],
)
def test_a_value_that_is_not_an_option_is_an_error(
    name: str, entry: dict[str, Any]
) -> None:
    state = every_answer(**{name: entry})

    _, errors = forms.parse_submission(form_interaction(EVERY_TYPE), state)

    assert errors == {forms.field_block_id(name): forms.NOT_AN_OPTION}


@pytest.mark.parametrize("day", ["2025-02-30", "14/03/2025", "2025-3-14", "20250314"])
def test_a_date_that_is_not_yyyy_mm_dd_is_an_error(day: str) -> None:
    state = every_answer(day=date_entry(day))

    _, errors = forms.parse_submission(form_interaction(EVERY_TYPE), state)

    assert errors == {"hiloop.field.day": forms.NOT_A_DATE}


def test_text_answers_are_kept_as_typed() -> None:
    state = every_answer(summary=text_entry("  two\nlines  "))

    values, _ = forms.parse_submission(form_interaction(EVERY_TYPE), state)

    assert values["summary"] == "  two\nlines  "


def test_repeated_selections_count_once() -> None:
    state = every_answer(teams=many_entry("multi_static_select", ["api", "api"]))

    values, errors = forms.parse_submission(form_interaction(EVERY_TYPE), state)

    assert errors == {} and values["teams"] == ["api"]


def test_interaction_ids_are_read_back_from_the_metadata() -> None:
    meta = forms.form_modal(form_interaction(EVERY_TYPE))["private_metadata"]

    assert forms.interaction_id_from(meta) == "int-0001"
    assert forms.interaction_id_from("not json") is None
    assert forms.interaction_id_from(json.dumps({"other": 1})) is None
    assert forms.interaction_id_from(None) is None


# Any accepted form


SPECIAL_TEXTS = ["<!channel>", "a & b <@U123>", " ", "\n", "`x`", "*bold*", ":tada:"]


# Any character an accepted event may hold (NUL never is).
STORABLE = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


def texts(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    """Text of any length up to `max_size`, often near the limit, cheaply drawn."""
    short = st.text(STORABLE, min_size=min_size, max_size=min(max_size, 20))
    special = st.sampled_from([t for t in SPECIAL_TEXTS if len(t) >= min_size])
    lengths = st.integers(max(min_size, 1, max_size - 8), max_size)
    long = st.tuples(st.text(STORABLE, min_size=1, max_size=4), lengths).map(
        lambda pair: (pair[0] * pair[1])[: pair[1]]
    )
    return st.one_of(short, special, long)


def option_kinds(index: int, value: str, label: str) -> str | Spec:
    """Plain strings, and {value, label} with and without a label, in turn."""
    if index % 3 == 0:
        return value[:150]
    if index % 3 == 1:
        return {"value": value[:150]}
    return {"value": value[:150], "label": label}


@st.composite
def many_options(draw: st.DrawFn, limit: int) -> list[str | Spec]:
    """`limit` options or fewer, with values unique, long or prefixed."""
    count = draw(st.one_of(st.just(limit), st.integers(1, limit)))
    base = draw(texts(300))
    label = draw(texts(500, min_size=1))
    start = draw(st.sampled_from(["", forms.STAND_IN_PREFIX]))
    return [option_kinds(i, f"{start}{i}-{base}", label) for i in range(count)]


@st.composite
def few_options(draw: st.DrawFn, limit: int) -> list[str | Spec]:
    values = draw(
        st.lists(
            texts(150, min_size=1), min_size=1, max_size=min(limit, 5), unique=True
        )
    )
    labels = draw(
        st.lists(texts(500, min_size=1), min_size=len(values), max_size=len(values))
    )
    options = [
        option_kinds(i, v, label)
        for i, (v, label) in enumerate(zip(values, labels, strict=True))
    ]
    unique = {o if isinstance(o, str) else o["value"]: o for o in options}
    return list(unique.values())


def option_value(option: str | Spec) -> str:
    return option if isinstance(option, str) else str(option["value"])


def default_for(kind: str, options: list[str | Spec]) -> st.SearchStrategy[Any]:
    values = [option_value(o) for o in options]
    if kind in ("text", "textarea"):
        return texts(3500)
    if kind == "number":
        return st.one_of(
            st.integers(), st.floats(allow_nan=False, allow_infinity=False)
        )
    if kind == "select":
        return st.sampled_from(values)
    if kind in ("multiselect", "checkbox"):
        return st.lists(st.sampled_from(values), max_size=len(values) + 1)
    return st.dates().map(lambda day: day.isoformat())


@st.composite
def form_field(draw: st.DrawFn, name: str) -> Spec:
    kind = draw(st.sampled_from(FIELD_TYPES))
    field: Spec = {
        "name": name,
        "label": draw(texts(2000, min_size=1)),
        "type": kind,
        "required": draw(st.booleans()),
    }
    if draw(st.booleans()):
        field["placeholder"] = draw(texts(500))
    options: list[str | Spec] = []
    if kind in FIELDS_WITH_OPTIONS:
        limit = 10 if kind == "checkbox" else 100
        options = draw(st.one_of(many_options(limit), few_options(limit)))
        field["options"] = options
    if draw(st.booleans()):
        field["default"] = draw(default_for(kind, options))
    return field


@st.composite
def form_interactions(draw: st.DrawFn) -> Interaction:
    names = draw(
        st.lists(
            st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True),
            min_size=1,
            max_size=20,
            unique=True,
        )
    )
    fields = [draw(form_field(name)) for name in names]
    description = draw(st.one_of(st.none(), texts(10_000)))
    return form_interaction(
        fields, title=draw(texts(300, min_size=1)), description=description
    )


def assert_plain(text: Any, limit: int) -> None:
    assert text["type"] == "plain_text"
    assert 0 < size(text["text"]) <= limit
    assert text["text"].strip()


def assert_options(element: Block) -> None:
    limit = 10 if element["type"] == "checkboxes" else 100
    options = element["options"]
    assert 1 <= len(options) <= limit
    for option in options:
        assert_plain(option["text"], forms.OPTION_TEXT_LIMIT)
        assert 0 < size(option["value"]) <= forms.OPTION_VALUE_LIMIT
    assert len({o["value"] for o in options}) == len(options)
    initial = element.get("initial_options", [])
    if "initial_option" in element:
        initial = [element["initial_option"]]
    assert initial != [] or "initial_options" not in element
    assert all(option in options for option in initial)


def assert_element(element: Block) -> None:
    assert 0 < size(element["action_id"]) <= 255
    if "placeholder" in element:
        assert_plain(element["placeholder"], forms.PLACEHOLDER_LIMIT)
    if element["type"] == "plain_text_input":
        assert element["max_length"] <= forms.TEXT_INPUT_LIMIT
        assert size(element.get("initial_value", "")) <= element["max_length"]
    elif element["type"] == "datepicker" and "initial_date" in element:
        assert (
            date.fromisoformat(element["initial_date"]).isoformat()
            == (element["initial_date"])
        )
    elif element["type"] != "datepicker":
        assert element["type"] in ("static_select", "multi_static_select", "checkboxes")
        assert_options(element)


def assert_within_limits(view: dict[str, Any]) -> None:
    assert_plain(view["title"], forms.MODAL_TITLE_LIMIT)
    assert_plain(view["submit"], forms.MODAL_BUTTON_LIMIT)
    assert_plain(view["close"], forms.MODAL_BUTTON_LIMIT)
    assert size(view["private_metadata"]) <= forms.PRIVATE_METADATA_LIMIT
    assert size(view["callback_id"]) <= 255
    assert len(view["blocks"]) <= forms.MODAL_BLOCKS_LIMIT
    block_ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(set(block_ids)) == len(block_ids)
    for block in view["blocks"]:
        if block["type"] == "section":
            assert 0 < size(block["text"]["text"]) <= forms.SECTION_LIMIT
            continue
        assert block["type"] == "input"
        assert 0 < size(block["block_id"]) <= 255
        assert_plain(block["label"], forms.LABEL_LIMIT)
        if "hint" in block:
            assert_plain(block["hint"], forms.HINT_LIMIT)
        assert_element(block["element"])


def slack_state(view: dict[str, Any]) -> dict[str, Any]:
    """What Slack submits when the person changes nothing: the initial values."""
    state: dict[str, Any] = {}
    for block_id, block in input_blocks(view).items():
        element = block["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            entry = {"value": element.get("initial_value")}
        elif kind == "static_select":
            entry = {"selected_option": element.get("initial_option")}
        elif kind == "datepicker":
            entry = {"selected_date": element.get("initial_date")}
        else:
            entry = {"selected_options": element.get("initial_options", [])}
        state.update(answer(block_id, {"type": kind, **entry}))
    return state


def expected_answer(field: Any) -> tuple[bool, Any]:
    """(answered, value) that submitting the untouched default must give."""
    default, kind = field.default, field.type
    if kind in ("text", "textarea"):
        if not isinstance(default, str) or not default.strip():
            return False, None
        return True, default if size(default) <= 3000 else CUT
    if kind == "number" and default is not None:
        integral = isinstance(default, int) or float(default).is_integer()
        if integral and abs(default) <= 2**53:
            return True, int(default)
        if isinstance(default, int) and float(default) != default:
            return False, None  # no float carries it exactly: not shown
        return True, float(default)
    if kind in ("multiselect", "checkbox"):
        chosen = list(dict.fromkeys(default or []))
        return bool(chosen), chosen
    return default is not None, default


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(form_interactions())
def test_any_accepted_form_renders_within_limits_and_round_trips(
    interaction: Interaction,
) -> None:
    view = forms.form_modal(interaction)

    assert_within_limits(view)
    json.dumps(view, allow_nan=False)
    values, errors = forms.parse_submission(interaction, slack_state(view))
    for field in forms.form_of(interaction).fields:
        assert_default_came_back(field, values, errors)


def assert_default_came_back(
    field: Any, values: dict[str, Any], errors: dict[str, str]
) -> None:
    answered, expected = expected_answer(field)
    block_id = forms.field_block_id(field.name)
    if not answered:
        if field.required:
            assert block_id in errors
        else:
            empty: list[str] | None = (
                [] if field.type in ("multiselect", "checkbox") else None
            )
            assert block_id not in errors and values[field.name] == empty
        return
    assert block_id not in errors
    value = values[field.name]
    if expected is CUT:
        assert value.endswith(ELLIPSIS) and field.default.startswith(value[:-1])
        assert size(value) <= forms.TEXT_INPUT_LIMIT
        return
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("42", 42),
        (" 5 ", 5),
        ("-0", 0),
        ("2.0", 2),
        ("1e3", 1000),
        ("1.5", 1.5),
        ("1e23", 1e23),
        ("0.1", 0.1),
        ("9007199254740992", 2**53),
    ],
)
def test_numbers_reach_the_agent_as_typed(typed: str, number: float) -> None:
    assert forms.parse_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    ["9007199254740993", "99999999999999999999.0", "1e-400", "1e309", "1" * 200],
)
def test_numbers_that_would_change_on_the_way_are_refused(typed: str) -> None:
    with pytest.raises(forms.AnswerError):
        forms.parse_number(typed)
