"""Socket Mode: Slack's clicks and events over a WebSocket the bridge opens.

The bridge runs on a real socket with the Web API double answering
apps.connections.open with the URL of a Socket Mode double on 127.0.0.1.
"""

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.slack import socket_mode
from tests.conftest import (
    SIGNING_SECRET,
    RunningBridge,
    bridge_settings,
    start_bridge,
)
from tests.seed import REVIEW_EVENT
from tests.support import slack_requests as sr
from tests.support.server import wait_until
from tests.support.slack_double import SlackDouble
from tests.support.socket_double import SocketDouble, payload_of

APPROVER = "U0APPROVE1"
REVIEWER = "U0REVIEW01"
SOCKET_LOG = "app.slack.socket_mode"
# Socket Mode traffic is not signed: the builders' signatures go unused.
UNUSED_SECRET = "not-a-signing-secret"


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Attempts and pings a second apart, so retries show within a test."""
    monkeypatch.setattr(socket_mode, "PING_SECONDS", 1.0)
    monkeypatch.setattr(socket_mode, "RETRY_SECONDS", 0.2)
    monkeypatch.setattr(socket_mode, "MAX_RETRY_SECONDS", 0.4)


@pytest.fixture
def socket() -> Iterator[SocketDouble]:
    double = SocketDouble().start()
    yield double
    double.stop()


@pytest.fixture
def stop_later(
    slack: SlackDouble, socket: SocketDouble
) -> Iterator[list[RunningBridge]]:
    """Bridges to stop at the end, before the doubles they talk to."""
    started: list[RunningBridge] = []
    yield started
    for running in started:
        running.http.close()
        running.server.stop()


def _start(
    stop_later: list[RunningBridge],
    sqlite_url: str,
    slack: SlackDouble,
    **overrides: Any,
) -> RunningBridge:
    """The bridge in Socket Mode; without a signing secret unless given one."""
    values: dict[str, Any] = {
        "slack_app_token": slack.app_token,
        "slack_signing_secret": None,
    }
    values.update(overrides)
    running = start_bridge(bridge_settings(sqlite_url, slack, **values), slack)
    stop_later.append(running)
    return running


@pytest.fixture
def connected(
    stop_later: list[RunningBridge],
    sqlite_url: str,
    slack: SlackDouble,
    socket: SocketDouble,
) -> RunningBridge:
    slack.connections_url = socket.connection_url
    running = _start(stop_later, sqlite_url, slack)
    socket.wait_connected()
    return running


def _click(posted: dict[str, Any], action_id: str = "hiloop.approve") -> Any:
    return payload_of(
        sr.block_actions(
            UNUSED_SECRET,
            user_id=APPROVER,
            user_name="alice",
            action_id=action_id,
            value=posted["id"],
            block_id="hiloop.decision",
            channel_id=posted["slack"]["channel"],
            message_ts=posted["slack"]["ts"],
        )
    )


def _reply(posted: dict[str, Any], text: str) -> Any:
    event = sr.message_event(
        user=REVIEWER,
        text=text,
        channel=posted["slack"]["channel"],
        thread_ts=posted["slack"]["ts"],
    )
    return payload_of(sr.event_callback(UNUSED_SECRET, event))


def _decided(running: RunningBridge, key: str, interaction_id: str) -> Any:
    """The interaction once a person answered it, as its agent reads it."""

    def answered() -> Any:
        response = running.api("GET", f"/interactions/{interaction_id}", key)
        assert response.status_code == 200, response.text
        body = response.json()
        return body if body["response"] else None

    return wait_until(answered, what=f"an answer to {interaction_id}")


def test_opens_the_socket_with_the_app_token_at_the_api_url(
    connected: RunningBridge, socket: SocketDouble
) -> None:
    (call,) = connected.slack.calls_to("apps.connections.open")

    assert not call.failed
    assert call.headers["Authorization"] == f"Bearer {connected.slack.app_token}"
    assert "token" not in call.args
    assert socket.accepted == 1 and socket.refused == 0


def test_approve_click_over_the_socket_is_acked_and_recorded(
    connected: RunningBridge, socket: SocketDouble
) -> None:
    _, key = connected.add_agent(approvers=[APPROVER])
    accepted = connected.send_event(key, REVIEW_EVENT)
    posted = connected.posted(accepted["interaction_id"])

    envelope_id = socket.interactive(_click(posted))

    assert socket.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    result = _decided(connected, key, accepted["interaction_id"])
    assert result["status"] == "approved"
    assert result["response"]["decision"] == "approved"
    assert result["response"]["responder"]["slack_user_id"] == APPROVER
    connected.slack.wait_for("chat.update")
    message = connected.slack.message(posted["slack"]["channel"], posted["slack"]["ts"])
    assert message is not None
    assert not [b for b in message["blocks"] if b["type"] == "actions"]


def test_thread_reply_over_the_socket_answers_the_chat(
    connected: RunningBridge, socket: SocketDouble
) -> None:
    connected.slack.users = {REVIEWER: {"name": "rita", "real_name": "Rita Review"}}
    _, key = connected.add_agent()
    chat = {
        "event": "session.human_input",
        "session_id": "oz_sess_abc123",
        "title": "Which database should the cache use?",
    }
    accepted = connected.send_event(key, chat)
    posted = connected.posted(accepted["interaction_id"])

    envelope_id = socket.events_api(_reply(posted, "Use Redis, it is deployed"))

    assert socket.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    result = _decided(connected, key, accepted["interaction_id"])
    assert result["status"] == "responded"
    assert result["response"]["message"] == "Use Redis, it is deployed"
    path = f"/interactions/{accepted['interaction_id']}/messages"
    (message,) = connected.api("GET", path, key).json()["messages"]
    assert message["sender"] == "human"
    assert message["content"] == "Use Redis, it is deployed"
    assert message["author"]["slack_user_id"] == REVIEWER


def test_slack_events_answers_404_in_socket_mode_without_a_secret(
    connected: RunningBridge,
) -> None:
    body, headers = sr.url_verification(SIGNING_SECRET, "challenge-1")

    response = connected.slack_request(body, headers)

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "Socket Mode" in error["message"]


def test_http_mode_says_so_and_opens_no_socket(
    running: RunningBridge, caplog: pytest.LogCaptureFixture
) -> None:
    logged = [r for r in caplog.get_records("setup") if r.name == SOCKET_LOG]

    assert [r.getMessage() for r in logged] == [
        "Slack: HTTP mode, Slack's requests arrive at POST /slack/events"
    ]
    assert not running.slack.calls_to("apps.connections.open")


def test_an_app_token_without_a_bot_token_opens_nothing(
    stop_later: list[RunningBridge],
    sqlite_url: str,
    slack: SlackDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=SOCKET_LOG)

    running = _start(stop_later, sqlite_url, slack, slack_bot_token=None)
    body, headers = sr.url_verification(SIGNING_SECRET, "challenge-1")
    response = running.slack_request(body, headers)

    assert response.status_code == 503
    assert response.json()["error"]["message"] == (
        "Slack is not configured: set SLACK_BOT_TOKEN"
    )
    logged = [r.getMessage() for r in caplog.records if r.name == SOCKET_LOG]
    assert logged == ["SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN: no Socket Mode"]
    assert not slack.calls


def test_with_a_secret_http_mode_works_beside_socket_mode(
    stop_later: list[RunningBridge],
    sqlite_url: str,
    slack: SlackDouble,
    socket: SocketDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=SOCKET_LOG)
    slack.connections_url = socket.connection_url
    running = _start(stop_later, sqlite_url, slack, slack_signing_secret=SIGNING_SECRET)
    socket.wait_connected()
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])

    body, headers = sr.block_actions(
        SIGNING_SECRET,
        user_id=APPROVER,
        action_id="hiloop.approve",
        value=posted["id"],
        block_id="hiloop.decision",
        channel_id=posted["slack"]["channel"],
        message_ts=posted["slack"]["ts"],
    )
    response = running.slack_request(body, headers)

    assert response.status_code == 200
    assert _decided(running, key, accepted["interaction_id"])["status"] == "approved"
    modes = [r.getMessage() for r in caplog.records if "Slack: " in r.getMessage()]
    assert modes == [
        "Slack: Socket Mode is on; POST /slack/events also takes signed requests"
    ]


def test_reconnects_with_a_new_url_when_slack_asks(
    connected: RunningBridge, socket: SocketDouble
) -> None:
    _, key = connected.add_agent(approvers=[APPROVER])
    accepted = connected.send_event(key, REVIEW_EVENT)
    posted = connected.posted(accepted["interaction_id"])

    socket.disconnect("refresh_requested")

    connected.slack.wait_for("apps.connections.open", count=2)
    socket.wait_connected(count=2)
    wait_until(lambda: socket.open_connections == 1, what="the old one closed")
    envelope_id = socket.interactive(_click(posted))
    assert socket.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    assert _decided(connected, key, accepted["interaction_id"])["status"] == "approved"
    assert socket.refused == 0


def test_reopens_a_lost_socket_with_a_new_url(
    connected: RunningBridge, socket: SocketDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SOCKET_LOG)
    _, key = connected.add_agent(approvers=[APPROVER])
    accepted = connected.send_event(key, REVIEW_EVENT)
    posted = connected.posted(accepted["interaction_id"])
    # An outage: the socket closes, and the URL Slack hands out next fails.
    connected.slack.connections_url = SlackDouble().connections_url
    socket.drop()
    connected.slack.wait_for("apps.connections.open", count=2)

    connected.slack.connections_url = socket.connection_url

    socket.wait_connected(count=2, timeout=10)
    envelope_id = socket.interactive(_click(posted))
    assert socket.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    assert _decided(connected, key, accepted["interaction_id"])["status"] == "approved"

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == SOCKET_LOG]

    wait_until(lambda: "Socket Mode reconnected to Slack" in logged(), what="log")
    assert "Socket Mode connection lost; reconnecting" in logged()


def test_serves_and_retries_while_the_socket_is_unreachable(
    stop_later: list[RunningBridge],
    sqlite_url: str,
    slack: SlackDouble,
    socket: SocketDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=SOCKET_LOG)
    # The double's default URL points at a closed port on 127.0.0.1.
    running = _start(stop_later, sqlite_url, slack)

    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])
    assert running.http.get("/healthz").json() == {"status": "ok"}
    slack.wait_for("apps.connections.open", count=3, timeout=10)
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == SOCKET_LOG and r.levelno == logging.WARNING
    ]
    assert len(warnings) >= 2
    assert all("Socket Mode not connected" in w for w in warnings)

    # Slack is back: the next attempt, with a new URL, connects.
    slack.connections_url = socket.connection_url
    socket.wait_connected(timeout=10)
    envelope_id = socket.interactive(_click(posted))
    assert socket.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    assert _decided(running, key, accepted["interaction_id"])["status"] == "approved"


def test_a_refused_app_token_stops_the_attempts(
    stop_later: list[RunningBridge],
    sqlite_url: str,
    slack: SlackDouble,
    socket: SocketDouble,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=SOCKET_LOG)
    slack.connections_url = socket.connection_url

    running = _start(stop_later, sqlite_url, slack, slack_app_token="xapp-1-wrong")

    (call,) = slack.wait_for("apps.connections.open")
    assert call.error == "invalid_auth"
    refusal = wait_until(
        lambda: [r for r in caplog.records if r.name == SOCKET_LOG and r.levelno >= 40],
        what="the refusal in the log",
    )
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in refusal[0].getMessage()
    _, key = running.add_agent()
    running.posted(running.send_event(key, REVIEW_EVENT)["interaction_id"])
    time.sleep(3 * socket_mode.RETRY_SECONDS)
    assert len(slack.calls_to("apps.connections.open")) == 1
    assert socket.accepted == 0
