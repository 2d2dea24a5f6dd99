"""Safe Slack text: escaping event text and cutting it to Block Kit's limits."""

from datetime import datetime

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Escape what Slack parses, so no text can mention, ping or forge a link."""
    return "".join(_ESCAPES.get(char, char) for char in text)


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, with an ellipsis when shortened."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def escape_within(text: str, limit: int) -> tuple[str, int]:
    """Escape `text` keeping the result within `limit` characters.

    Returns the escaped text and how many characters of the original were
    left out; an escape sequence is never split.
    """
    pieces: list[str] = []
    used = 0
    for index, char in enumerate(text):
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > limit:
            return "".join(pieces), len(text) - index
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces), 0


def escape_cut(text: str, limit: int) -> str:
    """Escaped text within `limit`, ending in an ellipsis when shortened."""
    escaped, left_out = escape_within(text, limit)
    if not left_out:
        return escaped
    escaped, _ = escape_within(text, limit - 1)
    return escaped + ELLIPSIS


def slack_date(moment: datetime) -> str:
    """A time every reader sees in their own zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def mention(user_id: str) -> str:
    """A mention of a Slack user or user group, by its id only."""
    if user_id.startswith("S"):
        return f"<!subteam^{user_id}>"
    return f"<@{user_id}>"


def quote(text: str, limit: int) -> str:
    """Escaped text as a Slack block quote, within `limit` characters."""
    body = escape_cut(text, max(limit - 2 * (text.count("\n") + 1), 1))
    return "\n".join("> " + line for line in body.split("\n"))
