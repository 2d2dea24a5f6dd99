"""The Bolt app: button clicks and modal submissions, turned into core calls.

Listeners acknowledge at once and do their work after, inside Slack's three
seconds; every decision goes through the core, which decides who wins.
"""

import asyncio
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.core import states
from app.core.bridge import Bridge, Responder
from app.core.errors import Conflict, NotAllowed, NotFound
from app.slack import blocks, ids
from app.slack.approvers import GroupMembers
from app.slack.people import DisplayNames
from app.slack.threads import Threads

log = logging.getLogger(__name__)

Body = dict[str, Any]


def build_bolt(bridge: Bridge, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    """The Bolt app with every listener the bridge needs, built once."""
    bolt = AsyncApp(
        name="hiloop",
        client=client,
        signing_secret=signing_secret,
        logger=logging.getLogger("app.slack.bolt"),
    )
    groups = GroupMembers(client)
    Clicks(bridge, groups).register(bolt)
    from app.slack.form_listeners import Forms  # a Clicks subclass: import late

    Forms(bridge, groups).register(bolt)
    Threads(bridge, groups, DisplayNames(client)).register(bolt)
    return bolt


class Clicks:
    """Decisions made with buttons and the comment modal."""

    def __init__(self, bridge: Bridge, groups: GroupMembers) -> None:
        self.bridge = bridge
        self.groups = groups

    def register(self, bolt: AsyncApp) -> None:
        bolt.action(ids.APPROVE)(self.approve)
        bolt.action(ids.REJECT)(self.ask_comment)
        bolt.action(ids.REQUEST_CHANGES)(self.ask_comment)
        bolt.action(re.compile(re.escape(ids.CHOOSE) + r"\.\d+"))(self.choose)
        bolt.view_submission(ids.COMMENT_MODAL)(self.comment_submitted)

    async def approve(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        await self._decide(body, _action(body)["value"], states.APPROVED)

    async def choose(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        try:
            choice = json.loads(_action(body)["value"])
            interaction_id, value = str(choice["id"]), str(choice["value"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable choice from %s", _user(body).slack_user_id)
            return
        await self._decide(body, interaction_id, value)

    async def ask_comment(self, ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
        """Open the comment modal, if this person may still answer."""
        await ack()
        action = _action(body)
        interaction_id = action["value"]
        decision = (
            states.REJECTED if action["action_id"] == ids.REJECT else states.CHANGES_REQUESTED
        )
        user = _user(body)
        member_of = await self._member_of(user.slack_user_id, interaction_id)
        try:
            interaction = await asyncio.to_thread(
                self.bridge.check_can_decide, interaction_id, user.slack_user_id, member_of
            )
        except (Conflict, NotAllowed) as refusal:
            await self._refused(interaction_id, user.slack_user_id, refusal)
            return
        except NotFound:
            log.warning("click on unknown interaction %s", interaction_id)
            return
        try:
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=blocks.comment_modal(interaction, decision),
            )
        except SlackApiError as error:
            log.error(
                "comment modal for interaction %s did not open: %s",
                interaction_id,
                error.response.get("error"),
            )

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
        comment = values.get(ids.COMMENT_BLOCK, {}).get(ids.COMMENT_INPUT, {}).get("value")
        if decision == states.CHANGES_REQUESTED and not (comment or "").strip():
            await ack(
                response_action="errors",
                errors={ids.COMMENT_BLOCK: "Say what should change."},
            )
            return
        user = _user(body)
        member_of = await self._member_of(user.slack_user_id, interaction_id)
        try:
            await asyncio.to_thread(
                self.bridge.decide,
                interaction_id,
                decision,
                user,
                comment=(comment or "").strip() or None,
                member_of=member_of,
            )
        except Conflict as conflict:
            message = f"This request is already {conflict.status.replace('_', ' ')}."
            await ack(response_action="errors", errors={ids.COMMENT_BLOCK: message})
            return
        except NotAllowed:
            message = "Only this agent's approvers can answer this request."
            await ack(response_action="errors", errors={ids.COMMENT_BLOCK: message})
            return
        except NotFound:
            log.warning("comment for unknown interaction %s", interaction_id)
        await ack()

    async def _decide(self, body: Body, interaction_id: str, decision: str) -> None:
        user = _user(body)
        member_of = await self._member_of(user.slack_user_id, interaction_id)
        try:
            await asyncio.to_thread(
                self.bridge.decide, interaction_id, decision, user, member_of=member_of
            )
        except (Conflict, NotAllowed) as refusal:
            await self._refused(interaction_id, user.slack_user_id, refusal)
        except NotFound:
            log.warning("click on unknown interaction %s", interaction_id)

    async def _refused(self, interaction_id: str, user_id: str, refusal: Exception) -> None:
        notice = "not_approver" if isinstance(refusal, NotAllowed) else "already_final"
        log.info("click by %s on %s refused: %s", user_id, interaction_id, refusal)
        await asyncio.to_thread(self.bridge.tell, interaction_id, user_id, notice)

    async def _member_of(self, user_id: str, interaction_id: str) -> list[str]:
        try:
            groups = await asyncio.to_thread(self.bridge.approver_groups, interaction_id)
        except NotFound:
            return []
        return await self.groups.groups_of(user_id, groups) if groups else []


def _action(body: Body) -> dict[str, Any]:
    action: dict[str, Any] = body["actions"][0]
    return action


def _user(body: Body) -> Responder:
    user = body.get("user") or {}
    name = user.get("name") or user.get("username")
    return Responder(slack_user_id=str(user.get("id")), name=name)
