"""Decisions made with buttons and the comment modal.

Listeners acknowledge at once and do their work after, inside Slack's three
seconds; every decision goes through the core, which decides who wins.
"""

import asyncio
import json
import logging
import re
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.core import states
from app.core.bridge import Responder, SlackMessage
from app.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.slack import blocks, ids
from app.slack.answers import (
    Answers,
    Body,
    action_of,
    message_of,
    refusal_text,
    responder_of,
)

log = logging.getLogger(__name__)

# The decision each comment-asking button leads to.
COMMENTED = {ids.REJECT: states.REJECTED, ids.REQUEST_CHANGES: states.CHANGES_REQUESTED}


class Clicks(Answers):
    """Decisions made with buttons and the comment modal."""

    def register(self, bolt: AsyncApp) -> None:
        bolt.action(ids.APPROVE)(self.approve)
        bolt.action(ids.REJECT)(self.ask_comment)
        bolt.action(ids.REQUEST_CHANGES)(self.ask_comment)
        bolt.action(re.compile(re.escape(ids.CHOOSE) + r"\.\d+"))(self.choose)
        bolt.view_submission(ids.COMMENT_MODAL)(self.comment_submitted)

    async def approve(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        await self._decide(body, str(action_of(body).get("value")), states.APPROVED)

    async def choose(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        try:
            choice = json.loads(action_of(body)["value"])
            interaction_id, value = str(choice["id"]), str(choice["value"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable choice in a click; ignored")
            return
        await self._decide(body, interaction_id, value)

    async def ask_comment(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient
    ) -> None:
        """Open the comment modal, if this person may still answer."""
        await ack()
        action = action_of(body)
        interaction_id = str(action.get("value"))
        decision = COMMENTED.get(str(action.get("action_id")))
        if decision is None:
            return
        interaction = await self.answerable(body, interaction_id)
        if interaction is not None:
            view = blocks.comment_modal(interaction, decision)
            await self.open_modal(client, body, interaction_id, view)

    async def comment_submitted(self, ack: AsyncAck, body: Body) -> None:
        view = body.get("view") or {}
        interaction_id, decision = _comment_target(view.get("private_metadata"))
        user = responder_of(body)
        if interaction_id is None or decision is None or user is None:
            await ack()
            log.warning("comment modal without a readable target or user; ignored")
            return
        comment = _comment(view)
        if decision == states.CHANGES_REQUESTED and not comment:
            errors = {ids.COMMENT_BLOCK: "Say what should change."}
            await ack(response_action="errors", errors=errors)
            return
        try:
            await self._record(interaction_id, decision, user, comment=comment)
        except (Conflict, NotAllowed) as refusal:
            errors = {ids.COMMENT_BLOCK: refusal_text(refusal)}
            await ack(response_action="errors", errors=errors)
            return
        except (NotFound, InvalidInput) as problem:
            log.warning("comment for %s not recorded: %s", interaction_id, problem)
        await ack()

    async def _decide(self, body: Body, interaction_id: str, decision: str) -> None:
        user, posted_as = responder_of(body), message_of(body)
        if user is None or posted_as is None:
            log.warning("click without a user or a message; ignored")
            return
        try:
            await self._record(interaction_id, decision, user, posted_as=posted_as)
        except (Conflict, NotAllowed) as refusal:
            await self.refused(interaction_id, user.slack_user_id, refusal)
        except (NotFound, InvalidInput) as problem:
            log.warning("click on %s not recorded: %s", interaction_id, problem)

    async def _record(
        self,
        interaction_id: str,
        decision: str,
        user: Responder,
        *,
        comment: str | None = None,
        posted_as: SlackMessage | None = None,
    ) -> None:
        member_of = await self.member_of(user.slack_user_id, interaction_id)
        decide = partial(
            self.bridge.decide,
            interaction_id,
            decision,
            user,
            comment=comment,
            member_of=member_of,
            posted_as=posted_as,
        )
        await asyncio.to_thread(decide)


def _comment_target(metadata: Any) -> tuple[str | None, str | None]:
    """The interaction and decision a comment modal was opened for."""
    try:
        meta = json.loads(metadata or "{}")
        interaction_id, decision = str(meta["id"]), str(meta["decision"])
    except (ValueError, KeyError, TypeError):
        return None, None
    if decision not in COMMENTED.values():
        return interaction_id, None
    return interaction_id, decision


def _comment(view: Body) -> str | None:
    values = (view.get("state") or {}).get("values")
    if not isinstance(values, dict):
        return None
    entry = (values.get(ids.COMMENT_BLOCK) or {}).get(ids.COMMENT_INPUT) or {}
    text = entry.get("value") if isinstance(entry, dict) else None
    return text.strip() or None if isinstance(text, str) else None
