"""What the channel message, thread notes, notices and comment modal show."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core import states
from app.core.bridge import new_interaction
from app.core.events import EventIn
from app.slack import blocks, ids
from app.slack.text import (
    code_block,
    cut,
    escape_cut,
    escape_within,
    inline_code,
    quote,
    size,
)
from app.store.models import Agent, Interaction
from tests.seed import REVIEW_EVENT, approval

Block = dict[str, Any]

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
INTERACTION_ID = "5b0f7a52-6d7e-4a8e-9d43-0c2f1e9a7b11"
APPROVER = "U0APPROVER"
HOSTILE = (
    "<!channel> <!here> <@U0BOSS> <!subteam^S0ADMINS> <https://evil.example|bank> &"
)
FORBIDDEN = (
    "<!channel>",
    "<!here>",
    "<@U0BOSS>",
    "<!subteam^S0ADMINS>",
    "<https://evil",
)
# The `<…>` sequences the bridge itself writes, and nothing else.
CONTROL_SEQUENCES = (
    re.compile(r"<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>|]+>"),
    re.compile(r"<@[UW][A-Z0-9]+>"),
    re.compile(r"<!subteam\^S[A-Z0-9]+>"),
    re.compile(r"<(?i:https?)://[^\s<>|]+\|Open in Oz>"),
)
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def interaction_from(
    event: dict[str, Any],
    *,
    status: str = states.PENDING,
    response: dict[str, Any] | None = None,
    interaction_id: str = INTERACTION_ID,
    updated_at: datetime = NOW,
) -> Interaction:
    """An interaction row as the bridge stores an accepted event, in memory."""
    agent = Agent(id="agent-1", name="team", channel="C0REVIEW1")
    interaction = new_interaction(EventIn.model_validate(event), agent, NOW)
    interaction.id = interaction_id
    interaction.status = status
    interaction.response = response
    interaction.updated_at = updated_at
    interaction.slack_ts = "1700000000.000100"
    return interaction


def answer(
    decision: str,
    comment: str | None = None,
    user_id: str = APPROVER,
    name: str | None = "pat",
) -> dict[str, Any]:
    return {
        "decision": decision,
        "comment": comment,
        "values": None,
        "message": None,
        "responder": {"slack_user_id": user_id, "name": name},
        "responded_at": "2026-03-01T12:30:00Z",
    }


def mrkdwn_texts(message_blocks: list[Block]) -> list[str]:
    """Every mrkdwn text of the blocks: the ones Slack parses."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message_blocks)
    return found


def assert_safe_mrkdwn(text: str) -> None:
    """Only escaped event text and the bridge's own control sequences."""
    rest = re.sub(r"^> ", "", text, flags=re.M)  # a block quote's marker
    for pattern in CONTROL_SEQUENCES:
        rest = pattern.sub("", rest)
    assert "<" not in rest and ">" not in rest, text
    assert not ENTITY.search(rest), text
    for forbidden in FORBIDDEN:
        assert forbidden not in text


def outcome_text(message_blocks: list[Block]) -> str:
    """The text of the section that replaced the buttons."""
    return str(message_blocks[-2]["text"]["text"])


