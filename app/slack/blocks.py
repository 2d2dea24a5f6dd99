"""Block Kit for interactions: pure functions from stored rows to Slack JSON.

Everything stays inside Block Kit's documented limits for any accepted event:
long text is cut with a visible note rather than failing the post.
"""

import json
from typing import Any

from app.core import states
from app.slack import ids
from app.slack.text import cut, escape, escape_cut, escape_within, mention, quote
from app.slack.text import slack_date
from app.store.models import Interaction

Block = dict[str, Any]

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FIELDS_PER_SECTION = 10
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
FALLBACK_LIMIT = 3000
SHOWN_FILES = 10

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
}


def message(interaction: Interaction) -> tuple[str, list[Block]]:
    """The fallback text and blocks of the interaction's channel message."""
    blocks: list[Block] = [_header(interaction.title)]
    if interaction.description:
        blocks.append(_section(_long_text(interaction.description, "description")))
    fields = _facts(interaction)
    if fields:
        blocks.append({"type": "section", "fields": fields})
    context = interaction.context or {}
    if context.get("files"):
        blocks.append(_section(_files(context["files"])))
    if context.get("diff"):
        blocks.append(_section(_diff(context["diff"])))
    blocks.extend(_outcome(interaction))
    blocks.append(_footer(interaction))
    return _fallback(interaction), blocks


def _header(title: str) -> Block:
    # plain_text is not parsed for mentions or links, so it needs no escaping.
    return {"type": "header", "text": _plain(cut(title, HEADER_LIMIT))}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _long_text(text: str, what: str) -> str:
    note_room = 80
    escaped, left_out = escape_within(text, SECTION_LIMIT - note_room)
    if left_out:
        escaped += f"\n_… {left_out:,} more characters of the {what} not shown_"
    return escaped


def _facts(interaction: Interaction) -> list[dict[str, Any]]:
    context = interaction.context or {}
    facts: list[tuple[str, str]] = []
    if context.get("repository"):
        facts.append(("Repository", escape(str(context["repository"]))))
    if context.get("branch"):
        facts.append(("Branch", f"`{_code_safe(escape(str(context['branch'])))}`"))
    facts.append(("Priority", PRIORITY_LABELS.get(interaction.priority, "Normal")))
    if interaction.deadline_at is not None:
        facts.append(("Deadline", slack_date(interaction.deadline_at)))
    if context.get("session_url"):
        facts.append(("Session", f"<{escape(context['session_url'])}|Open in Oz>"))
    extras = [(k, v) for k, v in context.items() if k not in KNOWN_CONTEXT]
    room = FIELDS_PER_SECTION - len(facts)
    shown = extras if len(extras) <= room else extras[: room - 1]
    for key, value in shown:
        facts.append((escape_cut(str(key), 100), _extra_value(value)))
    if len(shown) < len(extras):
        hidden = len(extras) - len(shown)
        facts.append(("More context", f"_{hidden} more fields not shown_"))
    return [_field(label, value) for label, value in facts]


def _field(label: str, value: str) -> dict[str, Any]:
    head = f"*{label}*\n"
    return {"type": "mrkdwn", "text": head + cut(value, FIELD_LIMIT - len(head))}


def _extra_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return escape_cut(text, FIELD_LIMIT - 120)


def _files(files: list[str]) -> str:
    lines = [f"*Files* ({len(files)})"]
    per_file = (SECTION_LIMIT - 200) // SHOWN_FILES
    for path in files[:SHOWN_FILES]:
        lines.append(f"• `{_code_safe(escape_cut(path, per_file - 6))}`")
    if len(files) > SHOWN_FILES:
        lines.append(f"+{len(files) - SHOWN_FILES} more")
    return "\n".join(lines)


def _diff(diff: str) -> str:
    note_room = 120
    body, left_out = escape_within(_code_safe(diff), SECTION_LIMIT - note_room)
    text = f"*Diff*\n```{body}```"
    if left_out:
        lines_cut = diff.count("\n") - body.count("\n")
        text += (
            f"\n_Diff cut: {left_out:,} more characters"
            f" ({lines_cut:,} more lines) not shown_"
        )
    return text


