"""The interaction's Slack message: what it shows, and how it gets there."""

import json
import logging
from typing import Any

import pytest

from tests.conftest import RunningBridge
from tests.seed import REVIEW_EVENT, approval
from tests.support.server import wait_until


def _buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (element["text"]["text"], element["action_id"])
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_review_is_posted_with_approve_and_request_changes(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(channel="C0REVIEW1")
    accepted = running.send_event(key, REVIEW_EVENT)

    (call,) = running.slack.wait_for("chat.postMessage")

    assert call.args["channel"] == "C0REVIEW1"
    assert _buttons(call.args) == [
        ("Approve", "hiloop.approve"),
        ("Request changes", "hiloop.request_changes"),
    ]
    blocks = call.args["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Review auth refactor", "emoji": True},
    }
    shown = json.dumps(blocks)
    for fact in ("acme/backend", "feat/jwt-auth", "src/auth/jwt.ts", "High"):
        assert fact in shown
    assert "<https://warp.dev/oz/sess_abc123|Open in Oz>" in shown
    assert "<!date^" in shown
    assert "Refactored auth to use JWT middleware" in shown
    assert "```" in shown and "jsonwebtoken" in shown
    assert accepted["interaction_id"] in shown


def test_approval_is_posted_with_approve_and_reject(running: RunningBridge) -> None:
    _, key = running.add_agent()
    running.send_event(key, approval())

    (call,) = running.slack.wait_for("chat.postMessage")

    assert _buttons(call.args) == [
        ("Approve", "hiloop.approve"),
        ("Reject", "hiloop.reject"),
    ]


def test_post_records_channel_ts_and_permalink(running: RunningBridge) -> None:
    _, key = running.add_agent(channel="C0REVIEW1")
    accepted = running.send_event(key, REVIEW_EVENT)

    posted = running.posted(accepted["interaction_id"])

    (call,) = running.slack.calls_to("chat.postMessage")
    assert posted["slack"]["channel"] == "C0REVIEW1"
    assert posted["slack"]["delivery"] == "posted"
    assert posted["slack"]["permalink"].startswith("https://")
    assert running.slack.message("C0REVIEW1", posted["slack"]["ts"]) is not None
    assert call.args["channel"] == "C0REVIEW1"


def test_event_text_cannot_ping_mention_or_forge_links(running: RunningBridge) -> None:
    _, key = running.add_agent()
    hostile = "<!channel> <!here> <@U0BOSS> <https://evil.example|your bank> & co"
    running.send_event(
        key,
        approval(
            title=hostile,
            description=hostile,
            context={"branch": hostile, "repository": hostile, "note": hostile},
        ),
    )

    (call,) = running.slack.wait_for("chat.postMessage")

    mrkdwn = json.dumps(
        [call.args["text"]]
        + [
            text
            for block in call.args["blocks"]
            if block["type"] != "header"
            for text in _mrkdwn_texts(block)
        ]
    )
    for forbidden in ("<!channel>", "<!here>", "<@U0BOSS>", "<https://evil"):
        assert forbidden not in mrkdwn
    assert "&lt;!channel&gt;" in mrkdwn
    assert "&amp; co" in mrkdwn


def _mrkdwn_texts(block: dict[str, Any]) -> list[str]:
    texts = []
    if block.get("text", {}).get("type") == "mrkdwn":
        texts.append(block["text"]["text"])
    texts += [field["text"] for field in block.get("fields", [])]
    texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return texts


def test_event_is_accepted_while_slack_is_down_and_posted_later(
    running: RunningBridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="app.slack.delivery")
    _, key = running.add_agent()
    running.slack.fail("chat.postMessage", status=503, times=2)

    accepted = running.send_event(key, REVIEW_EVENT)

    assert accepted["status"] == "pending"
    posted = running.posted(accepted["interaction_id"])
    attempts = running.slack.calls_to("chat.postMessage")
    assert [call.failed for call in attempts] == [True, True, False]
    assert posted["slack"]["delivery"] == "posted"
    assert any("retrying" in record.getMessage() for record in caplog.records)


def test_rate_limited_post_waits_for_retry_after(running: RunningBridge) -> None:
    _, key = running.add_agent()
    running.slack.rate_limit("chat.postMessage", retry_after=1, times=1)

    accepted = running.send_event(key, REVIEW_EVENT)

    running.posted(accepted["interaction_id"])
    first, second = running.slack.calls_to("chat.postMessage")
    assert first.status == 429 and not second.failed
    assert second.at - first.at >= 0.9


def test_unfixable_slack_error_marks_delivery_failed(
    running: RunningBridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="app.slack.delivery")
    running.slack.missing_channels.add("C0GONE0001")
    _, key = running.add_agent(channel="C0GONE0001")
    accepted = running.send_event(key, REVIEW_EVENT)
    path = f"/interactions/{accepted['interaction_id']}"

    def failed() -> dict[str, Any] | None:
        body: dict[str, Any] = running.api("GET", path, key).json()
        return body if body["slack"]["delivery"] == "failed" else None

    body = wait_until(failed, what="failed delivery")

    assert body["slack"]["error"] == "channel_not_found"
    assert body["status"] == "pending"
    assert len(running.slack.calls_to("chat.postMessage")) == 1
    assert any("channel_not_found" in r.getMessage() for r in caplog.records)


def test_post_whose_answer_was_lost_is_not_posted_twice(running: RunningBridge) -> None:
    _, key = running.add_agent(channel="C0REVIEW1")
    running.slack.lose_answers("chat.postMessage", times=1)

    accepted = running.send_event(key, REVIEW_EVENT)

    posted = running.posted(accepted["interaction_id"])
    (call,) = running.slack.calls_to("chat.postMessage")
    assert call.failed and call.status == 504
    assert len(running.slack.messages("C0REVIEW1")) == 1
    assert running.slack.messages("C0REVIEW1")[0]["ts"] == posted["slack"]["ts"]
    assert running.slack.calls_to("conversations.history")


def test_thread_note_whose_answer_was_lost_is_not_posted_twice(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(channel="C0REVIEW1")
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])
    running.slack.lose_answers("chat.postMessage", status=502, times=1)

    running.api(
        "POST", f"/interactions/{posted['id']}/messages", key, json={"content": "hi"}
    )

    thread = wait_until(
        lambda: (
            running.slack.calls_to("conversations.replies")
            and running.slack.thread("C0REVIEW1", posted["slack"]["ts"])
        ),
        what="the reply, checked",
    )
    wait_until(lambda: running.bridge.due_deliveries() == [], what="outbox drained")
    assert (
        len(running.slack.thread("C0REVIEW1", posted["slack"]["ts"]))
        == len(thread)
        == 1
    )
    messages = running.api("GET", f"/interactions/{posted['id']}/messages", key).json()
    assert messages["messages"][0]["slack_ts"] == thread[0]["ts"]


def test_post_after_a_refusal_does_not_look_for_an_earlier_one(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    running.slack.fail("chat.postMessage", error="internal_error", times=1)

    running.posted(running.send_event(key, REVIEW_EVENT)["interaction_id"])

    assert running.slack.calls_to("conversations.history") == []
