"""Custom approval choices and broadcasts, through the real stack."""

import json
from typing import Any

from tests.conftest import SIGNING_SECRET, RunningBridge
from tests.seed import approval
from tests.slack.test_decisions import HeldAwait
from tests.support import slack_requests as sr
from tests.support.server import wait_until

OPTIONS = [
    {"value": "deploy_canary", "label": "Canary first", "style": "primary"},
    {"value": "deploy_all", "label": "Everywhere"},
    {"value": "hold", "label": "Hold", "style": "danger"},
]


def _buttons(call_args: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in call_args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_custom_choices_replace_approve_and_reject(running: RunningBridge) -> None:
    _, key = running.add_agent()
    running.send_event(key, approval(options=OPTIONS))

    (call,) = running.slack.wait_for("chat.postMessage")

    buttons = _buttons(call.args)
    assert [b["text"]["text"] for b in buttons] == [
        "Canary first",
        "Everywhere",
        "Hold",
    ]
    assert [b.get("style") for b in buttons] == ["primary", None, "danger"]
    assert "hiloop.approve" not in {b["action_id"] for b in buttons}


def test_chosen_option_value_is_the_decision(running: RunningBridge) -> None:
    _, key = running.add_agent(approvers=["U0APPROVE1"])
    accepted = running.send_event(key, approval(options=OPTIONS))
    posted = running.posted(accepted["interaction_id"])
    (call,) = running.slack.calls_to("chat.postMessage")
    everywhere = _buttons(call.args)[1]
    held = HeldAwait(running, key, accepted["interaction_id"])

    body, headers = sr.block_actions(
        SIGNING_SECRET,
        user_id="U0APPROVE1",
        action_id=everywhere["action_id"],
        value=everywhere["value"],
        block_id="hiloop.decision",
        channel_id=posted["slack"]["channel"],
        message_ts=posted["slack"]["ts"],
    )
    assert running.slack_request(body, headers).status_code == 200

    result = held.body()
    assert result["status"] == "decided"
    assert result["response"]["decision"] == "deploy_all"
    assert result["response"]["responder"]["slack_user_id"] == "U0APPROVE1"
    running.slack.wait_for("chat.update")
    message = running.slack.message(posted["slack"]["channel"], posted["slack"]["ts"])
    assert "Everywhere" in json.dumps(message)
    assert not [b for b in (message or {})["blocks"] if b["type"] == "actions"]


def test_broadcast_is_posted_without_buttons_and_delivered(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(
        key,
        {
            "event": "session.share",
            "session_id": "oz_sess_abc123",
            "title": "Deployed v2.3 to staging",
            "timeout_seconds": 60,
        },
    )

    assert accepted["deadline_at"] is None
    (call,) = running.slack.wait_for("chat.postMessage")
    assert _buttons(call.args) == []

    def delivered() -> dict[str, Any] | None:
        path = f"/interactions/{accepted['interaction_id']}"
        body: dict[str, Any] = running.api("GET", path, key).json()
        return body if body["status"] == "delivered" else None

    body = wait_until(delivered, what="delivered broadcast")
    assert body["response"] is None
    awaited = running.api(
        "GET", f"/interactions/{accepted['interaction_id']}/await", key
    ).json()
    assert awaited["status"] == "delivered"


def test_cancel_is_told_in_the_thread(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])

    running.api("DELETE", f"/interactions/{accepted['interaction_id']}", key)

    channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]
    thread = wait_until(lambda: running.slack.thread(channel, ts), what="thread note")
    assert "Withdrawn" in thread[0]["text"]
