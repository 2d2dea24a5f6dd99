"""The Bolt app, built once with every listener the bridge needs."""

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.core.bridge import Bridge
from app.slack.approvers import GroupMembers
from app.slack.clicks import Clicks
from app.slack.form_listeners import Forms
from app.slack.people import DisplayNames
from app.slack.threads import Threads


def build_bolt(bridge: Bridge, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    bolt = AsyncApp(
        name="hiloop",
        client=client,
        signing_secret=signing_secret,
        logger=logging.getLogger("app.slack.bolt"),
    )
    groups = GroupMembers(client)
    Clicks(bridge, groups).register(bolt)
    Forms(bridge, groups).register(bolt)
    Threads(bridge, groups, DisplayNames(client)).register(bolt)
    return bolt
