"""The Socket Mode double, and apps.connections.open in the Web API double."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble
from tests.support.socket_double import SocketDouble, payload_of


@pytest.fixture
def socket() -> Iterator[SocketDouble]:
    double = SocketDouble().start()
    yield double
    double.stop()


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    with SlackDouble() as double:
        yield double


async def _handshake(url: str) -> tuple[int, Any]:
    """The status of a WebSocket handshake and, when it opens, its first message."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url) as ws:
                return 101, await ws.receive_json(timeout=5)
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status, None


def test_connections_open_takes_the_app_token_from_the_header(
    slack: SlackDouble, socket: SocketDouble
) -> None:
    slack.connections_url = socket.connection_url
    client = WebClient(base_url=slack.url)

    url = client.apps_connections_open(app_token=slack.app_token)["url"]

    assert url.startswith(f"ws://127.0.0.1:{socket.port}/link/?ticket=")
    (call,) = slack.calls_to("apps.connections.open")
    assert call.headers["Authorization"] == f"Bearer {slack.app_token}"


def test_tokens_are_not_interchangeable(slack: SlackDouble) -> None:
    with pytest.raises(SlackApiError) as refused:
        WebClient(base_url=slack.url).apps_connections_open(app_token=slack.token)
    assert refused.value.response["error"] == "not_allowed_token_type"

    with pytest.raises(SlackApiError) as refused:
        WebClient(token=slack.app_token, base_url=slack.url).auth_test()
    assert refused.value.response["error"] == "not_allowed_token_type"

    with pytest.raises(SlackApiError) as refused:
        WebClient(base_url=slack.url).apps_connections_open(app_token="xapp-other")
    assert refused.value.response["error"] == "invalid_auth"


def test_default_url_is_unreachable_on_loopback(slack: SlackDouble) -> None:
    client = WebClient(base_url=slack.url)

    first = client.apps_connections_open(app_token=slack.app_token)["url"]
    second = client.apps_connections_open(app_token=slack.app_token)["url"]

    assert first.startswith("ws://127.0.0.1:9/") and first != second


def test_a_connection_gets_hello_first(socket: SocketDouble) -> None:
    status, hello = asyncio.run(_handshake(socket.connection_url()))

    assert status == 101
    assert hello["type"] == "hello"
    assert hello["connection_info"] == {"app_id": "A0TEST01"}
    assert hello["num_connections"] == 1
    assert socket.accepted == 1


def test_a_ticket_opens_one_connection_only(socket: SocketDouble) -> None:
    url = socket.connection_url()

    assert asyncio.run(_handshake(url))[0] == 101
    assert asyncio.run(_handshake(url))[0] == 403
    assert asyncio.run(_handshake(url.replace("ticket=", "ticket=x")))[0] == 403
    assert socket.accepted == 1 and socket.refused == 2


def test_envelopes_are_shaped_as_slack_sends_them(socket: SocketDouble) -> None:
    click = payload_of(
        sr.block_actions(
            "secret",
            user_id="U0APPROVE1",
            action_id="hiloop.approve",
            value="int_1",
            channel_id="C0REVIEW1",
            message_ts="1700000000.000100",
        )
    )
    event = payload_of(
        sr.event_callback(
            "secret", sr.message_event(user="U0A", text="hi", channel="C0REVIEW1")
        )
    )

    async def exchange() -> list[Any]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(socket.connection_url()) as ws:
                await ws.receive_json(timeout=5)
                await asyncio.to_thread(socket.interactive, click)
                interactive = await ws.receive_json(timeout=5)
                await asyncio.to_thread(socket.events_api, event)
                events = await ws.receive_json(timeout=5)
                await ws.send_str(json.dumps({"envelope_id": events["envelope_id"]}))
                ack = await asyncio.to_thread(
                    socket.wait_for_ack, events["envelope_id"]
                )
                return [interactive, events, ack]

    interactive, events, ack = asyncio.run(exchange())

    assert interactive["type"] == "interactive"
    assert interactive["payload"]["type"] == "block_actions"
    assert interactive["payload"]["actions"][0]["action_id"] == "hiloop.approve"
    assert interactive["accepts_response_payload"] is False
    assert events["type"] == "events_api"
    assert events["payload"]["type"] == "event_callback"
    assert events["payload"]["event"]["text"] == "hi"
    assert events["retry_attempt"] == 0
    assert ack == {"envelope_id": events["envelope_id"]}
