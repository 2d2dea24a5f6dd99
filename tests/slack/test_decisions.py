"""Decisions made in Slack reach the agent's await, once, from the right people."""

import json
import threading
import time
from typing import Any

import httpx

from tests.conftest import SIGNING_SECRET, RunningBridge
from tests.seed import REVIEW_EVENT, approval
from tests.support import slack_requests as sr
from tests.support.server import wait_until

APPROVER = "U0APPROVE1"
STRANGER = "U0STRANGE1"


def _click(
    running: RunningBridge,
    posted: dict[str, Any],
    action_id: str,
    user_id: str = APPROVER,
    *,
    value: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
) -> httpx.Response:
    body, headers = sr.block_actions(
        secret,
        user_id=user_id,
        user_name="alice",
        action_id=action_id,
        value=value or posted["id"],
        block_id="hiloop.decision",
        channel_id=posted["slack"]["channel"],
        message_ts=posted["slack"]["ts"],
        timestamp=timestamp,
    )
    return running.slack_request(body, headers)


def _comment(
    metadata: str, text: str, *, user_id: str = APPROVER
) -> tuple[bytes, dict[str, str]]:
    """A signed submission of the comment modal opened with `metadata`."""
    return sr.view_submission(
        SIGNING_SECRET,
        user_id=user_id,
        callback_id="hiloop.comment",
        private_metadata=metadata,
        values=sr.state_values(
            ("hiloop.comment", "comment", sr.plain_text_input(text))
        ),
    )


class HeldAwait:
    """An await held in a background thread, as an Oz session would hold it."""

    def __init__(self, running: RunningBridge, key: str, interaction_id: str) -> None:
        self.result: httpx.Response | None = None
        self.answered_at = 0.0
        url = f"/interactions/{interaction_id}/await"

        def hold() -> None:
            self.result = running.api("GET", url, key, params={"timeout": 30})
            self.answered_at = time.monotonic()

        self.thread = threading.Thread(target=hold, daemon=True)
        self.thread.start()
        wait_until(lambda: running.bridge.changes.waiting() > 0, what="held await")

    def body(self, timeout: float = 10) -> dict[str, Any]:
        self.thread.join(timeout)
        assert self.result is not None, "the await did not answer"
        assert self.result.status_code == 200, self.result.text
        body: dict[str, Any] = self.result.json()
        return body


def test_approve_click_answers_held_await_with_responder(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])
    held = HeldAwait(running, key, accepted["interaction_id"])

    clicked_at = time.monotonic()
    response = _click(running, posted, "hiloop.approve")

    assert response.status_code == 200
    result = held.body()
    assert held.answered_at - clicked_at < 1.0
    assert result["status"] == "approved"
    assert result["response"]["decision"] == "approved"
    assert result["response"]["responder"]["slack_user_id"] == APPROVER
    assert result["response"]["comment"] is None
    assert result["response"]["responded_at"].endswith("Z")


def test_approve_click_replaces_buttons_and_tells_the_thread(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])

    _click(running, posted, "hiloop.approve")

    running.slack.wait_for("chat.update")
    channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]
    message = running.slack.message(channel, ts)
    assert message is not None
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    shown = json.dumps(message["blocks"])
    assert "Approved" in shown and f"<@{APPROVER}>" in shown
    thread = wait_until(lambda: running.slack.thread(channel, ts), what="thread note")
    assert f"<@{APPROVER}>" in thread[0]["text"]


def test_reject_opens_modal_and_submission_rejects_with_reason(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])
    held = HeldAwait(running, key, accepted["interaction_id"])

    assert _click(running, posted, "hiloop.reject").status_code == 200
    (opened,) = running.slack.wait_for("views.open")
    view = opened.args["view"]
    assert opened.args["trigger_id"]
    assert view["callback_id"] == "hiloop.comment"
    meta = json.loads(view["private_metadata"])
    assert meta == {"id": accepted["interaction_id"], "decision": "rejected"}

    body, headers = _comment(
        view["private_metadata"], "Staging is frozen", user_id=APPROVER
    )
    submitted = running.slack_request(body, headers)

    assert submitted.status_code == 200
    assert submitted.content in (b"", b"{}") or "errors" not in submitted.text
    result = held.body()
    assert result["status"] == "rejected"
    assert result["response"]["decision"] == "rejected"
    assert result["response"]["comment"] == "Staging is frozen"
    assert result["response"]["responder"]["slack_user_id"] == APPROVER


