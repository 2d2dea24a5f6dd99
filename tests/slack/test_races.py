"""Races through the real stack have one winner that everything agrees on."""

import json
import time
from functools import partial
from typing import Any

import httpx

from tests.conftest import SIGNING_SECRET, RunningBridge
from tests.seed import approval
from tests.support import slack_requests as sr
from tests.support.concurrency import all_at_once
from tests.support.server import wait_until

ROUNDS = 3


def _signed_click(posted: dict[str, Any], user_id: str) -> tuple[bytes, dict[str, str]]:
    return sr.block_actions(
        SIGNING_SECRET,
        user_id=user_id,
        action_id="hiloop.approve",
        value=posted["id"],
        block_id="hiloop.decision",
        channel_id=posted["slack"]["channel"],
        message_ts=posted["slack"]["ts"],
    )


def _settled(running: RunningBridge) -> None:
    wait_until(lambda: running.bridge.due_deliveries() == [], what="outbox drained")


def test_twenty_simultaneous_clicks_make_one_decision_and_one_update(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, approval())
    posted = running.posted(accepted["interaction_id"])
    users = [f"U0CLICK{n:03d}" for n in range(20)]
    requests = [_signed_click(posted, user) for user in users]
    url = running.url + "/slack/events"

    responses = all_at_once(
        [lambda r=r: httpx.post(url, content=r[0], headers=r[1]) for r in requests]
    )

    assert [r.status_code for r in responses] == [200] * 20
    running.slack.wait_for("chat.postEphemeral", count=19, timeout=10)
    _settled(running)
    final = running.api(
        "GET", f"/interactions/{accepted['interaction_id']}", key
    ).json()
    winner = final["response"]["responder"]["slack_user_id"]
    ephemerals = running.slack.calls_to("chat.postEphemeral")
    assert final["status"] == "approved"
    assert sorted(c.args["user"] for c in ephemerals) == sorted(set(users) - {winner})
    assert len(running.slack.calls_to("chat.update")) == 1
    message = running.slack.message(posted["slack"]["channel"], posted["slack"]["ts"])
    assert f"<@{winner}>" in json.dumps(message)


def test_click_racing_cancel_ends_in_one_agreed_state(running: RunningBridge) -> None:
    _, key = running.add_agent()
    for _ in range(ROUNDS):
        accepted = running.send_event(key, approval())
        interaction_id = accepted["interaction_id"]
        posted = running.posted(interaction_id)
        body, headers = _signed_click(posted, "U0CLICKER1")
        url = running.url + "/slack/events"

        click, cancel = all_at_once(
            [
                partial(httpx.post, url, content=body, headers=headers),
                partial(running.api, "DELETE", f"/interactions/{interaction_id}", key),
            ]
        )

        assert click.status_code == 200
        assert cancel.status_code in (200, 409)
        wait_until(partial(_decided, running, key, interaction_id), what="final state")
        _settled(running)
        _assert_agreement(running, key, interaction_id, posted, cancel)


def test_click_racing_deadline_ends_in_one_agreed_state(running: RunningBridge) -> None:
    _, key = running.add_agent()
    created = time.monotonic()
    accepted = running.send_event(key, approval(timeout_seconds=1, priority="low"))
    interaction_id = accepted["interaction_id"]
    posted = running.posted(interaction_id)
    body, headers = _signed_click(posted, "U0CLICKER1")
    # Aim the click at the deadline itself.
    time.sleep(max(0.0, 0.98 - (time.monotonic() - created)))

    running.slack_request(body, headers)

    wait_until(partial(_decided, running, key, interaction_id), what="final state")
    _settled(running)
    _assert_agreement(running, key, interaction_id, posted, None)


def _decided(running: RunningBridge, key: str, interaction_id: str) -> bool:
    current = running.api("GET", f"/interactions/{interaction_id}", key).json()
    return bool(current["status"] != "pending")


def _assert_agreement(
    running: RunningBridge,
    key: str,
    interaction_id: str,
    posted: dict[str, Any],
    cancel: httpx.Response | None,
) -> None:
    final = running.api("GET", f"/interactions/{interaction_id}", key).json()
    awaited = running.api(
        "GET", f"/interactions/{interaction_id}/await", key, params={"timeout": 0}
    ).json()
    message = running.slack.message(posted["slack"]["channel"], posted["slack"]["ts"])
    shown = json.dumps(message)
    label = {"approved": "Approved", "cancelled": "Withdrawn", "expired": "Expired"}
    assert final["status"] in label
    assert awaited["status"] == final["status"]
    assert label[final["status"]] in shown
    assert not [w for w in label.values() if w != label[final["status"]] and w in shown]
    if cancel is not None:
        assert (cancel.status_code == 200) == (final["status"] == "cancelled")
