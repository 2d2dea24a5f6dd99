"""Several replicas on one PostgreSQL database act as one bridge."""

import json
from collections.abc import Iterator

import pytest

from app.core.bridge import Responder
from tests.conftest import RunningBridge, bridge_settings, start_bridge
from tests.seed import approval
from tests.slack.test_decisions import HeldAwait
from tests.support.server import wait_until
from tests.support.slack_double import SlackDouble


@pytest.fixture
def replicas(
    postgres_url: str, slack: SlackDouble
) -> Iterator[tuple[RunningBridge, RunningBridge]]:
    settings = bridge_settings(postgres_url, slack)
    first = start_bridge(settings, slack)
    second = start_bridge(settings, slack)
    yield first, second
    for replica in (first, second):
        replica.http.close()
        replica.server.stop()


def test_await_on_one_replica_wakes_for_decision_on_another(
    replicas: tuple[RunningBridge, RunningBridge],
) -> None:
    first, second = replicas
    _, key = first.add_agent()
    second.keys["team"] = key
    accepted = first.send_event(key, approval())
    held = HeldAwait(first, key, accepted["interaction_id"])

    second.bridge.decide(accepted["interaction_id"], "approved", Responder("U0A"))

    assert held.body(timeout=5)["status"] == "approved"


def test_deadline_expires_once_across_replicas(
    replicas: tuple[RunningBridge, RunningBridge], slack: SlackDouble
) -> None:
    first, second = replicas
    _, key = first.add_agent()
    second.keys["team"] = key
    accepted = second.send_event(key, approval(timeout_seconds=1, priority="low"))
    posted = first.posted(accepted["interaction_id"])
    held = HeldAwait(first, key, accepted["interaction_id"])

    assert held.body()["status"] == "expired"

    channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]
    wait_until(lambda: slack.thread(channel, ts), what="expiry note")
    wait_until(lambda: slack.calls_to("chat.update"), what="expiry update")
    # Let both replicas' sweeps and workers run a few more times.
    wait_until(lambda: first.bridge.due_deliveries() == [], what="outbox drained")
    updates = [c for c in slack.calls_to("chat.update") if c.args.get("ts") == ts]
    notes = slack.thread(channel, ts)
    assert len(updates) == 1 and len(notes) == 1
    assert "Expired" in json.dumps(updates[0].args["blocks"])
    posts = [c for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c.args]
    assert len(posts) == 1