def test_request_changes_needs_a_comment(running: RunningBridge) -> None:
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])
    _click(running, posted, "hiloop.request_changes")
    (opened,) = running.slack.wait_for("views.open")
    meta = opened.args["view"]["private_metadata"]

    body, headers = _comment(meta, "  ", user_id=APPROVER)
    refused = running.slack_request(body, headers)

    assert refused.status_code == 200
    assert refused.json()["response_action"] == "errors"
    assert "hiloop.comment" in refused.json()["errors"]
    current = running.api("GET", f"/interactions/{accepted['interaction_id']}", key)
    assert current.json()["status"] == "pending"

    body, headers = _comment(meta, "Add tests for jwt.ts", user_id=APPROVER)
    assert running.slack_request(body, headers).status_code == 200
    current = running.api("GET", f"/interactions/{accepted['interaction_id']}", key)
    assert current.json()["status"] == "changes_requested"
    assert current.json()["response"]["comment"] == "Add tests for jwt.ts"


def test_click_by_non_approver_changes_nothing_and_answers_ephemerally(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])

    assert _click(running, posted, "hiloop.approve", STRANGER).status_code == 200
    (ephemeral,) = running.slack.wait_for("chat.postEphemeral")

    assert ephemeral.args["user"] == STRANGER
    assert ephemeral.args["channel"] == posted["slack"]["channel"]
    assert "approvers" in ephemeral.args["text"]
    current = running.api("GET", f"/interactions/{accepted['interaction_id']}", key)
    assert current.json()["status"] == "pending"
    assert current.json()["response"] is None
    assert running.slack.calls_to("chat.update") == []


def test_non_approver_gets_no_modal(running: RunningBridge) -> None:
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])

    _click(running, posted, "hiloop.reject", STRANGER)

    running.slack.wait_for("chat.postEphemeral")
    assert running.slack.calls_to("views.open") == []


def test_member_of_approver_group_may_decide(running: RunningBridge) -> None:
    running.slack.usergroups = {"S0DEPLOYS1": ["U0GROUPIE1"]}
    _, key = running.add_agent(approvers=["S0DEPLOYS1"])
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])

    _click(running, posted, "hiloop.approve", "U0GROUPIE1")

    def decided() -> bool:
        path = f"/interactions/{accepted['interaction_id']}"
        return running.api("GET", path, key).json()["status"] == "approved"

    wait_until(decided, what="group member's approval")


def test_anyone_in_channel_may_decide_without_approvers(running: RunningBridge) -> None:
    _, key = running.add_agent(approvers=[])
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])
    held = HeldAwait(running, key, accepted["interaction_id"])

    _click(running, posted, "hiloop.approve", STRANGER)

    assert held.body()["response"]["responder"]["slack_user_id"] == STRANGER


def test_click_on_final_interaction_answers_with_the_decision(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[APPROVER, "U0SECOND01"])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])
    _click(running, posted, "hiloop.approve")
    running.slack.wait_for("chat.update")

    _click(running, posted, "hiloop.request_changes", "U0SECOND01")

    (ephemeral,) = running.slack.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == "U0SECOND01"
    assert "already" in ephemeral.args["text"] and "Approved" in ephemeral.args["text"]
    assert running.slack.calls_to("views.open") == []
    current = running.api("GET", f"/interactions/{accepted['interaction_id']}", key)
    assert current.json()["response"]["responder"]["slack_user_id"] == APPROVER
    assert len(running.slack.calls_to("chat.update")) == 1


def test_unsigned_bad_and_stale_requests_are_refused(running: RunningBridge) -> None:
    _, key = running.add_agent(approvers=[APPROVER])
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])

    stale = _click(running, posted, "hiloop.approve", timestamp=sr.stale_timestamp())
    forged = _click(running, posted, "hiloop.approve", secret="not-the-secret")
    body, headers = sr.block_actions(
        SIGNING_SECRET,
        user_id=APPROVER,
        action_id="hiloop.approve",
        value=posted["id"],
        channel_id=posted["slack"]["channel"],
        message_ts=posted["slack"]["ts"],
    )
    unsigned_headers = {"Content-Type": headers["Content-Type"]}
    unsigned = running.slack_request(body, unsigned_headers)

    assert [stale.status_code, forged.status_code, unsigned.status_code] == [401] * 3
    current = running.api("GET", f"/interactions/{accepted['interaction_id']}", key)
    assert current.json()["status"] == "pending"
    assert running.slack.calls_to("chat.update") == []


def test_modal_submitted_after_another_decision_is_refused_in_the_modal(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[APPROVER, "U0SECOND01"])
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])
    _click(running, posted, "hiloop.reject")
    (opened,) = running.slack.wait_for("views.open")
    _click(running, posted, "hiloop.approve", "U0SECOND01")
    running.slack.wait_for("chat.update")

    body, headers = _comment(
        opened.args["view"]["private_metadata"], "no", user_id=APPROVER
    )
    refused = running.slack_request(body, headers)

    assert refused.json()["response_action"] == "errors"
    assert "approved" in refused.json()["errors"]["hiloop.comment"]
    current = running.api("GET", f"/interactions/{accepted['interaction_id']}", key)
    assert current.json()["status"] == "approved"
