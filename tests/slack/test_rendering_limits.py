"""Any accepted event, in any status, renders inside Block Kit's limits.

A property test draws valid events (with sizes near every maximum and hostile
text), stores them as interactions in memory, renders every Slack surface the
bridge writes and checks each documented limit, the escaping rule and
slack_sdk's own validation. End-to-end tests send the largest events through
the running bridge to a Slack double that refuses what Slack refuses.
"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block as SdkBlock
from slack_sdk.models.views import View

from app.api.limits import MAX_BODY_BYTES
from app.core import states
from app.core.bridge import Responder
from app.core.events import (
    EVENT_TYPES,
    MAX_DESCRIPTION,
    MAX_OPTIONS,
    MAX_TIMEOUT_SECONDS,
    MAX_TITLE,
    MIN_OPTIONS,
    PRIORITIES,
    EventIn,
)
from app.slack import blocks
from app.slack.text import size
from app.store.models import Interaction
from tests.conftest import RunningBridge
from tests.slack.test_blocks import assert_safe_mrkdwn, interaction_from
from tests.support.server import wait_until
from tests.support.slack_double import SlackDouble

Block = dict[str, Any]

# Block Kit's documented limits, written out here rather than taken from the
# code under test.
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
HEADER_TEXT = 150
TEXT_OBJECT = 3000
FIELDS = 10
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
IDENTIFIER = 255
MESSAGE_TEXT = 40_000
MODAL_TITLE = 24
PRIVATE_METADATA = 3000
TEXT_INPUT = 3000
# All text of one message's blocks (Slack's undocumented msg_blocks_too_long).
BLOCKS_TEXT = 12_000

STATUSES = (
    states.PENDING,
    states.RESPONDED,
    states.APPROVED,
    states.REJECTED,
    states.CHANGES_REQUESTED,
    states.DECIDED,
    states.SUBMITTED,
    states.EXPIRED,
    states.CANCELLED,
    states.DELIVERED,
)
KNOWN_CONTEXT = ("files", "diff", "branch", "repository", "session_url")
FORM = {"fields": [{"name": "notes", "label": "Notes", "type": "textarea"}]}
FRAGMENTS = (
    "&",
    "<",
    ">",
    "`",
    "```",
    "<!channel>",
    "<!here>",
    "<@U0BOSS>",
    "<!subteam^S0ADMINS>",
    "<https://evil.example|bank>",
    "&amp;",
    "*",
    "_",
    "~",
    "|",
    "\n",
    " ",
    "😀",
    "\u2060",
)
URL_CHARACTERS = "abcxyz0129-._~:/?#[]@!$&'()*+,;=%"
# Any character an accepted event may hold: no lone surrogates, no NUL.
CHARACTERS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


def _fill(chunk: str, length: int) -> str:
    return (chunk * (length // len(chunk) + 1))[:length]


def _chunks(pieces: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(pieces, min_size=1, max_size=6).map("".join)


HOSTILE_CHUNKS = _chunks(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARACTERS, min_size=1, max_size=5))
)


def sized(
    low: int,
    high: int,
    chunks: st.SearchStrategy[str] = HOSTILE_CHUNKS,
    *,
    big: bool = False,
) -> st.SearchStrategy[str]:
    """Text of `low` to `high` characters; right at the maximum when `big`."""
    at_most = st.integers(max(low, high - 2), high)
    if big:
        return st.builds(_fill, chunks, at_most)
    repeated = st.builds(_fill, chunks, at_most | st.integers(low, high))
    if chunks is not HOSTILE_CHUNKS:
        return repeated
    return st.text(CHARACTERS, min_size=low, max_size=min(high, 30)) | repeated


def _cycle(items: list[str], count: int) -> list[str]:
    return [items[index % len(items)] for index in range(count)]


def files(big: bool) -> st.SearchStrategy[list[str]]:
    counts = st.integers(490, 500) if big else st.integers(1, 12)
    paths = st.lists(sized(0, 1000, big=big), min_size=1, max_size=4)
    return st.builds(_cycle, paths, counts)


def session_urls(big: bool) -> st.SearchStrategy[str]:
    schemes = st.sampled_from(["https://", "http://", "HTTPS://"])
    rest = sized(1, 1492, _chunks(st.sampled_from(URL_CHARACTERS)), big=big)
    return st.builds(str.__add__, schemes, rest)


def json_values(big: bool) -> st.SearchStrategy[Any]:
    return st.one_of(
        sized(0, 5000, big=big),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.lists(st.integers(), max_size=4),
        st.dictionaries(st.text(CHARACTERS, max_size=4), sized(0, 50), max_size=3),
    )


def extras(big: bool) -> st.SearchStrategy[dict[str, Any]]:
    keys = sized(0, 120, big=big).filter(lambda key: key not in KNOWN_CONTEXT)
    return st.dictionaries(
        keys, json_values(big), min_size=20 if big else 0, max_size=25
    )


@st.composite
def contexts(draw: st.DrawFn, big: bool) -> dict[str, Any]:
    known = {
        "files": files(big),
        "diff": sized(0, 210_000, big=big),
        "branch": sized(0, 300, big=big),
        "repository": sized(0, 300, big=big),
        "session_url": session_urls(big),
    }
    context: dict[str, Any] = draw(extras(big))
    for name, values in known.items():
        if big or draw(st.booleans()):
            context[name] = draw(values)
    return context


def options(big: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    option = st.fixed_dictionaries(
        {"value": sized(1, 150, big=big), "label": sized(1, 500, big=big)},
        optional={"style": st.sampled_from(["primary", "danger"])},
    )
    return st.lists(
        option,
        min_size=MAX_OPTIONS if big else MIN_OPTIONS,
        max_size=MAX_OPTIONS,
        unique_by=lambda choice: choice["value"],
    )


slack_user_ids = st.from_regex(r"[UW][A-Z0-9]{8,11}", fullmatch=True)


@st.composite
def events(draw: st.DrawFn, big: bool | None = None) -> dict[str, Any]:
    """A webhook event the API accepts, as the agent would send it.

    About half of them are `big`: every field there, each near its maximum.
    """
    big = draw(st.booleans()) if big is None else big
    # Approvals come twice: with and without their own options.
    kind = draw(st.sampled_from([*sorted(EVENT_TYPES), "session.approval_needed"]))
    event: dict[str, Any] = {
        "event": kind,
        "session_id": draw(sized(1, 200, big=big)),
        "title": draw(sized(1, MAX_TITLE, big=big)),
        "priority": draw(st.sampled_from(PRIORITIES)),
    }
    optional = {
        "description": sized(0, MAX_DESCRIPTION, big=big),
        "context": contexts(big),
        "timeout_seconds": st.integers(1, MAX_TIMEOUT_SECONDS),
    }
    for name, values in optional.items():
        if big or draw(st.booleans()):
            event[name] = draw(values)
    if kind == "session.approval_needed" and (big or draw(st.booleans())):
        event["options"] = draw(options(big))
    if kind == "session.form_input":
        event["form"] = FORM
    return event


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    """An accepted event stored as an interaction, in any status."""
    big = draw(st.booleans())
    event = draw(events(big))
    status = draw(st.sampled_from(STATUSES))
    values = [option["value"] for option in event.get("options", [])]
    response = {
        "decision": draw(st.sampled_from([*values, status]) | sized(1, 150)),
        "comment": draw(sized(0, 3000, big=big) if big else st.none() | sized(0, 3000)),
        "values": None,
        "message": draw(st.none() | sized(1, 10_000, big=big)),
        "responder": {
            "slack_user_id": draw(slack_user_ids | sized(0, 200, big=big)),
            "name": draw(st.none() | sized(0, 300, big=big)),
        },
        "responded_at": "2026-03-01T12:30:00Z",
    }
    updated_at = draw(
        st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
    )
    return interaction_from(
        event,
        status=status,
        response=response if big else draw(st.sampled_from([None, response])),
        updated_at=updated_at,
    )


# Checks, written against the documentation -------------------------------


def check_text(obj: Any, most: int, *, plain: bool = False) -> None:
    assert isinstance(obj, dict) and obj["type"] in ("plain_text", "mrkdwn"), obj
    if plain:
        assert obj["type"] == "plain_text"
    text = obj["text"]
    assert isinstance(text, str) and text.strip(), obj
    assert len(text) <= most and size(text) <= most
    if obj["type"] == "mrkdwn":
        assert_safe_mrkdwn(text)
        if text.startswith("*Diff*\n```"):
            check_diff(text)


def check_diff(text: str) -> None:
    """The diff's code block is closed by the bridge's fence, nowhere else."""
    assert text.count("```") == 2, text
    assert text.endswith("\n```") or "\n```\n_Diff cut to fit Slack: " in text


def check_block(block: Block, block_ids: set[str]) -> None:
    if "block_id" in block:
        assert 0 < len(block["block_id"]) <= IDENTIFIER
        assert block["block_id"] not in block_ids
        block_ids.add(block["block_id"])
    kind = block["type"]
    if kind == "header":
        check_text(block["text"], HEADER_TEXT, plain=True)
    elif kind == "section":
        check_section(block)
    elif kind == "context":
        assert 0 < len(block["elements"]) <= CONTEXT_ELEMENTS
        for element in block["elements"]:
            check_text(element, TEXT_OBJECT)
    elif kind == "actions":
        check_actions(block)
    else:
        assert kind == "input", block
        check_text(block["label"], 2000, plain=True)
        assert 0 < len(block["element"]["action_id"]) <= IDENTIFIER
        assert block["element"].get("max_length", 0) <= TEXT_INPUT
    parsed = SdkBlock.parse(block)
    assert parsed is not None
    parsed.validate_json()


def check_section(block: Block) -> None:
    assert "text" in block or "fields" in block
    if "text" in block:
        check_text(block["text"], TEXT_OBJECT)
    if "fields" in block:
        assert 0 < len(block["fields"]) <= FIELDS
        for field in block["fields"]:
            check_text(field, FIELD_TEXT)


def check_actions(block: Block) -> None:
    elements = block["elements"]
    assert 0 < len(elements) <= ACTIONS_ELEMENTS
    action_ids = [element["action_id"] for element in elements]
    assert len(set(action_ids)) == len(action_ids)
    for element in elements:
        assert element["type"] == "button"
        check_text(element["text"], BUTTON_TEXT, plain=True)
        assert 0 < len(element["action_id"]) <= IDENTIFIER
        assert 0 < len(element["value"]) <= BUTTON_VALUE
        assert element.get("style", "primary") in ("primary", "danger")


def text_size(value: Any) -> int:
    """Characters of every string in a JSON value (more than Slack counts)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(text_size(item) for item in value.values())
    if isinstance(value, list):
        return sum(text_size(item) for item in value)
    return 0


