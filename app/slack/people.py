"""Display names of Slack users, from `users.info`, cached."""

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 600.0


class DisplayNames:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def name_of(self, user_id: str) -> str | None:
        cached = self._cache.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning(
                "no display name for %s: %s", user_id, error.response.get("error")
            )
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("real_name") or user.get("name")
        self._cache[user_id] = (time.monotonic(), name or None)
        return name or None
