"""Dependencies shared by the routes: the bridge, the caller, the interaction."""

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from app.api.errors import ApiError
from app.api.limits import RateLimit, retry_after
from app.core.bridge import Bridge
from app.store.models import Agent, Interaction


async def get_bridge(request: Request) -> Bridge:
    bridge: Bridge = request.app.state.bridge
    return bridge


BridgeDep = Annotated[Bridge, Depends(get_bridge)]


def current_agent(
    request: Request,
    bridge: BridgeDep,
    x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None,
) -> Agent:
    """The agent whose live key the request carries (or 401), within its rate."""
    if not x_api_key:
        raise ApiError(401, "missing X-API-Key header")
    agent = bridge.authenticate(x_api_key)
    if agent is None:
        raise ApiError(401, "unknown or revoked API key")
    limit: RateLimit = request.app.state.rate_limit
    wait = limit.wait_needed(agent.id)
    if wait > 0:
        raise ApiError(
            429,
            f"more than {limit.per_second:g} requests a second from this agent",
            headers={"Retry-After": retry_after(wait)},
        )
    return agent


AgentDep = Annotated[Agent, Depends(current_agent)]
InteractionId = Annotated[str, Path(max_length=64)]


def owned_interaction(
    bridge: BridgeDep, agent: AgentDep, interaction_id: InteractionId
) -> Interaction:
    """The caller's interaction; another agent's one is 404 like a missing one."""
    return bridge.get(agent, interaction_id)


InteractionDep = Annotated[Interaction, Depends(owned_interaction)]