def _code_safe(text: str) -> str:
    # A backtick run would close the code span early; a zero-width joiner
    # between backticks keeps the text readable and the span intact.
    return text.replace("`", "`\u2060")


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
        buttons = [
            _button(
                option["label"],
                f"{ids.CHOOSE}.{index}",
                json.dumps({"id": interaction.id, "value": option["value"]}),
                option.get("style"),
            )
            for index, option in enumerate(interaction.options)
        ]
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


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": _plain(cut(text, BUTTON_TEXT_LIMIT)),
        "action_id": action_id,
        "value": value[:BUTTON_VALUE_LIMIT],
    }
    if style in ("primary", "danger"):
        button["style"] = style
    return button


def outcome_line(interaction: Interaction) -> str:
    """One line saying who decided what and when, or why nobody will."""
    status = interaction.status
    if status == states.EXPIRED:
        return f":hourglass: *Expired* {slack_date(interaction.updated_at)}: nobody answered in time."
    if status == states.CANCELLED:
        return f":no_entry_sign: *Withdrawn* by the agent {slack_date(interaction.updated_at)}."
    response = interaction.response or {}
    line = STATUS_LINES.get(status, f"*{escape(status)}*")
    if status == states.DECIDED:
        line += f": {escape_cut(_option_label(interaction, response), 200)}"
    responder = (response.get("responder") or {}).get("slack_user_id")
    if responder:
        line += f" by {mention(responder)}"
    line += f" {slack_date(interaction.updated_at)}"
    if response.get("comment"):
        line += "\n" + quote(response["comment"], SECTION_LIMIT - len(line) - 10)
    return line


def _option_label(interaction: Interaction, response: dict[str, Any]) -> str:
    for option in interaction.options or []:
        if option["value"] == response.get("decision"):
            return str(option["label"])
    return str(response.get("decision"))


def _footer(interaction: Interaction) -> Block:
    text = (
        f"Oz session `{_code_safe(escape_cut(interaction.session_id, 200))}`"
        f" · interaction `{interaction.id}`"
    )
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _fallback(interaction: Interaction) -> str:
    """The notification text, for clients that show no blocks."""
    label = {
        "review": "Review requested",
        "approval": "Approval needed",
        "chat": "Question",
        "form": "Form to fill in",
        "broadcast": "Announcement",
    }.get(interaction.interaction_type, "Request")
    return escape_cut(f"{label}: {interaction.title}", FALLBACK_LIMIT)


def thread_note(interaction: Interaction, note: str) -> str:
    """The thread reply that tells the story of a decision, expiry or cancel."""
    if note in ("decided", "expired", "cancelled"):
        return outcome_line(interaction)
    return escape(note)


def agent_message(content: str) -> str:
    return ":robot_face: " + escape_cut(content, SECTION_LIMIT)


def notice(kind: str, interaction: Interaction) -> str:
    """An ephemeral answer to a click that changed nothing."""
    if kind == "not_approver":
        return (
            "Only this agent's approvers can answer this request; "
            "nothing was changed."
        )
    if interaction.status == states.EXPIRED:
        return "This request already expired; nothing was changed."
    if interaction.status == states.CANCELLED:
        return "This request was already withdrawn by the agent; nothing was changed."
    return "This request was already answered: " + outcome_line(interaction)


def comment_modal(interaction: Interaction, decision: str) -> dict[str, Any]:
    """The modal that asks for a comment before requesting changes or rejecting."""
    requesting = decision == states.CHANGES_REQUESTED
    title = "Request changes" if requesting else "Reject"
    label = "What should change?" if requesting else "Reason (optional)"
    return {
        "type": "modal",
        "callback_id": ids.COMMENT_MODAL,
        "private_metadata": json.dumps({"id": interaction.id, "decision": decision}),
        "title": _plain(title),
        "submit": _plain("Send"),
        "close": _plain("Cancel"),
        "blocks": [
            _section(f"*{escape_cut(interaction.title, SECTION_LIMIT - 10)}*"),
            {
                "type": "input",
                "block_id": ids.COMMENT_BLOCK,
                "optional": not requesting,
                "label": _plain(label),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.COMMENT_INPUT,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
        ],
    }
