"""Decisions made with buttons and the comment modal.

Listeners acknowledge at once and do their work after, inside Slack's three
seconds; every decision goes through the core, which decides who wins.
"""

import asyncio
import json
import logging
import re

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.core import states
from app.core.errors import Conflict, NotAllowed, NotFound
from app.slack import blocks, ids
from app.slack.answers import Answers, Body, action_of, refusal_text, responder_of

log = logging.getLogger(__name__)


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
        await self._decide(body, action_of(body)["value"], states.APPROVED)

    async def choose(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        try:
            choice = json.loads(action_of(body)["value"])
            interaction_id, value = str(choice["id"]), str(choice["value"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable choice from %s", responder_of(body).slack_user_id)
            return
        await self._decide(body, interaction_id, value)

    async def ask_comment(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient
    ) -> None:
        """Open the comment modal, if this person may still answer."""
        await ack()
        action = action_of(body)
        interaction_id = action["value"]
        decision = (
            states.REJECTED
            if action["action_id"] == ids.REJECT
            else states.CHANGES_REQUESTED
        )
        interaction = await self.answerable(body, interaction_id)
        if interaction is not None:
            view = blocks.comment_modal(interaction, decision)
            await self.open_modal(client, body, interaction_id, view)

    async def comment_submitted(self, ack: AsyncAck, body: Body) -> None:
        view = body["view"]
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            interaction_id, decision = str(meta["id"]), str(meta["decision"])
        except (ValueError, KeyError, TypeError):
            await ack()
            log.warning("comment modal without a readable interaction id")
            return
        values = view.get("state", {}).get("values", {})
        comment = (
            values.get(ids.COMMENT_BLOCK, {}).get(ids.COMMENT_INPUT, {}).get("value")
        )
        if decision == states.CHANGES_REQUESTED and not (comment or "").strip():
            await ack(
                response_action="errors",
                errors={ids.COMMENT_BLOCK: "Say what should change."},
            )
            return
        user = responder_of(body)
        member_of = await self.member_of(user.slack_user_id, interaction_id)
        try:
            await asyncio.to_thread(
                self.bridge.decide,
                interaction_id,
                decision,
                user,
                comment=(comment or "").strip() or None,
                member_of=member_of,
            )
        except (Conflict, NotAllowed) as refusal:
            errors = {ids.COMMENT_BLOCK: refusal_text(refusal)}
            await ack(response_action="errors", errors=errors)
            return
        except NotFound:
            log.warning("comment for unknown interaction %s", interaction_id)
        await ack()

    async def _decide(self, body: Body, interaction_id: str, decision: str) -> None:
        user = responder_of(body)
        member_of = await self.member_of(user.slack_user_id, interaction_id)
        try:
            await asyncio.to_thread(
                self.bridge.decide, interaction_id, decision, user, member_of=member_of
            )
        except (Conflict, NotAllowed) as refusal:
            await self.refused(interaction_id, user.slack_user_id, refusal)
        except NotFound:
            log.warning("click on unknown interaction %s", interaction_id)
