"""Bolt listeners of form interactions: the Open form button and its modal.

The button opens the modal built from the event's fields, if the person may
answer; the submission is read and checked here (field errors go back into
the modal, leaving the interaction pending) and recorded once by the core.
Refusals are answered the way the other buttons answer them.
"""

import asyncio
import logging

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.core import states
from app.core.bridge import Responder
from app.core.errors import Conflict, NotAllowed, NotFound
from app.slack import forms, ids
from app.slack.listeners import Body, Clicks, _action, _user

log = logging.getLogger(__name__)

NOT_APPROVER = "Only this agent's approvers can answer this request."


class Forms(Clicks):
    """Answers to `session.form_input` interactions, given in the form modal.

    A Clicks, for its approver lookup and its answer to refused clicks; it
    registers only the form's own listeners.
    """

    def register(self, bolt: AsyncApp) -> None:
        bolt.action(ids.OPEN_FORM)(self.open_form)
        bolt.view_submission(ids.FORM_MODAL)(self.form_submitted)

    async def open_form(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient
    ) -> None:
        """Open the form modal, if this person may still answer."""
        await ack()
        interaction_id = str(_action(body).get("value"))
        user = _user(body)
        member_of = await self._member_of(user.slack_user_id, interaction_id)
        try:
            interaction = await asyncio.to_thread(
                self.bridge.check_can_decide,
                interaction_id,
                user.slack_user_id,
                member_of,
            )
        except (Conflict, NotAllowed) as refusal:
            await self._refused(interaction_id, user.slack_user_id, refusal)
            return
        except NotFound:
            log.warning("Open form on unknown interaction %s", interaction_id)
            return
        if not interaction.form:
            log.warning(
                "Open form on interaction %s, which has no form", interaction_id
            )
            return
        try:
            await client.views_open(
                trigger_id=body["trigger_id"], view=forms.form_modal(interaction)
            )
        except SlackApiError as error:
            log.error(
                "form modal for interaction %s did not open: %s",
                interaction_id,
                error.response.get("error"),
            )

    async def form_submitted(self, ack: AsyncAck, body: Body) -> None:
        """Record the answers, or show in the modal why they were not taken."""
        view = body["view"]
        interaction_id = forms.interaction_id_from(view.get("private_metadata"))
        if interaction_id is None:
            await ack()
            log.warning("form modal without a readable interaction id")
            return
        user = _user(body)
        try:
            errors = await self._submit(interaction_id, user, view)
        except (Conflict, NotAllowed) as refusal:
            await self._refuse_in_modal(ack, view, interaction_id, user, refusal)
            return
        except NotFound:
            log.warning("form submitted for unknown interaction %s", interaction_id)
            errors = {}
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()

    async def _submit(
        self, interaction_id: str, user: Responder, view: Body
    ) -> dict[str, str]:
        """Record the answers; the field errors instead when there are any."""
        member_of = await self._member_of(user.slack_user_id, interaction_id)
        interaction = await asyncio.to_thread(
            self.bridge.check_can_decide, interaction_id, user.slack_user_id, member_of
        )
        if not interaction.form:
            log.warning("form submitted for interaction %s without one", interaction_id)
            return {}
        state = (view.get("state") or {}).get("values") or {}
        values, errors = forms.parse_submission(interaction, state)
        if errors:
            log.info("form for %s returned with %d errors", interaction_id, len(errors))
            return errors
        await asyncio.to_thread(
            self.bridge.decide,
            interaction_id,
            states.SUBMITTED,
            user,
            values=values,
            member_of=member_of,
        )
        return {}

    async def _refuse_in_modal(
        self,
        ack: AsyncAck,
        view: Body,
        interaction_id: str,
        user: Responder,
        refusal: Conflict | NotAllowed,
    ) -> None:
        """Say on the modal's first field why nothing was recorded."""
        if isinstance(refusal, Conflict):
            message = f"This request is already {refusal.status.replace('_', ' ')}."
        else:
            message = NOT_APPROVER
        block_id = _first_input_block(view)
        if block_id is not None:
            await ack(response_action="errors", errors={block_id: message})
            return
        await ack()
        await self._refused(interaction_id, user.slack_user_id, refusal)


def _first_input_block(view: Body) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None
