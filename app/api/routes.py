"""Routes of the Warp Oz integration, under /v1/integrations/warp-oz."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from app import __version__
from app.api import schemas
from app.api.deps import AgentDep, BridgeDep, InteractionDep, InteractionId
from app.core import events, states
from app.core.events import EventIn
from app.store.models import Interaction

router = APIRouter(prefix="/v1/integrations/warp-oz")

MAX_AWAIT_SECONDS = 60
DEFAULT_AWAIT_SECONDS = 50


@router.post("/webhook", status_code=201)
def webhook(event: EventIn, bridge: BridgeDep, agent: AgentDep) -> dict[str, Any]:
    (interaction,) = bridge.accept_events(agent, [event])
    return schemas.accepted(interaction)


@router.post("/webhook/batch", status_code=201)
def webhook_batch(
    batch: schemas.BatchIn, bridge: BridgeDep, agent: AgentDep
) -> dict[str, Any]:
    created = bridge.accept_events(agent, batch.events)
    return {"events": [schemas.accepted(interaction) for interaction in created]}


@router.get("/interactions/{interaction_id}")
def get_interaction(interaction: InteractionDep) -> dict[str, Any]:
    return schemas.interaction_out(interaction)


@router.get("/interactions/{interaction_id}/await")
async def await_interaction(
    request: Request,
    interaction_id: InteractionId,
    bridge: BridgeDep,
    agent: AgentDep,
    timeout: Annotated[
        float, Query(ge=0, le=MAX_AWAIT_SECONDS)
    ] = DEFAULT_AWAIT_SECONDS,
) -> dict[str, Any]:
    """Answer when a person has, or at the timeout with the pending interaction."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + timeout
    stopping: asyncio.Event = request.app.state.stopping
    async with bridge.changes.watch(interaction_id) as changed:
        while True:
            # Cleared before each read, so a change during the read still wakes us.
            changed.clear()
            interaction = await run_in_threadpool(bridge.get, agent, interaction_id)
            remaining = give_up_at - loop.time()
            if not _waits(interaction) or stopping.is_set() or remaining <= 0:
                break
            if not await _first_of(changed, stopping, remaining):
                break
    return schemas.interaction_out(interaction)


def _waits(interaction: Interaction) -> bool:
    # An announcement asks nobody anything, so there is nothing to wait for.
    return interaction.status == states.PENDING and interaction.interaction_type != (
        "broadcast"
    )


async def _first_of(
    changed: asyncio.Event, stopping: asyncio.Event, seconds: float
) -> bool:
    """Wait until either event is set; False at the timeout."""
    waits = [
        asyncio.ensure_future(changed.wait()),
        asyncio.ensure_future(stopping.wait()),
    ]
    try:
        done, _ = await asyncio.wait(
            waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for wait in waits:
            wait.cancel()
    return bool(done)


@router.delete("/interactions/{interaction_id}")
def cancel_interaction(
    interaction_id: InteractionId, bridge: BridgeDep, agent: AgentDep
) -> dict[str, Any]:
    return schemas.interaction_out(bridge.cancel(agent, interaction_id))


@router.post("/interactions/{interaction_id}/messages", status_code=201)
def send_message(
    interaction_id: InteractionId,
    message: schemas.MessageIn,
    bridge: BridgeDep,
    agent: AgentDep,
) -> dict[str, Any]:
    stored = bridge.add_agent_message(agent, interaction_id, message.content)
    return schemas.message_out(stored)


@router.get("/interactions/{interaction_id}/messages")
def list_messages(
    interaction_id: InteractionId,
    bridge: BridgeDep,
    agent: AgentDep,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    found = bridge.messages(agent, interaction_id, after)
    return {"messages": [schemas.message_out(message) for message in found]}


@router.get("/sessions/{session_id}")
def session_interactions(
    session_id: Annotated[str, Path(max_length=200)],
    bridge: BridgeDep,
    agent: AgentDep,
) -> dict[str, Any]:
    found = bridge.session_interactions(agent, session_id)
    return {
        "session_id": session_id,
        "interactions": [schemas.interaction_out(i) for i in found],
    }


@router.get("/info")
def info(agent: AgentDep) -> dict[str, Any]:
    return {
        "name": "Hiloop Bridge",
        "integration": "warp-oz",
        "version": __version__,
        "agent": {"id": agent.id, "name": agent.name, "channel": agent.channel},
        "events": events.EVENT_TYPES,
        "limits": {
            "session_id": {"max_length": 200},
            "title": {"max_length": events.MAX_TITLE},
            "description": {"max_length": events.MAX_DESCRIPTION},
            "timeout_seconds": {"min": 1, "max": events.MAX_TIMEOUT_SECONDS},
            "form_fields": {"min": 1, "max": events.MAX_FORM_FIELDS},
            "options": {"min": events.MIN_OPTIONS, "max": events.MAX_OPTIONS},
            "batch_events": {"min": 1, "max": events.MAX_BATCH},
            "await_timeout_seconds": {
                "min": 0,
                "max": MAX_AWAIT_SECONDS,
                "default": DEFAULT_AWAIT_SECONDS,
            },
            "body_bytes": {"max": 1024 * 1024},
            "message_content": {"max_length": schemas.MAX_MESSAGE},
        },
    }
