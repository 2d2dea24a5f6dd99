"""Bolt listeners of form interactions: the Open form button and its modal.

The button opens the modal built from the event's fields, if the person may
answer; the submission is read and checked here (field errors go back into
the modal, leaving the interaction pending) and recorded once by the core.
"""

import asyncio
import logging

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.core import states
from app.core.bridge import Responder
from app.core.errors import Conflict, NotAllowed, NotFound
from app.slack import forms, ids
from app.slack.answers import Answers, Body, action_of, refusal_text, responder_of

log = logging.getLogger(__name__)


class Forms(Answers):
    """Answers to `session.form_input` interactions, given in the form modal."""

    def register(self, bolt: AsyncApp) -> None:
        bolt.action(ids.OPEN_FORM)(self.open_form)
        bolt.view_submission(ids.FORM_MODAL)(self.form_submitted)

    async def open_form(
        self, ack: AsyncAck, body: Body, client: AsyncWebClient
    ) -> None:
        """Open the form modal, if this person may still answer."""
        await ack()
        interaction_id = str(action_of(body).get("value"))
        interaction = await self.answerable(body, interaction_id)
        if interaction is None:
            return
        if not interaction.form:
            log.warning(
                "Open form on interaction %s, which has no form", interaction_id
            )
            return
        await self.open_modal(
            client, body, interaction_id, forms.form_modal(interaction)
        )

    async def form_submitted(self, ack: AsyncAck, body: Body) -> None:
        """Record the answers, or show in the modal why they were not taken."""
        view = body.get("view") or {}
        interaction_id = forms.interaction_id_from(view.get("private_metadata"))
        user = responder_of(body)
        if interaction_id is None or user is None:
            await ack()
            log.warning("form modal without a readable interaction id or user")
            return
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
        member_of = await self.member_of(user.slack_user_id, interaction_id)
        interaction = await asyncio.to_thread(
            self.bridge.check_can_decide, interaction_id, user.slack_user_id, member_of
        )
        if not interaction.form:
            log.warning("form submitted for interaction %s without one", interaction_id)
            return {}
        state = (view.get("state") or {}).get("values")
        if not isinstance(state, dict):
            state = {}
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
        block_id = _first_input_block(view)
        if block_id is not None:
            await ack(
                response_action="errors", errors={block_id: refusal_text(refusal)}
            )
            return
        await ack()
        await self.refused(interaction_id, user.slack_user_id, refusal)


def _first_input_block(view: Body) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None
