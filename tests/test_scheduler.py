"""Deadlines expire on time, once, across restarts; reminders come once."""

import json
import time
from typing import Any

from tests.conftest import RunningBridge, bridge_settings, start_bridge
from tests.seed import approval
from tests.slack.test_decisions import HeldAwait
from tests.support.server import wait_until
from tests.support.slack_double import SlackDouble


def _status(running: RunningBridge, key: str, interaction_id: str) -> str:
    body: dict[str, Any] = running.api(
        "GET", f"/interactions/{interaction_id}", key
    ).json()
    return str(body["status"])


def test_deadline_expires_interaction_and_wakes_await(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, approval(timeout_seconds=1, priority="low"))
    posted = running.posted(accepted["interaction_id"])
    held = HeldAwait(running, key, accepted["interaction_id"])

    result = held.body(timeout=10)

    assert result["status"] == "expired"
    assert result["response"] is None
    channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]
    wait_until(
        lambda: "Expired" in json.dumps(running.slack.message(channel, ts) or {}),
        what="expired message",
    )
    message = running.slack.message(channel, ts) or {}
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    thread = wait_until(lambda: running.slack.thread(channel, ts), what="thread note")
    assert "Expired" in thread[0]["text"]


def test_deadline_expiry_is_on_time(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, approval(timeout_seconds=1, priority="low"))
    held = HeldAwait(running, key, accepted["interaction_id"])
    sent_at = time.monotonic()

    assert held.body()["status"] == "expired"

    # The job fires at the deadline; the sweep alone would be up to 0.5 s late.
    assert 0.5 <= held.answered_at - sent_at < 3.0


def test_decision_removes_the_deadline_job(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, approval(timeout_seconds=600))
    interaction_id = accepted["interaction_id"]
    scheduler = running.server.app.state.deadlines.scheduler
    wait_until(lambda: scheduler.get_job(f"deadline:{interaction_id}"), what="job")
    assert scheduler.get_job(f"reminder:{interaction_id}") is not None

    running.bridge.decide(interaction_id, "approved", _responder())

    wait_until(
        lambda: scheduler.get_job(f"deadline:{interaction_id}") is None,
        what="job removal",
    )
    assert scheduler.get_job(f"reminder:{interaction_id}") is None


def test_sweep_expires_interaction_whose_job_is_missing(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, approval(timeout_seconds=1, priority="low"))
    interaction_id = accepted["interaction_id"]
    scheduler = running.server.app.state.deadlines.scheduler
    job = wait_until(
        lambda: scheduler.get_job(f"deadline:{interaction_id}"), what="job"
    )
    job.remove()

    wait_until(
        lambda: _status(running, key, interaction_id) == "expired",
        timeout=5,
        what="sweep expiry",
    )


def test_restart_expires_overdue_and_reschedules_pending(
    sqlite_url: str, slack: SlackDouble
) -> None:
    settings = bridge_settings(sqlite_url, slack)
    first = start_bridge(settings, slack)
    _, key = first.add_agent()
    overdue = first.send_event(key, approval(timeout_seconds=1, priority="low"))
    later = first.send_event(key, approval(timeout_seconds=4, priority="low"))
    first.posted(later["interaction_id"])
    first.http.close()
    first.server.stop()
    time.sleep(1.2)

    second = start_bridge(settings, slack)
    second.keys["team"] = key
    try:
        assert _status(second, key, overdue["interaction_id"]) == "expired"
        assert _status(second, key, later["interaction_id"]) == "pending"
        scheduler = second.server.app.state.deadlines.scheduler
        assert scheduler.get_job(f"deadline:{later['interaction_id']}") is not None
        held = HeldAwait(second, key, later["interaction_id"])
        assert held.body()["status"] == "expired"
    finally:
        second.http.close()
        second.server.stop()


