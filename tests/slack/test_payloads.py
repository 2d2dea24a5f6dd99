"""Signed Slack payloads of unexpected shapes change nothing and break nothing."""

import json
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx

from tests.conftest import SIGNING_SECRET, RunningBridge
from tests.seed import approval
from tests.support import slack_requests as sr
from tests.support.contract import error_of
from tests.support.server import wait_until


def _payload_of(body: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(parse_qs(body.decode())["payload"][0])
    return payload


def _send(running: RunningBridge, payload: dict[str, Any]) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = sr.sign(SIGNING_SECRET, body)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return running.slack_request(body, headers)


def _click(posted: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body, _ = sr.block_actions(
        SIGNING_SECRET,
        user_id="U0CLICKER1",
        action_id="hiloop.approve",
        value=posted["id"],
        block_id="hiloop.decision",
        channel_id=posted["slack"]["channel"],
        message_ts=posted["slack"]["ts"],
    )
    payload = _payload_of(body)
    payload.update(changes)
    return payload


def _status(running: RunningBridge, key: str, interaction_id: str) -> str:
    body = running.api("GET", f"/interactions/{interaction_id}", key).json()
    return str(body["status"])


def _settled(running: RunningBridge) -> None:
    wait_until(lambda: running.bridge.due_deliveries() == [], what="outbox drained")


def test_click_without_a_user_changes_nothing(running: RunningBridge) -> None:
    _, key = running.add_agent(approvers=[])
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])
    without_user = _click(posted)
    del without_user["user"]

    responses = [
        _send(running, without_user),
        _send(running, _click(posted, user={"id": 12345})),
        _send(running, _click(posted, user={"id": "None"})),
    ]

    assert [r.status_code for r in responses] == [200, 200, 200]
    _settled(running)
    assert _status(running, key, accepted["interaction_id"]) == "pending"


def test_click_naming_an_interaction_of_another_message_is_ignored(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[])
    _, other_key = running.add_agent("other", channel="C0OTHER01", approvers=[])
    mine = running.posted(running.send_event(key, approval())["interaction_id"])
    theirs = running.posted(running.send_event(other_key, approval())["interaction_id"])
    forged = _click(mine)
    forged["actions"][0]["value"] = theirs["id"]

    assert _send(running, forged).status_code == 200

    _settled(running)
    assert _status(running, other_key, theirs["id"]) == "pending"
    assert _status(running, key, mine["id"]) == "pending"


def test_comment_modal_with_a_foreign_decision_records_nothing(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[])
    accepted = running.send_event(key, approval())
    running.posted(accepted["interaction_id"])
    metadata = json.dumps({"id": accepted["interaction_id"], "decision": "expired"})
    body, headers = sr.view_submission(
        SIGNING_SECRET,
        user_id="U0CLICKER1",
        callback_id="hiloop.comment",
        private_metadata=metadata,
        values=sr.state_values(("hiloop.comment", "comment", sr.plain_text_input("x"))),
    )

    response = running.slack_request(body, headers)

    assert response.status_code == 200
    assert _status(running, key, accepted["interaction_id"]) == "pending"


def test_unsigned_slack_request_is_refused_in_the_error_shape(
    running: RunningBridge,
) -> None:
    body, headers = sr.url_verification(SIGNING_SECRET, "challenge-1")
    del headers["X-Slack-Signature"]

    error_of(running.slack_request(body, headers), 401, "unauthorized")


def test_url_verification_answers_the_challenge(running: RunningBridge) -> None:
    body, headers = sr.url_verification(SIGNING_SECRET, "challenge-2")

    response = running.slack_request(body, headers)

    assert response.status_code == 200
    assert "challenge-2" in response.text