def check_message(text: str, message_blocks: list[Block]) -> None:
    check_plain_message(text)
    assert 0 < len(message_blocks) <= MESSAGE_BLOCKS
    block_ids: set[str] = set()
    for block in message_blocks:
        check_block(block, block_ids)
    assert text_size(message_blocks) <= BLOCKS_TEXT
    action_ids = [
        element["action_id"]
        for block in message_blocks
        for element in block.get("elements", [])
        if "action_id" in element
    ]
    assert len(set(action_ids)) == len(action_ids)


def check_plain_message(text: str) -> None:
    """A message's `text`, which Slack parses as mrkdwn."""
    assert text.strip() and len(text) <= MESSAGE_TEXT
    assert_safe_mrkdwn(text)


def check_buttons_decide(interaction: Interaction, message_blocks: list[Block]) -> None:
    """A custom option's button says which interaction and option it answers."""
    chosen = [
        json.loads(element["value"])
        for block in message_blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("hiloop.choose.")
    ]
    if chosen:
        assert chosen == [
            {"id": interaction.id, "value": option["value"]}
            for option in interaction.options or []
        ]


def check_modal(modal: dict[str, Any], interaction: Interaction) -> None:
    assert modal["type"] == "modal"
    check_text(modal["title"], MODAL_TITLE, plain=True)
    for key in ("submit", "close"):
        check_text(modal[key], MODAL_TITLE, plain=True)
    assert 0 < len(modal["blocks"]) <= MODAL_BLOCKS
    assert len(modal["private_metadata"]) <= PRIVATE_METADATA
    assert json.loads(modal["private_metadata"])["id"] == interaction.id
    assert len(modal["callback_id"]) <= IDENTIFIER
    block_ids: set[str] = set()
    for block in modal["blocks"]:
        check_block(block, block_ids)
    View(**modal).validate_json()