def test_reminder_posted_once_in_thread(sqlite_url: str, slack: SlackDouble) -> None:
    running = start_bridge(
        bridge_settings(sqlite_url, slack, reminder_share=0.3), slack
    )
    try:
        _, key = running.add_agent(approvers=["U0APPROVE1"])
        accepted = running.send_event(key, approval(timeout_seconds=3, priority="high"))
        posted = running.posted(accepted["interaction_id"])
        channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]

        thread = wait_until(lambda: running.slack.thread(channel, ts), what="reminder")

        assert "Reminder" in thread[0]["text"]
        assert "<@U0APPROVE1>" not in thread[0]["text"]
        held = HeldAwait(running, key, accepted["interaction_id"])
        assert held.body()["status"] == "expired"
        notes = [m["text"] for m in running.slack.thread(channel, ts)]
        assert sum("Reminder" in note for note in notes) == 1
    finally:
        running.http.close()
        running.server.stop()


def test_urgent_reminder_mentions_approvers(
    sqlite_url: str, slack: SlackDouble
) -> None:
    running = start_bridge(
        bridge_settings(sqlite_url, slack, reminder_share=0.2), slack
    )
    try:
        _, key = running.add_agent(approvers=["U0APPROVE1", "S0GROUP001"])
        accepted = running.send_event(
            key, approval(timeout_seconds=5, priority="urgent")
        )
        posted = running.posted(accepted["interaction_id"])
        channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]

        thread = wait_until(lambda: running.slack.thread(channel, ts), what="reminder")

        assert "<@U0APPROVE1>" in thread[0]["text"]
        assert "<!subteam^S0GROUP001>" in thread[0]["text"]
    finally:
        running.http.close()
        running.server.stop()


def test_no_reminder_for_low_priority_or_after_decision(
    sqlite_url: str, slack: SlackDouble
) -> None:
    running = start_bridge(
        bridge_settings(sqlite_url, slack, reminder_share=0.3), slack
    )
    try:
        _, key = running.add_agent()
        low = running.send_event(key, approval(timeout_seconds=2, priority="low"))
        decided = running.send_event(key, approval(timeout_seconds=2, priority="high"))
        running.posted(low["interaction_id"])
        posted = running.posted(decided["interaction_id"])
        running.bridge.decide(decided["interaction_id"], "approved", _responder())

        HeldAwait(running, key, low["interaction_id"]).body()

        channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]
        notes = [m["text"] for m in running.slack.thread(channel, ts)]
        assert not any("Reminder" in note for note in notes)
        low_ts = running.posted(low["interaction_id"])["slack"]["ts"]
        low_notes = [m["text"] for m in running.slack.thread(channel, low_ts)]
        assert not any("Reminder" in note for note in low_notes)
    finally:
        running.http.close()
        running.server.stop()


def _responder() -> Any:
    from app.core.bridge import Responder

    return Responder("U0APPROVE1", "alice")


def test_chat_asked_again_gets_a_fresh_deadline(running: RunningBridge) -> None:
    from tests.slack.test_threads import _chat, _reply

    _, key = running.add_agent()
    accepted = running.send_event(key, _chat(timeout_seconds=2, priority="low"))
    interaction_id = accepted["interaction_id"]
    posted = running.posted(interaction_id)
    _reply(running, posted, "an answer")
    wait_until(
        lambda: _status(running, key, interaction_id) == "responded", what="reply"
    )
    time.sleep(2.2)  # the first deadline passes while the agent reads the reply
    assert _status(running, key, interaction_id) == "responded"

    path = f"/interactions/{interaction_id}/messages"
    running.api("POST", path, key, json={"content": "and a follow-up?"})

    time.sleep(0.8)  # well past the old deadline's job and a sweep
    current = running.api("GET", f"/interactions/{interaction_id}", key).json()
    assert current["status"] == "pending"
    assert current["deadline_at"] > accepted["deadline_at"]
    assert HeldAwait(running, key, interaction_id).body()["status"] == "expired"
