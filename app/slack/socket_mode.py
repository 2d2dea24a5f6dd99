"""How Slack reaches the bridge: Socket Mode, or HTTP at POST /slack/events.

With SLACK_APP_TOKEN (an app-level `xapp-` token with `connections:write`) and
SLACK_BOT_TOKEN set, the bridge opens a Socket Mode connection with Bolt's
aiohttp adapter, served by the same Bolt app and listeners as /slack/events.
Its Web API calls, apps.connections.open included, go to SLACK_API_URL through
the bot's client. Slack does not sign socket messages, so Socket Mode needs no
signing secret; with one set, /slack/events keeps taking signed requests too,
and without one it answers 404.

The socket is opened in the background once the rest of the service is up, so
the API serves while Slack is unreachable. Each attempt asks for a new URL
(they are short-lived) and gets a bounded time to connect; failed attempts are
logged and retried, backing off to a minute apart. Only a refused app token
(wrong, revoked, or without `connections:write`) ends the attempts, with an
error in the log. Once connected, the Slack SDK pings the socket and
reconnects on its own, also when Slack asks it to (`disconnect` messages);
when such a reconnection keeps failing, the bridge makes it ask for a new URL.
"""

import asyncio
import itertools
import logging

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient

from app.settings import Settings

log = logging.getLogger(__name__)
# The Slack SDK's own account of the socket (each failed try, reconnections).
SDK_LOG = log.getChild("sdk")

# Seconds between two pings of an open socket; also the time one attempt has
# to open it.
PING_SECONDS = 10.0
# Wait after the first failed attempt, doubled after each failure up to the
# longest wait.
RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 60.0
# Checks, PING_SECONDS apart, that find the socket down before it counts as
# lost (a reconnection Slack asked for takes less).
LOST_CHECKS = 2
# How long closing the socket may take at shutdown.
CLOSE_SECONDS = 5.0

# apps.connections.open errors that no retry can fix: the token is wrong.
REFUSALS = frozenset(
    {
        "access_denied",
        "account_inactive",
        "invalid_auth",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "not_authed",
        "token_expired",
        "token_revoked",
    }
)


class Refused(Exception):
    """Slack refused the app token; trying again cannot help."""


class SocketMode:
    """The Socket Mode connection of the bridge's Bolt app, for its lifespan.

    It does nothing but say which mode is on when Socket Mode is not
    configured.
    """

    def __init__(self, settings: Settings, bolt: AsyncApp | None) -> None:
        self.settings = settings
        self.bolt = bolt
        self._handler: AsyncSocketModeHandler | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log the mode and, in Socket Mode, start connecting; returns at once."""
        log_mode(self.settings)
        if self.bolt is None or not self.settings.slack_app_token:
            return
        self._handler = AsyncSocketModeHandler(
            self.bolt,
            self.settings.slack_app_token,
            logger=SDK_LOG,
            ping_interval=PING_SECONDS,
        )
        self._task = asyncio.create_task(
            self._run(self._handler.client), name="slack-socket-mode"
        )

    async def stop(self) -> None:
        """Stop trying, close the socket and let its tasks end."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=CLOSE_SECONDS)
        if self._handler is not None:
            await _close(self._handler.client)
            log.info("Socket Mode connection closed")

    async def _run(self, socket: SocketModeClient) -> None:
        if await self._connect(socket):
            await _watch(socket)

    async def _connect(self, socket: SocketModeClient) -> bool:
        """Try until the socket opens (True) or Slack refuses the token."""
        wait = RETRY_SECONDS
        for attempt in itertools.count(1):
            try:
                await _attempt(socket)
            except Refused as refusal:
                log.error(
                    "Slack refused SLACK_APP_TOKEN (%s): Socket Mode stays off until "
                    "the bridge restarts with a valid app-level token",
                    refusal,
                )
                return False
            except Exception as problem:  # anything else may pass: keep trying
                log.warning(
                    "Socket Mode not connected (attempt %d: %s); next try in %.1fs",
                    attempt,
                    _reason(problem),
                    wait,
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, MAX_RETRY_SECONDS)
                continue
            log.info("Socket Mode connected to Slack (attempt %d)", attempt)
            return True
        return False


