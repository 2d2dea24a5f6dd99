"""Safe Slack text: escaping event text and cutting it to Block Kit's limits.

Every helper that takes a `limit` returns text whose `size` is within it, and
a cut never splits an escape sequence (`&amp;`, `&lt;`, `&gt;`) or a control
sequence (`<…>`) that the bridge itself writes.

Sizes are counted in UTF-16 code units, which is never less than the count of
characters: whichever of the two Slack counts, a text within `limit` fits.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
ELLIPSIS = "…"
# A word joiner after each backtick keeps a run of them from forming a fence.
WORD_JOINER = "\u2060"
_CODE_BLOCK_ESCAPES = {**_ESCAPES, "`": "`" + WORD_JOINER}
# Inline code ends at any backtick, so there it becomes a look-alike.
BACKTICK_LOOKALIKE = "\u02cb"
_INLINE_CODE_ESCAPES = {**_ESCAPES, "`": BACKTICK_LOOKALIKE}
FENCE = "```"

_USER_ID_START = ("U", "W")
_GROUP_ID_START = ("S",)


def size(text: str) -> int:
    """The length of `text` in UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def escape(text: str) -> str:
    """Escape what Slack parses, so no text can mention, ping or forge a link."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def cut(text: str, limit: int) -> str:
    """Text that is not parsed, within `limit`, with an ellipsis when shortened."""
    kept, left_out = _within(text, limit, {})
    if not left_out:
        return kept
    kept, _ = _within(text, limit - size(ELLIPSIS), {})
    return kept + ELLIPSIS


def escape_within(text: str, limit: int) -> tuple[str, int]:
    """Escape `text` keeping the result within `limit`.

    Returns the escaped text and how many characters of the original were
    left out; an escape sequence is never split.
    """
    return _within(text, limit, _ESCAPES)


def escape_cut(text: str, limit: int) -> str:
    """Escaped text within `limit`, ending in an ellipsis when shortened."""
    escaped, left_out = escape_within(text, limit)
    if not left_out:
        return escaped
    escaped, _ = escape_within(text, limit - size(ELLIPSIS))
    return escaped + ELLIPSIS


def _within(text: str, limit: int, table: Mapping[str, str]) -> tuple[str, int]:
    pieces: list[str] = []
    used = 0
    # Every piece takes at least one unit, so only the head of `text` can fit.
    for index, char in enumerate(text[: max(limit, 0)]):
        piece = table.get(char, char)
        used += size(piece)
        if used > limit:
            return "".join(pieces), len(text) - index
        pieces.append(piece)
    shown = min(len(text), max(limit, 0))
    return "".join(pieces), len(text) - shown


def code_block(text: str, limit: int) -> tuple[str, int]:
    """Escaped `text` as a fenced code block within `limit`.

    No backtick run of the text can close the block early. Returns the block
    and how many characters of `text` were left out.
    """
    frame = size(FENCE + "\n" + "\n" + FENCE)
    body, left_out = _within(text, limit - frame, _CODE_BLOCK_ESCAPES)
    return f"{FENCE}\n{body}\n{FENCE}", left_out


def inline_code(text: str, limit: int) -> str:
    """Escaped `text` as inline code within `limit`; no backtick can end it."""
    if not text:
        return "_(empty)_"
    body, left_out = _within(text, limit - 2, _INLINE_CODE_ESCAPES)
    if left_out:
        body, _ = _within(text, limit - 2 - size(ELLIPSIS), _INLINE_CODE_ESCAPES)
        body += ELLIPSIS
    return f"`{body}`"


def quote(text: str, limit: int) -> tuple[str, int]:
    """Escaped `text` as a Slack block quote within `limit`.

    Returns the quote and how many characters of `text` were left out.
    """
    lines: list[str] = []
    used = shown = 0
    for line in text.split("\n"):
        separator = 1 if lines else 0
        room = limit - used - separator - size("> ")
        if room < 0:
            break
        body, left_out = escape_within(line, room)
        if left_out and not body:
            break
        lines.append("> " + body)
        used += separator + size(lines[-1])
        shown += separator + len(line) - left_out
        if left_out:
            break
    return "\n".join(lines), len(text) - shown


def slack_date(moment: datetime) -> str:
    """A time every reader sees in their own zone, with a UTC fallback."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    stamp = int(moment.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|{fallback}>"


def is_slack_id(text: str, starts: tuple[str, ...]) -> bool:
    """Whether `text` looks like a Slack id (`U0123ABC`) of the given kind."""
    return (
        text[:1] in starts
        and 2 <= len(text) <= 40
        and all(char.isascii() and (char.isupper() or char.isdigit()) for char in text)
    )


def mention(slack_id: str) -> str | None:
    """A mention of a Slack user or user group by its id; None if not an id."""
    if is_slack_id(slack_id, _GROUP_ID_START):
        return f"<!subteam^{slack_id}>"
    return user_mention(slack_id)


def user_mention(user_id: str) -> str | None:
    """A mention of a Slack user by its id; None if it is not a user's id."""
    return f"<@{user_id}>" if is_slack_id(user_id, _USER_ID_START) else None


def link(url: str, label: str, limit: int) -> str | None:
    """A Slack link to `url` within `limit`, or None when it cannot fit.

    The URL must already be free of spaces, `<`, `>` and `|` (the event
    rules see to that); `&` is escaped. A link is never cut.
    """
    if any(char in url for char in " <>|\n"):
        return None
    text = f"<{escape(url)}|{escape(label)}>"
    return text if size(text) <= limit else None


def single_line(text: str) -> str:
    """`text` with every run of whitespace, newlines included, as one space."""
    return " ".join(text.split())
