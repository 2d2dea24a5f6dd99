"""Which of the agent's approver user groups a Slack user belongs to."""

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


class GroupMembers:
    """User-group members from `usergroups.users.list`, cached for a minute."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def groups_of(self, user_id: str, groups: list[str]) -> list[str]:
        found = []
        for group in groups:
            if user_id in await self._members(group):
                found.append(group)
        return found

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._cache.get(group)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
        except SlackApiError as error:
            # Failing closed: an unknown membership never grants a decision.
            log.warning("members of user group %s unknown: %s", group, error)
            return frozenset()
        members = frozenset(response.get("users") or [])
        self._cache[group] = (time.monotonic(), members)
        return members
