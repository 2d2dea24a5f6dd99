"""Block Kit for interactions: pure functions from stored rows to Slack JSON.

Everything stays inside Block Kit's documented limits for any accepted event:
long text is cut with a visible note rather than failing the post. Event text
is escaped in every mrkdwn text, and mrkdwn is sent `verbatim` so Slack adds no
links or mentions of its own; the only `<…>` sequences are the bridge's.
"""

import json
from collections.abc import Sequence
from typing import Any

from app.core import states
from app.slack import ids
from app.slack.text import (
    code_block,
    cut,
    escape_cut,
    escape_within,
    inline_code,
    link,
    mention,
    quote,
    single_line,
    size,
    slack_date,
    user_mention,
)
from app.store.models import Interaction

Block = dict[str, Any]

# Block Kit's documented limits.
MESSAGE_BLOCKS_LIMIT = 50
MODAL_BLOCKS_LIMIT = 100
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_PER_SECTION = 10
CONTEXT_ELEMENTS_LIMIT = 10
ACTIONS_ELEMENTS_LIMIT = 25
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
ID_LIMIT = 255
MODAL_TITLE_LIMIT = 24
MODAL_BUTTON_LIMIT = 24
PRIVATE_METADATA_LIMIT = 3000
INPUT_LABEL_LIMIT = 2000
TEXT_INPUT_LIMIT = 3000
# A message's `text`: Slack refuses more than 40 000 characters.
TEXT_LIMIT = 40_000
# Slack also refuses a message whose blocks hold more than about 12 000
# characters in all (`msg_blocks_too_long`, slackapi/bolt-js#2509); that limit
# is not documented, so every string of a message's blocks together stays
# well under it.
MESSAGE_TEXT_BUDGET = 11_000

# How much of each part the channel message shows.
FALLBACK_LIMIT = 3000
DESCRIPTION_LIMIT = 2500
FACT_LABEL_LIMIT = 40
FACT_VALUE_LIMIT = 200
SESSION_LINK_LIMIT = 1600
SHOWN_FILES = 10
FILE_PATH_LIMIT = 100
OPTION_LABEL_LIMIT = 200
RESPONDER_NAME_LIMIT = 80
MENTIONS_LIMIT = 50
SESSION_ID_LIMIT = 100
DIFF_MIN_ROOM = 300
NOTE_ROOM = 120
# How much of a comment each place shows.
COMMENT_IN_MESSAGE = 1000
COMMENT_IN_THREAD = 20_000
COMMENT_IN_NOTICE = 500
# Thread replies are plain `text`, so they may be long, within TEXT_LIMIT.
THREAD_TEXT_LIMIT = TEXT_LIMIT - 1000

PRIORITY_LABELS = {
    "low": "Low",
    "normal": "Normal",
    "high": ":large_orange_circle: High",
    "urgent": ":red_circle: Urgent",
}
KNOWN_CONTEXT = ("files", "diff", "branch", "repository", "session_url")
STATUS_LINES = {
    states.APPROVED: ":white_check_mark: *Approved*",
    states.REJECTED: ":x: *Rejected*",
    states.CHANGES_REQUESTED: ":pencil2: *Changes requested*",
    states.SUBMITTED: ":ballot_box_with_check: *Submitted*",
    states.DECIDED: ":ballot_box_with_check: *Decided*",
    states.RESPONDED: ":speech_balloon: *Answered*",
    states.DELIVERED: ":mega: *Delivered*",
}
FALLBACK_LABELS = {
    "review": "Review requested",
    "approval": "Approval needed",
    "chat": "Question",
    "form": "Form to fill in",
    "broadcast": "Announcement",
}


def message(interaction: Interaction) -> tuple[str, list[Block]]:
    """The fallback text and blocks of the interaction's channel message."""
    context = interaction.context or {}
    header = _header(interaction.title)
    facts: Block = {"type": "section", "fields": _facts(interaction)}
    files = [_section(_files(context["files"]))] if context.get("files") else []
    tail = [*_outcome(interaction), _footer(interaction)]
    room = MESSAGE_TEXT_BUDGET - payload_size([header, facts, *files, *tail])
    description = interaction.description or ""
    if not description.strip():
        description = ""
    diff = str(context.get("diff") or "")
    shown_description, shown_diff = _long_parts(description, diff, room)
    return _fallback(interaction), [
        header,
        *shown_description,
        facts,
        *files,
        *shown_diff,
        *tail,
    ]