async def _attempt(socket: SocketModeClient) -> None:
    """One try: a new URL from apps.connections.open, then the WebSocket."""
    try:
        socket.wss_uri = await socket.issue_new_wss_url()
    except SlackApiError as error:
        code = str(error.response.get("error"))
        if code in REFUSALS:
            raise Refused(code) from error
        raise
    # The SDK retries a failed WebSocket on its own, with the same URL; cut
    # that short so that the next try starts with a new one.
    connecting = socket.connect()  # type: ignore[no-untyped-call]
    await asyncio.wait_for(connecting, PING_SECONDS)


async def _watch(socket: SocketModeClient) -> None:
    """Until shutdown, see that a lost socket is reopened with a new URL.

    The SDK notices a lost socket and reconnects, but it retries the URL it
    got first, which expires: once the socket has been down for two checks,
    the next retry asks apps.connections.open for a new one.
    """
    down = 0
    for _ in itertools.count():
        await asyncio.sleep(PING_SECONDS)
        if await socket.is_connected():
            if down >= LOST_CHECKS:
                log.info("Socket Mode reconnected to Slack")
            down = 0
            continue
        down += 1
        if down == LOST_CHECKS:
            log.warning("Socket Mode connection lost; reconnecting")
        if down >= LOST_CHECKS:
            socket.wss_uri = None


async def _close(socket: SocketModeClient) -> None:
    try:
        closing = socket.close()  # type: ignore[no-untyped-call]
        await asyncio.wait_for(closing, CLOSE_SECONDS)
    except TimeoutError:
        log.warning(
            "the Socket Mode connection did not close within %ss", CLOSE_SECONDS
        )
    tasks = [
        task
        for task in (
            socket.message_processor,
            socket.current_session_monitor,
            socket.message_receiver,
        )
        if task is not None
    ]
    if tasks:
        await asyncio.wait(tasks, timeout=CLOSE_SECONDS)


def _reason(problem: Exception) -> str:
    if isinstance(problem, TimeoutError):
        return f"no WebSocket within {PING_SECONDS}s"
    if isinstance(problem, SlackApiError):
        return f"apps.connections.open answered {problem.response.get('error')}"
    return f"{type(problem).__name__}: {problem}"


def log_mode(settings: Settings) -> None:
    """Say once, at start, how Slack's requests reach the bridge."""
    bot, secret = settings.slack_bot_token, settings.slack_signing_secret
    if not bot:
        if settings.slack_app_token:
            log.warning(
                "SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN: no Socket Mode"
            )
        return
    if settings.slack_app_token:
        http = "also takes signed requests" if secret else "answers 404"
        log.info("Slack: Socket Mode is on; POST /slack/events %s", http)
    elif secret:
        log.info("Slack: HTTP mode, Slack's requests arrive at POST /slack/events")
    else:
        log.warning(
            "Slack: neither SLACK_SIGNING_SECRET nor SLACK_APP_TOKEN is set: "
            "clicks and replies cannot reach the bridge"
        )


def http_refusal(settings: Settings) -> tuple[int, str] | None:
    """The status and message of POST /slack/events when it cannot serve."""
    bot, secret = settings.slack_bot_token, settings.slack_signing_secret
    if bot and secret:
        return None
    if settings.slack_app_token and bot:
        return 404, (
            "Slack's requests arrive over Socket Mode; set SLACK_SIGNING_SECRET "
            "to take them here as well"
        )
    if settings.slack_app_token:
        return 503, "Slack is not configured: set SLACK_BOT_TOKEN"
    missing = " and ".join(
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", bot),
            ("SLACK_SIGNING_SECRET", secret),
        )
        if not value
    )
    return 503, f"Slack is not configured: set {missing}"