def buttons(message_blocks: list[Block]) -> list[Block]:
    return [
        element
        for block in message_blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def review(**context: Any) -> dict[str, Any]:
    event = json.loads(json.dumps(REVIEW_EVENT))
    event["context"].update(context)
    return event


# The channel message -----------------------------------------------------


def test_review_message_shows_every_part_in_order() -> None:
    text, shown = blocks.message(interaction_from(REVIEW_EVENT))

    assert text == "Review requested: Review auth refactor"
    assert [b["type"] for b in shown] == [
        "header",
        "section",
        "section",
        "section",
        "section",
        "actions",
        "context",
    ]
    assert shown[0]["text"] == {
        "type": "plain_text",
        "text": "Review auth refactor",
        "emoji": True,
    }
    assert shown[1]["text"]["text"] == "Refactored auth to use JWT middleware"
    facts = [field["text"] for field in shown[2]["fields"]]
    assert facts[:3] == [
        "*Repository*\nacme/backend",
        "*Branch*\n`feat/jwt-auth`",
        "*Priority*\n:large_orange_circle: High",
    ]
    deadline = int((NOW + timedelta(seconds=1800)).timestamp())
    assert facts[3] == (
        f"*Deadline*\n<!date^{deadline}^{{date_short_pretty}} at {{time}}"
        "|2026-03-01 13:00 UTC>"
    )
    assert facts[4] == "*Session*\n<https://warp.dev/oz/sess_abc123|Open in Oz>"
    assert shown[3]["text"]["text"] == (
        "*Files* (2)\n• `src/auth/middleware.ts`\n• `src/auth/jwt.ts`"
    )
    assert shown[4]["text"]["text"].startswith("*Diff*\n```\n+import { verify }")
    assert shown[4]["text"]["text"].endswith('"jsonwebtoken";\n```')
    assert [
        (b["text"]["text"], b["action_id"], b["value"]) for b in buttons(shown)
    ] == [
        ("Approve", ids.APPROVE, INTERACTION_ID),
        ("Request changes", ids.REQUEST_CHANGES, INTERACTION_ID),
    ]
    assert shown[6]["elements"][0]["text"] == (
        f"Oz session `oz_sess_abc123` · interaction `{INTERACTION_ID}`"
    )


def test_every_mrkdwn_text_is_verbatim() -> None:
    _, shown = blocks.message(interaction_from(REVIEW_EVENT))

    objects = [f for b in shown for f in b.get("fields", [])]
    objects += [b["text"] for b in shown if b.get("text", {}).get("type") == "mrkdwn"]
    assert objects and all(o["verbatim"] is True for o in objects)


def test_approval_message_has_approve_and_reject() -> None:
    text, shown = blocks.message(interaction_from(approval()))

    assert text == "Approval needed: Deploy to staging?"
    assert [
        (b["text"]["text"], b["action_id"], b.get("style")) for b in buttons(shown)
    ] == [
        ("Approve", ids.APPROVE, "primary"),
        ("Reject", ids.REJECT, "danger"),
    ]


def test_custom_options_become_buttons_carrying_their_value() -> None:
    options = [
        {"value": "ship", "label": "Ship it", "style": "primary"},
        {"value": "wait", "label": "W" * 500},
        {"value": "stop", "label": "Stop", "style": "danger"},
    ]
    _, shown = blocks.message(interaction_from(approval(options=options)))

    found = buttons(shown)
    assert [b["action_id"] for b in found] == [f"{ids.CHOOSE}.{n}" for n in range(3)]
    assert [json.loads(b["value"]) for b in found] == [
        {"id": INTERACTION_ID, "value": value} for value in ("ship", "wait", "stop")
    ]
    assert [b.get("style") for b in found] == ["primary", None, "danger"]
    assert found[1]["text"]["text"] == "W" * 74 + "…"


def test_chat_invites_a_reply_in_the_thread_while_open() -> None:
    chat = {"event": "session.human_input", "session_id": "s", "title": "Which DB?"}
    for status in (states.PENDING, states.RESPONDED):
        text, shown = blocks.message(interaction_from(chat, status=status))

        assert text == "Question: Which DB?"
        assert shown[-2]["text"]["text"] == (
            ":speech_balloon: _Reply in this message's thread._"
        )
        assert not buttons(shown)


def test_form_offers_open_form() -> None:
    form = {
        "event": "session.form_input",
        "session_id": "s",
        "title": "Release checklist",
        "form": {"fields": [{"name": "notes", "label": "Notes", "type": "text"}]},
    }
    text, shown = blocks.message(interaction_from(form))

    assert text == "Form to fill in: Release checklist"
    assert [(b["text"]["text"], b["action_id"]) for b in buttons(shown)] == [
        ("Open form", ids.OPEN_FORM)
    ]


def test_broadcast_has_no_buttons_no_deadline_and_no_outcome() -> None:
    share = {"event": "session.share", "session_id": "s", "title": "Deployed v2"}
    for status in (states.PENDING, states.DELIVERED):
        text, shown = blocks.message(interaction_from(share, status=status))

        assert text == "Announcement: Deployed v2"
        assert [b["type"] for b in shown] == ["header", "section", "context"]
        assert "Deadline" not in json.dumps(shown)


OUTCOMES = [
    ("review", states.APPROVED, ":white_check_mark: *Approved* by <@U0APPROVER> "),
    (
        "review",
        states.CHANGES_REQUESTED,
        ":pencil2: *Changes requested* by <@U0APPROVER> ",
    ),
    ("approval", states.REJECTED, ":x: *Rejected* by <@U0APPROVER> "),
    ("form", states.SUBMITTED, ":ballot_box_with_check: *Submitted* by <@U0APPROVER> "),
    ("chat", states.RESPONDED, ":speech_balloon: *Answered* by <@U0APPROVER> "),
]
EVENTS = {
    "review": REVIEW_EVENT,
    "approval": approval(),
    "chat": {"event": "session.human_input", "session_id": "s", "title": "Q"},
    "form": {
        "event": "session.form_input",
        "session_id": "s",
        "title": "F",
        "form": {"fields": [{"name": "n", "label": "N", "type": "text"}]},
    },
}
DATE = (
    f"<!date^{int(NOW.timestamp())}^{{date_short_pretty}} at {{time}}"
    "|2026-03-01 12:30 UTC>"
)


@pytest.mark.parametrize(("kind", "status", "line"), OUTCOMES)
def test_a_decision_replaces_the_buttons_with_who_decided_and_when(
    kind: str, status: str, line: str
) -> None:
    interaction = interaction_from(EVENTS[kind], status=status, response=answer(status))
    if kind == "chat":
        # An answered chat keeps inviting replies; its line is the thread's.
        assert blocks.outcome_line(interaction) == line + DATE
        return
    _, shown = blocks.message(interaction)

    assert not buttons(shown)
    assert outcome_text(shown) == line + DATE
    assert blocks.thread_note(interaction, "decided") == line + DATE


def test_a_chosen_option_is_named_by_its_label() -> None:
    options = [
        {"value": "ship", "label": "Ship it"},
        {"value": "wait", "label": "Wait"},
    ]
    interaction = interaction_from(
        approval(options=options), status=states.DECIDED, response=answer("wait")
    )

    _, shown = blocks.message(interaction)

    assert outcome_text(shown) == (
        f":ballot_box_with_check: *Decided*: Wait by <@{APPROVER}> {DATE}"
    )


def test_expiry_and_withdrawal_say_so_without_buttons() -> None:
    expired = interaction_from(REVIEW_EVENT, status=states.EXPIRED)
    cancelled = interaction_from(REVIEW_EVENT, status=states.CANCELLED)

    assert outcome_text(blocks.message(expired)[1]) == (
        f":hourglass: *Expired* {DATE}: nobody answered in time."
    )
    assert outcome_text(blocks.message(cancelled)[1]) == (
        f":no_entry_sign: *Withdrawn* by the agent {DATE}."
    )
    assert blocks.thread_note(expired, "expired") == outcome_text(
        blocks.message(expired)[1]
    )
    assert not buttons(blocks.message(cancelled)[1])


def test_the_comment_is_quoted_under_the_decision() -> None:
    interaction = interaction_from(
        approval(),
        status=states.REJECTED,
        response=answer(states.REJECTED, "Staging is frozen\nuntil Friday"),
    )

    line = outcome_text(blocks.message(interaction)[1])

    assert line.endswith(f"{DATE}\n> Staging is frozen\n> until Friday")


def test_a_long_comment_is_cut_in_the_message_with_a_note_and_whole_in_thread() -> None:
    comment = "x" * 3000
    interaction = interaction_from(
        approval(), status=states.REJECTED, response=answer(states.REJECTED, comment)
    )

    line = outcome_text(blocks.message(interaction)[1])
    thread = blocks.thread_note(interaction, "decided")

    shown = blocks.COMMENT_IN_MESSAGE - blocks.NOTE_ROOM - 2
    assert f"> {'x' * shown}\n" in line
    assert line.endswith(
        f"_… {3000 - shown:,} more characters of the comment not shown_"
    )
    assert thread.endswith("> " + comment)


def test_a_responder_without_a_slack_id_is_named_escaped() -> None:
    response = answer(
        states.APPROVED, user_id="<!channel>", name="<!here> & " + "n" * 300
    )
    interaction = interaction_from(
        REVIEW_EVENT, status=states.APPROVED, response=response
    )

    line = outcome_text(blocks.message(interaction)[1])

    assert line.startswith(":white_check_mark: *Approved* by &lt;!here&gt; &amp; nnn")
    assert "<@" not in line and "<!channel>" not in line and "<!here>" not in line
    assert len(line) < 300


def test_the_files_list_shows_ten_then_how_many_more() -> None:
    files = [f"src/module_{n}.py" for n in range(25)]
    _, shown = blocks.message(interaction_from(review(files=files)))

    lines = shown[3]["text"]["text"].split("\n")
    assert lines[0] == "*Files* (25)"
    assert lines[1:11] == [f"• `src/module_{n}.py`" for n in range(10)]
    assert lines[11:] == ["+15 more"]


def test_exactly_ten_files_need_no_more_line() -> None:
    files = [f"f{n}" for n in range(10)]
    _, shown = blocks.message(interaction_from(review(files=files)))

    assert "more" not in shown[3]["text"]["text"]


def test_a_long_diff_is_cut_with_a_note_of_how_much() -> None:
    diff = "".join(f"+line {n:05d}\n" for n in range(20_000))  # 240 000 characters
    _, shown = blocks.message(interaction_from(review(diff=diff)))

    text = shown[4]["text"]["text"]
    body = text.removeprefix("*Diff*\n```\n").split("\n```\n")[0]
    left_out = len(diff) - len(body)
    lines = diff.count("\n") - body.count("\n")
    assert diff.startswith(body) and len(text) <= blocks.SECTION_LIMIT
    assert text.endswith(
        f"\n```\n_Diff cut to fit Slack: {left_out:,} more characters"
        f" ({lines:,} more lines) of {len(diff):,} not shown_"
    )


def test_backticks_in_the_diff_cannot_close_the_code_block() -> None:
    diff = "```\n<!channel> closed?\n````"
    _, shown = blocks.message(interaction_from(review(diff=diff)))

    text = shown[4]["text"]["text"]
    assert text.count("```") == 2
    assert text.startswith("*Diff*\n```\n") and text.endswith("\n```")
    assert "&lt;!channel&gt; closed?" in text


def test_backticks_in_inline_code_cannot_end_it() -> None:
    _, shown = blocks.message(interaction_from(review(branch="feat`<!here>`x")))

    assert shown[2]["fields"][1]["text"] == "*Branch*\n`featˋ&lt;!here&gt;ˋx`"


def test_the_title_is_one_line_cut_to_the_header_limit() -> None:
    _, shown = blocks.message(interaction_from(approval(title="T\n" + "t" * 298)))

    header = shown[0]["text"]["text"]
    assert header == "T " + "t" * 147 + "…"
    assert len(header) == blocks.HEADER_LIMIT


def test_a_blank_title_or_description_shows_no_empty_text() -> None:
    _, shown = blocks.message(interaction_from(approval(title=" \n", description="  ")))

    assert shown[0]["text"]["text"] == "(untitled)"
    assert [b["type"] for b in shown] == ["header", "section", "actions", "context"]


def test_a_long_description_is_cut_with_a_note() -> None:
    _, shown = blocks.message(interaction_from(approval(description="d" * 10_000)))

    text = shown[1]["text"]["text"]
    kept = blocks.DESCRIPTION_LIMIT - blocks.NOTE_ROOM
    assert (
        text
        == "d" * kept
        + f"\n_… {10_000 - kept:,} more characters of the description not shown_"
    )


def test_extra_context_is_shown_up_to_the_field_limit() -> None:
    extras = {f"key{n}": f"value {n}" for n in range(12)}
    _, shown = blocks.message(interaction_from(review(**extras)))

    fields = [f["text"] for f in shown[2]["fields"]]
    assert len(fields) == blocks.FIELDS_PER_SECTION
    assert fields[5:9] == [f"*key{n}*\nvalue {n}" for n in range(4)]
    assert fields[9] == "*More context*\n_8 more not shown_"


def test_extra_context_values_of_any_json_type_are_shown() -> None:
    extras = {"tests": {"passed": 10, "failed": 0}, "flaky": ["a", "b"], "blank": ""}
    _, shown = blocks.message(interaction_from(approval(context=extras)))

    fields = [f["text"] for f in shown[1]["fields"]]
    assert fields[2:] == [
        '*tests*\n{"passed": 10, "failed": 0}',
        '*flaky*\n["a", "b"]',
        "*blank*\n_(empty)_",
    ]


def test_a_session_link_too_long_to_fit_is_not_cut() -> None:
    url = "https://oz.example/s?" + "a=1&" * 369
    _, shown = blocks.message(interaction_from(review(session_url=url)))

    session = shown[2]["fields"][4]["text"]
    assert session == f"*Session*\n_link too long to show ({len(url):,} characters)_"


def test_hostile_text_cannot_ping_mention_or_link_anywhere() -> None:
    options = [{"value": HOSTILE[:150], "label": HOSTILE}, {"value": "b", "label": "b"}]
    event = approval(
        session_id=HOSTILE,
        title=HOSTILE,
        description=HOSTILE,
        options=options,
        context={
            "files": [HOSTILE],
            "diff": HOSTILE,
            "branch": HOSTILE,
            "repository": HOSTILE,
            HOSTILE: HOSTILE,
            "nested": {"k": HOSTILE},
        },
    )
    response = answer(HOSTILE[:150], HOSTILE, user_id=HOSTILE, name=HOSTILE)
    pending = interaction_from(event)
    decided = interaction_from(event, status=states.DECIDED, response=response)

    texts = mrkdwn_texts(blocks.message(pending)[1])
    texts += mrkdwn_texts(blocks.message(decided)[1])
    texts += [blocks.message(pending)[0], blocks.thread_note(decided, "decided")]
    texts += [blocks.notice("already_final", decided), blocks.agent_message(HOSTILE)]
    texts += mrkdwn_texts(blocks.comment_modal(pending, states.REJECTED)["blocks"])
    assert len(texts) > 15
    for text in texts:
        assert_safe_mrkdwn(text)
    assert any("&lt;!channel&gt;" in text for text in texts)


def test_bridge_control_sequences_are_well_formed() -> None:
    interaction = interaction_from(
        REVIEW_EVENT, status=states.APPROVED, response=answer(states.APPROVED)
    )

    texts = mrkdwn_texts(blocks.message(interaction)[1])
    sequences = [s for text in texts for s in re.findall(r"<[^<>]*>", text)]

    assert len(sequences) == 4
    for sequence in sequences:
        assert any(p.fullmatch(sequence) for p in CONTROL_SEQUENCES), sequence


# Thread notes, notices and the comment modal -----------------------------


def test_agent_message_is_escaped_and_cut_with_a_note() -> None:
    assert blocks.agent_message("ok <@U0BOSS> & co") == (
        ":robot_face: ok &lt;@U0BOSS&gt; &amp; co"
    )
    long = blocks.agent_message("&" * 10_000)
    assert len(long) <= blocks.THREAD_TEXT_LIMIT
    assert long.endswith("more characters of the message not shown_")


def test_a_reminder_says_when_it_expires_and_mentions_only_slack_ids() -> None:
    interaction = interaction_from(approval(priority="urgent"))
    deadline = int((NOW + timedelta(seconds=3600)).timestamp())

    note = blocks.thread_note(
        interaction, "reminder", ["U0APPROVE1", "S0GROUP001", "<!channel>", "here"]
    )

    assert note == (
        "<@U0APPROVE1> <!subteam^S0GROUP001> :alarm_clock: *Reminder*: this request"
        f" is still waiting for an answer; it expires <!date^{deadline}^"
        "{date_short_pretty} at {time}|2026-03-01 13:30 UTC>."
    )
    assert blocks.thread_note(interaction, "reminder").startswith(":alarm_clock:")


def test_notices_say_why_nothing_changed() -> None:
    approved = interaction_from(
        REVIEW_EVENT, status=states.APPROVED, response=answer(states.APPROVED)
    )
    expired = interaction_from(REVIEW_EVENT, status=states.EXPIRED)
    cancelled = interaction_from(REVIEW_EVENT, status=states.CANCELLED)

    assert blocks.notice("not_approver", approved).startswith(
        "Only this agent's approvers can answer"
    )
    assert blocks.notice("already_final", expired) == (
        "This request already expired; nothing was changed."
    )
    assert "withdrawn" in blocks.notice("already_final", cancelled)
    assert blocks.notice("already_final", approved) == (
        "This request was already answered: " + blocks.outcome_line(approved)
    )


def test_comment_modal_for_requesting_changes_requires_a_comment() -> None:
    modal = blocks.comment_modal(interaction_from(REVIEW_EVENT), "changes_requested")

    assert modal["callback_id"] == ids.COMMENT_MODAL
    assert json.loads(modal["private_metadata"]) == {
        "id": INTERACTION_ID,
        "decision": "changes_requested",
    }
    assert modal["title"]["text"] == "Request changes"
    field = modal["blocks"][1]
    assert field["block_id"] == ids.COMMENT_BLOCK and field["optional"] is False
    assert field["element"]["action_id"] == ids.COMMENT_INPUT
    assert field["element"]["max_length"] == blocks.TEXT_INPUT_LIMIT


def test_comment_modal_for_rejecting_takes_an_optional_reason() -> None:
    modal = blocks.comment_modal(interaction_from(approval(title=HOSTILE)), "rejected")

    assert modal["title"]["text"] == "Reject"
    assert modal["blocks"][1]["optional"] is True
    assert modal["blocks"][0]["text"]["text"].startswith("*&lt;!channel&gt;")


# The text helpers --------------------------------------------------------


def test_escape_within_never_splits_an_entity() -> None:
    assert escape_within("a&b", 5) == ("a", 2)
    assert escape_within("a&b", 6) == ("a&amp;", 1)
    assert escape_within("<>", 7) == ("&lt;", 1)


def test_sizes_count_utf16_units_so_astral_characters_count_twice() -> None:
    assert size("a😀") == 3
    assert cut("😀😀😀", 5) == "😀😀…"
    assert escape_cut("😀&", 3) == "😀…"


def test_code_block_and_inline_code_stay_within_their_limit() -> None:
    block, left_out = code_block("`" * 100, 50)
    assert size(block) <= 50 and left_out == 100 - 21
    assert "```" not in block[4:-4]
    assert inline_code("x" * 50, 10) == "`" + "x" * 7 + "…`"
    assert inline_code("", 10) == "_(empty)_"


def test_quote_cuts_at_a_line_or_inside_one() -> None:
    assert quote("a\nb", 100) == ("> a\n> b", 0)
    assert quote("abc\ndef", 8) == ("> abc", 4)
    assert quote("abc\ndef", 9) == ("> abc\n> d", 2)
    assert quote("&&&", 8) == ("> &amp;", 2)
