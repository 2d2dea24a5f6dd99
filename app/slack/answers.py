"""What every listener of a person's answer shares: who is answering, where,
may they, and how a refusal is told.
"""

import asyncio
import logging
import re
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.core.bridge import Bridge, Responder, SlackMessage
from app.core.errors import Conflict, NotAllowed, NotFound
from app.slack.approvers import GroupMembers
from app.store.models import Interaction

log = logging.getLogger(__name__)

Body = dict[str, Any]

NOT_APPROVER = "Only this agent's approvers can answer this request."
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")


def action_of(body: Body) -> dict[str, Any]:
    """The clicked button; an empty dict when the payload names none."""
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return actions[0]
    return {}


def responder_of(body: Body) -> Responder | None:
    """Who clicked or submitted; None when the payload names no Slack user."""
    user = body.get("user")
    if not isinstance(user, dict):
        return None
    user_id = user.get("id")
    if not isinstance(user_id, str) or not SLACK_USER_ID.fullmatch(user_id):
        return None
    name = user.get("name") or user.get("username")
    return Responder(slack_user_id=user_id, name=str(name) if name else None)


def message_of(body: Body) -> SlackMessage | None:
    """The Slack message a button was clicked on, as (channel, ts)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if isinstance(channel, str) and isinstance(ts, str):
        return channel, ts
    return None


def refusal_text(refusal: Conflict | NotAllowed) -> str:
    """Why an answer given in a modal was not taken, in one sentence."""
    if isinstance(refusal, Conflict):
        return f"This request is already {refusal.status.replace('_', ' ')}."
    return NOT_APPROVER


class Answers:
    """Base of the listeners through which people answer interactions."""

    def __init__(self, bridge: Bridge, groups: GroupMembers) -> None:
        self.bridge = bridge
        self.groups = groups

    async def member_of(self, user_id: str, interaction_id: str) -> list[str]:
        """The approver user groups of the interaction this person is in."""
        try:
            groups = await asyncio.to_thread(
                self.bridge.approver_groups, interaction_id
            )
        except NotFound:
            return []
        return await self.groups.groups_of(user_id, groups) if groups else []

    async def answerable(self, body: Body, interaction_id: str) -> Interaction | None:
        """The interaction if this person may answer it now; else tell them why."""
        user, posted_as = responder_of(body), message_of(body)
        if user is None or posted_as is None:
            log.warning("click without a user or a message; ignored")
            return None
        member_of = await self.member_of(user.slack_user_id, interaction_id)
        check = partial(
            self.bridge.check_can_decide,
            interaction_id,
            user.slack_user_id,
            member_of,
            posted_as=posted_as,
        )
        try:
            return await asyncio.to_thread(check)
        except (Conflict, NotAllowed) as refusal:
            await self.refused(interaction_id, user.slack_user_id, refusal)
        except NotFound:
            log.warning("click on unknown interaction %s", interaction_id)
        return None

    async def refused(
        self, interaction_id: str, user_id: str, refusal: Exception
    ) -> None:
        """Queue the short answer, seen only by this person, naming the reason."""
        notice = "not_approver" if isinstance(refusal, NotAllowed) else "already_final"
        log.info("click by %s on %s refused: %s", user_id, interaction_id, refusal)
        await asyncio.to_thread(self.bridge.tell, interaction_id, user_id, notice)

    async def open_modal(
        self, client: AsyncWebClient, body: Body, interaction_id: str, view: Body
    ) -> None:
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            log.error(
                "modal for interaction %s did not open: %s",
                interaction_id,
                error.response.get("error"),
            )
