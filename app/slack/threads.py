"""Thread replies: what people write under an interaction's message."""

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from app.core.bridge import Bridge, Responder
from app.core.errors import NotFound
from app.slack.answers import SLACK_USER_ID
from app.slack.approvers import GroupMembers
from app.slack.people import DisplayNames

log = logging.getLogger(__name__)

# Message subtypes that are a person writing in the thread; every other subtype
# (edits, deletions, joins, bot posts, ...) is not a reply.
HUMAN_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


class Threads:
    def __init__(
        self, bridge: Bridge, groups: GroupMembers, names: DisplayNames
    ) -> None:
        self.bridge = bridge
        self.groups = groups
        self.names = names

    def register(self, bolt: AsyncApp) -> None:
        bolt.event("message")(self.message_posted)

    async def message_posted(self, event: dict[str, Any]) -> None:
        if not is_human_reply(event):
            return
        channel, thread_ts = event["channel"], event["thread_ts"]
        interaction = await asyncio.to_thread(
            self.bridge.interaction_for_thread, channel, thread_ts
        )
        if interaction is None:
            return
        user_id = event["user"]
        groups = await asyncio.to_thread(self.bridge.approver_groups, interaction.id)
        member_of = await self.groups.groups_of(user_id, groups) if groups else []
        author = Responder(user_id, await self.names.name_of(user_id))
        try:
            stored = await asyncio.to_thread(
                self.bridge.add_human_message,
                interaction.id,
                reply_text(event),
                author,
                slack_ts=event["ts"],
                event_key=f"{channel}:{event['ts']}",
                member_of=member_of,
            )
        except NotFound:
            return
        if stored is not None:
            log.info(
                "reply by %s stored on interaction %s (%s/%s)",
                user_id,
                interaction.id,
                channel,
                event["ts"],
            )


def reply_text(event: dict[str, Any]) -> str:
    """What the reply says; a reply of files alone is named by its files."""
    text = str(event.get("text") or "").replace("\x00", "").strip()
    files = [
        str(file.get("name") or file.get("title") or "file").replace("\x00", "")
        for file in event.get("files") or []
        if isinstance(file, dict)
    ]
    if files and not text:
        return "Shared " + ", ".join(files)
    return text


def is_human_reply(event: dict[str, Any]) -> bool:
    """A person's new message inside a thread, not its parent or a bot's post."""
    thread_ts, user = event.get("thread_ts"), event.get("user")
    return (
        event.get("subtype") in HUMAN_SUBTYPES
        and not event.get("bot_id")
        and isinstance(user, str)
        and SLACK_USER_ID.fullmatch(user) is not None
        and isinstance(event.get("channel"), str)
        and isinstance(event.get("ts"), str)
        and isinstance(thread_ts, str)
        and thread_ts != event.get("ts")
        and bool(reply_text(event))
    )