# The property -------------------------------------------------------------


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    interaction=interactions(),
    content=sized(1, 10_000),
    mention_ids=st.lists(slack_user_ids | sized(0, 40), max_size=60),
)
def test_every_surface_stays_within_limits(
    interaction: Interaction, content: str, mention_ids: list[str]
) -> None:
    text, message_blocks = blocks.message(interaction)
    check_message(text, message_blocks)
    check_buttons_decide(interaction, message_blocks)
    for note in ("decided", "expired", "cancelled", "reminder"):
        check_plain_message(blocks.thread_note(interaction, note, mention_ids))
    check_plain_message(blocks.agent_message(content))
    for kind in ("not_approver", "already_final"):
        check_plain_message(blocks.notice(kind, interaction))
    for decision in (states.REJECTED, states.CHANGES_REQUESTED):
        check_modal(blocks.comment_modal(interaction, decision), interaction)


@settings(max_examples=30, deadline=None)
@given(event=events())
def test_every_drawn_event_is_accepted(event: dict[str, Any]) -> None:
    EventIn.model_validate(event)


# End to end ----------------------------------------------------------------


def _largest(event: dict[str, Any]) -> dict[str, Any]:
    """`event` with every field at its maximum, full of text that needs escaping."""
    hostile = "<!channel> & `x` ```\n"
    event.update(
        session_id=_fill("&<`", 200),
        title=_fill("<!here> & ", MAX_TITLE),
        description=_fill(hostile, MAX_DESCRIPTION),
        priority="urgent",
        timeout_seconds=MAX_TIMEOUT_SECONDS,
        context={
            "files": [_fill(f"src/{n}/&<`", 1000) for n in range(500)],
            "diff": _fill("+ <@U0BOSS> & `code` ```\n", 200_000),
            "branch": _fill("feat/&<`", 300),
            "repository": _fill("acme/&<>", 300),
            "session_url": "https://oz.example/s?" + _fill("a=1&", 1479),
            **{_fill(f"key{n}&<", 100): _fill(hostile, 5000) for n in range(45)},
        },
    )
    body = json.dumps(event).encode("utf-8")
    assert 900_000 < len(body) < MAX_BODY_BYTES
    return event