def _long_parts(
    description: str, diff: str, room: int
) -> tuple[list[Block], list[Block]]:
    """The description and diff blocks, sharing what is left of the budget."""
    frame = payload_size(_section(""))
    full = [
        _description(description, DESCRIPTION_LIMIT) if description else "",
        _diff(diff, SECTION_LIMIT) if diff else "",
    ]
    wanted = [size(text) + frame if text else 0 for text in full]
    shares = _fair_shares(room, wanted)
    if shares[0] < wanted[0]:
        full[0] = _description(description, shares[0] - frame)
    if shares[1] < wanted[1]:
        full[1] = _diff(diff, shares[1] - frame)
    return (
        [_section(full[0])] if description else [],
        [_section(full[1])] if diff else [],
    )


def _fair_shares(room: int, wanted: list[int]) -> list[int]:
    """Split `room`: each part gets what it wants, or an equal share of the rest."""
    shares = [0] * len(wanted)
    left = max(room, 0)
    by_need = sorted(range(len(wanted)), key=lambda index: wanted[index])
    for done, index in enumerate(by_need):
        shares[index] = min(wanted[index], left // (len(wanted) - done))
        left -= shares[index]
    return shares


def _description(description: str, limit: int) -> str:
    return _long_text(description, "description", min(limit, DESCRIPTION_LIMIT))


def payload_size(value: Any) -> int:
    """The size of every string in a JSON value, keys left out."""
    if isinstance(value, str):
        return size(value)
    if isinstance(value, dict):
        return sum(payload_size(item) for item in value.values())
    if isinstance(value, list):
        return sum(payload_size(item) for item in value)
    return 0


def _header(title: str) -> Block:
    # plain_text is not parsed for mentions or links, so it needs no escaping.
    return {"type": "header", "text": _plain(cut(_one_line(title), HEADER_LIMIT))}


def _one_line(text: str, empty: str = "(untitled)") -> str:
    return single_line(text) or empty


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _long_text(text: str, what: str, limit: int) -> str:
    escaped, left_out = escape_within(text, limit)
    if not left_out:
        return escaped
    escaped, left_out = escape_within(text, limit - NOTE_ROOM)
    return escaped + _cut_note(left_out, what)


def _cut_note(left_out: int, what: str) -> str:
    if not left_out:
        return ""
    return f"\n_… {left_out:,} more characters of the {what} not shown_"


def _facts(interaction: Interaction) -> list[dict[str, Any]]:
    context = interaction.context or {}
    facts: list[tuple[str, str]] = []
    if context.get("repository"):
        facts.append(
            ("Repository", escape_cut(context["repository"], FACT_VALUE_LIMIT))
        )
    if context.get("branch"):
        facts.append(("Branch", inline_code(context["branch"], FACT_VALUE_LIMIT)))
    facts.append(("Priority", PRIORITY_LABELS.get(interaction.priority, "Normal")))
    if interaction.deadline_at is not None:
        facts.append(("Deadline", slack_date(interaction.deadline_at)))
    if context.get("session_url"):
        facts.append(("Session", _session_link(str(context["session_url"]))))
    facts.extend(_extra_facts(context, FIELDS_PER_SECTION - len(facts)))
    return [_mrkdwn(f"*{label}*\n{value}") for label, value in facts]


def _session_link(url: str) -> str:
    shown = link(url, "Open in Oz", SESSION_LINK_LIMIT)
    return shown or f"_link too long to show ({len(url):,} characters)_"


def _extra_facts(context: dict[str, Any], room: int) -> list[tuple[str, str]]:
    extras = [(k, v) for k, v in context.items() if k not in KNOWN_CONTEXT]
    shown = extras if len(extras) <= room else extras[: room - 1]
    facts = [
        (escape_cut(_one_line(str(key), "(unnamed)"), FACT_LABEL_LIMIT), _extra(value))
        for key, value in shown
    ]
    if len(shown) < len(extras):
        facts.append(("More context", f"_{len(extras) - len(shown)} more not shown_"))
    return facts


def _extra(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return escape_cut(text, FACT_VALUE_LIMIT) if text.strip() else "_(empty)_"


def _files(files: list[str]) -> str:
    lines = [f"*Files* ({len(files):,})"]
    lines += [f"• {inline_code(path, FILE_PATH_LIMIT)}" for path in files[:SHOWN_FILES]]
    if len(files) > SHOWN_FILES:
        lines.append(f"+{len(files) - SHOWN_FILES:,} more")
    return "\n".join(lines)


def _diff(diff: str, limit: int) -> str:
    title = "*Diff*\n"
    block, left_out = code_block(diff, limit - size(title))
    if not left_out:
        return title + block
    if limit < DIFF_MIN_ROOM:
        return title + f"_{len(diff):,} characters not shown: the message is full_"
    block, left_out = code_block(diff, limit - size(title) - NOTE_ROOM)
    shown = diff[: len(diff) - left_out]
    lines = diff.count("\n") - shown.count("\n")
    return (
        f"{title}{block}\n_Diff cut to fit Slack: {left_out:,} more characters"
        f" ({lines:,} more lines) of {len(diff):,} not shown_"
    )


def _outcome(interaction: Interaction) -> list[Block]:
    """The buttons while a person can answer, else what became of it."""
    status = interaction.status
    if status == states.PENDING or (
        status == states.RESPONDED and interaction.interaction_type == "chat"
    ):
        return _invitation(interaction)
    if status == states.DELIVERED:
        return []
    return [_section(outcome_line(interaction))]


def _invitation(interaction: Interaction) -> list[Block]:
    kind = interaction.interaction_type
    if kind == "review":
        buttons = [
            _button("Approve", ids.APPROVE, interaction.id, "primary"),
            _button("Request changes", ids.REQUEST_CHANGES, interaction.id),
        ]
    elif kind == "approval" and interaction.options:
        buttons = _option_buttons(interaction)
    elif kind == "approval":
        buttons = [
            _button("Approve", ids.APPROVE, interaction.id, "primary"),
            _button("Reject", ids.REJECT, interaction.id, "danger"),
        ]
    elif kind == "form":
        buttons = [_button("Open form", ids.OPEN_FORM, interaction.id, "primary")]
    elif kind == "chat":
        return [_section(":speech_balloon: _Reply in this message's thread._")]
    else:
        return []
    return [{"type": "actions", "block_id": ids.DECISION_BLOCK, "elements": buttons}]


def _option_buttons(interaction: Interaction) -> list[Block]:
    # A value is at most 150 characters, so its JSON stays far below the limit.
    options = (interaction.options or [])[:ACTIONS_ELEMENTS_LIMIT]
    return [
        _button(
            _one_line(str(option["label"]), _one_line(str(option["value"]), "Choose")),
            f"{ids.CHOOSE}.{index}",
            json.dumps(
                {"id": interaction.id, "value": option["value"]},
                ensure_ascii=False,
                separators=(",", ":"),
            ),
            option.get("style"),
        )
        for index, option in enumerate(options)
    ]


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": _plain(cut(text, BUTTON_TEXT_LIMIT)),
        "action_id": action_id,
        "value": value,
    }
    if style in ("primary", "danger"):
        button["style"] = style
    return button


def outcome_line(
    interaction: Interaction, comment_limit: int = COMMENT_IN_MESSAGE
) -> str:
    """Who decided what and when (with the comment), or why nobody will."""
    status = interaction.status
    when = slack_date(interaction.updated_at)
    if status == states.EXPIRED:
        return f":hourglass: *Expired* {when}: nobody answered in time."
    if status == states.CANCELLED:
        return f":no_entry_sign: *Withdrawn* by the agent {when}."
    response = interaction.response or {}
    line = STATUS_LINES.get(status) or f"*{escape_cut(status, 40)}*"
    if status == states.DECIDED:
        line += ": " + escape_cut(
            _option_label(interaction, response), OPTION_LABEL_LIMIT
        )
    who = _responder(response)
    if who:
        line += f" by {who}"
    line += f" {when}"
    comment = response.get("comment")
    if isinstance(comment, str) and comment.strip():
        line += "\n" + _comment(comment, comment_limit)
    return line


def _responder(response: dict[str, Any]) -> str | None:
    responder = response.get("responder") or {}
    shown = user_mention(str(responder.get("slack_user_id") or ""))
    name = single_line(str(responder.get("name") or ""))
    if shown is None and name:
        shown = escape_cut(name, RESPONDER_NAME_LIMIT)
    return shown


def _comment(comment: str, limit: int) -> str:
    quoted, left_out = quote(comment, limit)
    if not left_out:
        return quoted
    quoted, left_out = quote(comment, limit - NOTE_ROOM)
    return quoted + _cut_note(left_out, "comment")


def _option_label(interaction: Interaction, response: dict[str, Any]) -> str:
    for option in interaction.options or []:
        if option["value"] == response.get("decision"):
            return _one_line(str(option["label"]), str(option["value"]))
    return _one_line(str(response.get("decision")), "(no decision)")


def _footer(interaction: Interaction) -> Block:
    text = (
        f"Oz session {inline_code(interaction.session_id, SESSION_ID_LIMIT)}"
        f" · interaction {inline_code(interaction.id, SESSION_ID_LIMIT)}"
    )
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _fallback(interaction: Interaction) -> str:
    """The notification text, for clients that show no blocks."""
    label = FALLBACK_LABELS.get(interaction.interaction_type, "Request")
    return escape_cut(f"{label}: {_one_line(interaction.title)}", FALLBACK_LIMIT)


def thread_note(
    interaction: Interaction, note: str, mention_ids: Sequence[str] = ()
) -> str:
    """The thread reply that tells of a decision, expiry, cancel or reminder.

    A reminder mentions `mention_ids` (approvers' user and group ids); any
    that is not a Slack id is left out.
    """
    if note in ("decided", "expired", "cancelled"):
        return outcome_line(interaction, COMMENT_IN_THREAD)
    if note == "reminder":
        return _reminder(interaction, mention_ids)
    return escape_cut(note, THREAD_TEXT_LIMIT)


def _reminder(interaction: Interaction, mention_ids: Sequence[str]) -> str:
    mentions = [shown for shown in map(mention, mention_ids[:MENTIONS_LIMIT]) if shown]
    line = ":alarm_clock: *Reminder*: this request is still waiting for an answer"
    if interaction.deadline_at is not None:
        line += f"; it expires {slack_date(interaction.deadline_at)}"
    return " ".join([*mentions, line + "."])


def agent_message(content: str) -> str:
    """The thread reply that carries a message from the agent."""
    return ":robot_face: " + _long_text(content, "message", THREAD_TEXT_LIMIT)


def notice(kind: str, interaction: Interaction) -> str:
    """An ephemeral answer to a click that changed nothing."""
    if kind == "not_approver":
        return (
            "Only this agent's approvers can answer this request; nothing was changed."
        )
    if interaction.status == states.EXPIRED:
        return "This request already expired; nothing was changed."
    if interaction.status == states.CANCELLED:
        return "This request was already withdrawn by the agent; nothing was changed."
    line = outcome_line(interaction, COMMENT_IN_NOTICE)
    return "This request was already answered: " + line


def comment_modal(interaction: Interaction, decision: str) -> dict[str, Any]:
    """The modal that asks for a comment before requesting changes or rejecting."""
    requesting = decision == states.CHANGES_REQUESTED
    title = "Request changes" if requesting else "Reject"
    label = "What should change?" if requesting else "Reason (optional)"
    shown_title = escape_cut(_one_line(interaction.title), SECTION_LIMIT - 2)
    return {
        "type": "modal",
        "callback_id": ids.COMMENT_MODAL,
        "private_metadata": json.dumps({"id": interaction.id, "decision": decision}),
        "title": _plain(cut(title, MODAL_TITLE_LIMIT)),
        "submit": _plain("Send"),
        "close": _plain("Cancel"),
        "blocks": [
            _section(f"*{shown_title}*"),
            {
                "type": "input",
                "block_id": ids.COMMENT_BLOCK,
                "optional": not requesting,
                "label": _plain(label),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.COMMENT_INPUT,
                    "multiline": True,
                    "max_length": TEXT_INPUT_LIMIT,
                },
            },
        ],
    }
