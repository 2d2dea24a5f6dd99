"""The delivery worker: sends the outbox's Slack writes after their commit.

Rows are retried with backoff until Slack takes them; a 429 waits for its
Retry-After; errors that no retry can fix mark the row failed and say so on
the interaction and in the log.
"""

import asyncio
import logging
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.core.bridge import Bridge
from app.slack import blocks
from app.store.models import Delivery, Interaction

log = logging.getLogger(__name__)

# Slack errors that retrying cannot fix.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "cant_update_message",
        "channel_not_found",
        "edit_window_closed",
        "invalid_arguments",
        "invalid_auth",
        "invalid_blocks",
        "invalid_blocks_format",
        "is_archived",
        "message_not_found",
        "missing_scope",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "token_revoked",
        "user_not_in_channel",
        "user_not_found",
    }
)
CONCURRENCY = 4
# How long a stop waits for the writes under way.
STOP_GRACE_SECONDS = 5.0
METADATA_EVENT = "hiloop_delivery"
# A message is looked for from its attempt's start to the end of its lease,
# give or take this much for the clocks of Slack and of this machine.
CLOCK_SLACK_SECONDS = 10
LOOKUP_PAGES = 20


class PermanentFailure(Exception):
    """A write Slack will never accept as it stands."""


class DeliveryWorker:
    def __init__(
        self,
        bridge: Bridge,
        client: AsyncWebClient,
        *,
        poll_seconds: float = 2.0,
        max_backoff_seconds: float = 15.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self.bridge = bridge
        self.client = client
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.lease_seconds = lease_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._limit = asyncio.Semaphore(CONCURRENCY)
        # Slack asked us to slow down: no call before this loop time.
        self._resume_at = 0.0
        # Some writes are backing off; the next success brings them forward.
        self._backing_off = False
        self._stopping = False

    def start(self) -> None:
        self.bridge.changes.on_outbox(self._wake.set)
        self._task = asyncio.create_task(self._run(), name="hiloop-delivery")

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Let the writes under way finish (for a while), then stop.

        A write cut off mid-call may reach Slack without being marked done; it
        would then have to be looked up on the next start.
        """
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except TimeoutError:
            log.warning("Slack writes still under way at stop; they resume at start")
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._task = None

    async def _run(self) -> None:
        log.info("Slack delivery worker started")
        while not self._stopping:
            self._wake.clear()
            try:
                sent = await self.deliver_due()
            except Exception:
                log.exception("delivery pass failed; trying again shortly")
                sent = 0
            if sent or self._stopping:
                continue
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        wait = self.poll_seconds
        next_at = await asyncio.to_thread(self.bridge.next_delivery_at)
        if next_at is not None:
            due_in = (next_at - self.bridge.clock()).total_seconds()
            wait = min(max(due_in, 0.01), wait)
        try:
            async with asyncio.timeout(wait):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def deliver_due(self) -> int:
        """Send every write that is due now; returns how many were attempted."""
        paused_for = self._resume_at - asyncio.get_running_loop().time()
        if paused_for > 0:
            await asyncio.sleep(paused_for)
        due = await asyncio.to_thread(self.bridge.due_deliveries)
        await asyncio.gather(*(self._deliver(delivery) for delivery in due))
        return len(due)

    async def _deliver(self, delivery: Delivery) -> None:
        assert delivery.id is not None
        async with self._limit:
            claimed = await asyncio.to_thread(
                self.bridge.claim_delivery, delivery.id, self.lease_seconds
            )
            if not claimed:
                return
            try:
                result = await self._send(delivery)
            except PermanentFailure as failure:
                await self._give_up(delivery, str(failure))
            except SlackApiError as error:
                await self._failed_call(delivery, error)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                # The request may have reached Slack before the answer was lost.
                reason = f"{type(error).__name__}: {error}"
                await self._retry(delivery, reason, None, maybe_sent=True)
            else:
                await asyncio.to_thread(self.bridge.delivery_done, delivery, **result)
                if self._backing_off:
                    # Slack is back: what waited out a backoff goes now.
                    self._backing_off = False
                    await asyncio.to_thread(self.bridge.hurry_retries)
                log.debug(
                    "delivered %s %s for interaction %s",
                    delivery.kind,
                    delivery.id,
                    delivery.interaction_id,
                )

    async def _failed_call(self, delivery: Delivery, error: SlackApiError) -> None:
        response = error.response
        code = response.get("error") if isinstance(response.data, dict) else None
        if response.status_code == 429:
            # The limit is Slack's, not this row's: every write waits it out.
            retry_after = _retry_after(response.headers)
            loop_time = asyncio.get_running_loop().time()
            self._resume_at = max(self._resume_at, loop_time + retry_after)
            await self._retry(delivery, "ratelimited", retry_after, maybe_sent=False)
        elif code in PERMANENT_ERRORS:
            await self._give_up(delivery, str(code))
        else:
            # Slack's own refusal (a code) took nothing; a bare 5xx may have.
            reason = str(code or f"HTTP {response.status_code}")
            await self._retry(delivery, reason, None, maybe_sent=code is None)

    async def _retry(
        self,
        delivery: Delivery,
        error: str,
        after_seconds: float | None,
        *,
        maybe_sent: bool,
    ) -> None:
        if after_seconds is None:
            after_seconds = min(2.0**delivery.attempts, self.max_backoff_seconds)
            self._backing_off = True
        at = self.bridge.clock() + timedelta(seconds=after_seconds)
        log.warning(
            "Slack %s for interaction %s failed (%s), attempt %s; retrying in %.1fs",
            delivery.kind,
            delivery.interaction_id,
            error,
            delivery.attempts + 1,
            after_seconds,
        )
        await asyncio.to_thread(
            self.bridge.delivery_retry, delivery, error, at, maybe_sent=maybe_sent
        )

    async def _give_up(self, delivery: Delivery, error: str) -> None:
        log.error(
            "Slack %s for interaction %s failed for good: %s",
            delivery.kind,
            delivery.interaction_id,
            error,
        )
        await asyncio.to_thread(self.bridge.delivery_failed, delivery, error)

    async def _send(self, delivery: Delivery) -> dict[str, Any]:
        interaction = await asyncio.to_thread(
            self.bridge.interaction_for_delivery, delivery.interaction_id
        )
        channel = interaction.slack_channel
        if channel is None:
            raise PermanentFailure("the interaction has no channel")
        if delivery.kind == "post":
            return await self._post(interaction, channel, delivery)
        if interaction.slack_ts is None:
            raise PermanentFailure("the interaction's message was never posted")
        if delivery.kind == "update":
            text, message_blocks = blocks.message(interaction)
            await self.client.chat_update(
                channel=channel,
                ts=interaction.slack_ts,
                text=text,
                blocks=message_blocks,
            )
            return {}
        if delivery.kind == "thread":
            return await self._thread_reply(interaction, channel, delivery)
        if delivery.kind == "ephemeral":
            await self.client.chat_postEphemeral(
                channel=channel,
                user=delivery.payload["user"],
                text=blocks.notice(delivery.payload["notice"], interaction),
            )
            return {}
        raise PermanentFailure(f"unknown delivery kind {delivery.kind!r}")

    async def _post(
        self, interaction: Interaction, channel: str, delivery: Delivery
    ) -> dict[str, Any]:
        if interaction.slack_ts is not None:
            # Already posted (the row was retried after Slack took it).
            return {"channel": channel, "ts": interaction.slack_ts}
        ts = await self._sent_before(delivery, channel, thread_ts=None)
        if ts is None:
            text, message_blocks = blocks.message(interaction)
            response = await self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=message_blocks,
                metadata=_metadata(delivery),
                unfurl_links=False,
                unfurl_media=False,
            )
            channel, ts = response["channel"], response["ts"]
        log.info("interaction %s posted to %s at %s", interaction.id, channel, ts)
        return {
            "channel": channel,
            "ts": ts,
            "permalink": await self._permalink(channel, ts),
        }

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self.client.chat_getPermalink(
                channel=channel, message_ts=ts
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("no permalink for %s/%s: %s", channel, ts, error)
            return None
        permalink = response.get("permalink")
        return str(permalink) if permalink else None

    async def _thread_reply(
        self, interaction: Interaction, channel: str, delivery: Delivery
    ) -> dict[str, Any]:
        ts = await self._sent_before(delivery, channel, thread_ts=interaction.slack_ts)
        if ts is not None:
            return {"ts": ts}
        payload = delivery.payload
        if "message_id" in payload:
            message = await asyncio.to_thread(
                self.bridge.message_for_delivery, payload["message_id"]
            )
            if message is None:
                raise PermanentFailure("the message no longer exists")
            text = blocks.agent_message(message.content)
        else:
            text = blocks.thread_note(
                interaction, payload.get("note", ""), payload.get("mention", ())
            )
        response = await self.client.chat_postMessage(
            channel=channel,
            thread_ts=interaction.slack_ts,
            text=text,
            metadata=_metadata(delivery),
            unfurl_links=False,
            unfurl_media=False,
        )
        return {"ts": response["ts"]}

    async def _sent_before(
        self, delivery: Delivery, channel: str, thread_ts: str | None
    ) -> str | None:
        """The ts of this write's message if an earlier attempt got it to Slack."""
        if not delivery.maybe_sent or delivery.attempted_at is None:
            return None
        began = delivery.attempted_at.timestamp()
        window = {
            "oldest": f"{began - CLOCK_SLACK_SECONDS:.6f}",
            "latest": f"{began + self.lease_seconds + CLOCK_SLACK_SECONDS:.6f}",
            "inclusive": True,
            "include_all_metadata": True,
            "limit": 200,
        }
        try:
            return await self._find_written(delivery, channel, thread_ts, window)
        except SlackApiError as error:
            if isinstance(error.response.data, dict) and error.response.get("error"):
                # No way to look (a scope, an archived channel): write again
                # rather than never.
                log.warning("cannot check for an earlier %s: %s", delivery.kind, error)
                return None
            raise

    async def _find_written(
        self,
        delivery: Delivery,
        channel: str,
        thread_ts: str | None,
        window: dict[str, Any],
    ) -> str | None:
        cursor = None
        for _ in range(LOOKUP_PAGES):
            page = {**window, **({"cursor": cursor} if cursor else {})}
            if thread_ts is None:
                response = await self.client.conversations_history(
                    channel=channel, **page
                )
            else:
                response = await self.client.conversations_replies(
                    channel=channel, ts=thread_ts, **page
                )
            for message in response.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("delivery_id") == delivery.id:
                    log.info("delivery %s had reached Slack already", delivery.id)
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None
        log.warning("gave up looking for delivery %s after many pages", delivery.id)
        return None


def _metadata(delivery: Delivery) -> dict[str, Any]:
    """Marks the message as this write's, so a retry can tell it was sent."""
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {
            "interaction_id": delivery.interaction_id,
            "delivery_id": delivery.id,
        },
    }


def _retry_after(headers: Any) -> float:
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name) if headers else None
        if value:
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                break
    return 1.0