def _no_failed_calls(running: RunningBridge) -> None:
    failed = [(c.method, c.error) for c in running.slack.calls if c.failed]
    assert failed == []


def _post_then_decide(
    running: RunningBridge, event: dict[str, Any], decision: str
) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, _largest(event))
    posted = running.posted(accepted["interaction_id"])
    assert posted["slack"]["delivery"] == "posted"
    (post,) = running.slack.calls_to("chat.postMessage")
    check_message(post.args["text"], post.args["blocks"])

    running.bridge.decide(
        accepted["interaction_id"],
        decision,
        Responder("U0APPROVER1", _fill("<!here> Pat & ", 200)),
        comment=_fill("<!channel> & `no`\n", 3000),
    )

    (update,) = running.slack.wait_for("chat.update")
    check_message(update.args["text"], update.args["blocks"])
    channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]
    (note,) = wait_until(lambda: running.slack.thread(channel, ts), what="thread note")
    check_plain_message(note["text"])
    assert "<@U0APPROVER1>" in note["text"]
    _no_failed_calls(running)


def test_the_largest_review_is_posted_and_approved(running: RunningBridge) -> None:
    event = {"event": "session.review_request"}
    _post_then_decide(running, event, states.APPROVED)


def test_the_largest_custom_options_are_posted_and_chosen(
    running: RunningBridge,
) -> None:
    choices = [
        {"value": _fill(f"{n}<&`", 150), "label": _fill(f"{n} <!here> & ", 500)}
        for n in range(MAX_OPTIONS)
    ]
    event = {"event": "session.approval_needed", "options": choices}
    _post_then_decide(running, event, choices[-1]["value"])


# The Slack double refuses what Slack refuses --------------------------------


def _section_of(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _buttons_of(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements)}


def _button_of(text: str = "Go", value: str = "v", action_id: str = "go") -> Block:
    label = {"type": "plain_text", "text": text}
    return {"type": "button", "text": label, "value": value, "action_id": action_id}


REFUSED_MESSAGES = [
    ("51 blocks", [_section_of("x")] * 51, "invalid_blocks"),
    (
        "long header",
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "invalid_blocks",
    ),
    ("long section", [_section_of("s" * 3001)], "invalid_blocks"),
    ("empty section", [_section_of("")], "invalid_blocks"),
    (
        "11 fields",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "invalid_blocks",
    ),
    ("long button", [_buttons_of(_button_of(text="b" * 76))], "invalid_blocks"),
    ("long value", [_buttons_of(_button_of(value="v" * 2001))], "invalid_blocks"),
    ("twin actions", [_buttons_of(_button_of(), _button_of())], "invalid_blocks"),
    ("all text", [_section_of("t" * 3000)] * 5, "msg_blocks_too_long"),
]


def test_the_double_refuses_blocks_slack_refuses(slack: SlackDouble) -> None:
    client = WebClient(token=slack.token, base_url=slack.url)
    for what, bad, error in REFUSED_MESSAGES:
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="C0REVIEW1", text="t", blocks=bad)
        assert refused.value.response["error"] == error, what
    with pytest.raises(SlackApiError) as too_long:
        client.chat_postMessage(channel="C0REVIEW1", text="t" * 40_001)
    assert too_long.value.response["error"] == "msg_too_long"


def test_the_double_refuses_views_slack_refuses(slack: SlackDouble) -> None:
    client = WebClient(token=slack.token, base_url=slack.url)
    title = {"type": "plain_text", "text": "t" * 25}
    with pytest.raises(SlackApiError) as refused:
        client.views_open(
            trigger_id="1.2.3", view={"type": "modal", "title": title, "blocks": []}
        )
    assert refused.value.response["error"] == "invalid_arguments"
    assert "json-pointer:/view/title/text" in str(refused.value.response.data)
