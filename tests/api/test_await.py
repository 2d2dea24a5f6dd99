"""The long-poll: answers at once when there is news, at the timeout otherwise."""

import threading
import time
from typing import Any

import httpx
import pytest

from tests.conftest import RunningBridge
from tests.seed import REVIEW_EVENT
from tests.support.server import wait_until

# Far above what any "at once" answer takes, far below a held timeout.
GENEROUS = 10.0


def _await(
    running: RunningBridge, key: str, interaction_id: str, **params: Any
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = running.api(
        "GET", f"/interactions/{interaction_id}/await", key, params=params
    )
    return response, time.monotonic() - started


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class HeldAwait:
    """An await held in a background thread, as an Oz session holds it."""

    def __init__(
        self, running: RunningBridge, key: str, interaction_id: str, timeout: int = 30
    ) -> None:
        self.response: httpx.Response | None = None
        self.elapsed = 0.0
        waiting_before = running.bridge.changes.waiting()

        def hold() -> None:
            self.response, self.elapsed = _await(
                running, key, interaction_id, timeout=timeout
            )

        self.thread = threading.Thread(target=hold, daemon=True)
        self.thread.start()
        wait_until(
            lambda: (
                running.bridge.changes.waiting() > waiting_before
                or not self.thread.is_alive()
            ),
            what="held await",
        )

    def body(self) -> dict[str, Any]:
        self.thread.join(GENEROUS)
        assert self.response is not None, "the await did not answer"
        return _ok(self.response)


def test_await_on_final_interaction_answers_at_once(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.api("DELETE", f"/interactions/{interaction_id}", key)

    response, elapsed = _await(running, key, interaction_id, timeout=60)

    body = _ok(response)
    assert body["id"] == interaction_id
    assert body["status"] == "cancelled"
    assert elapsed < GENEROUS


def test_await_returns_the_same_object_as_get(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.posted(interaction_id)

    awaited = _ok(_await(running, key, interaction_id, timeout=0)[0])
    got = _ok(running.api("GET", f"/interactions/{interaction_id}", key))

    assert awaited == got


def test_await_timeout_zero_answers_at_once_with_pending(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]

    response, elapsed = _await(running, key, interaction_id, timeout=0)

    body = _ok(response)
    assert body["id"] == interaction_id
    assert body["status"] == "pending"
    assert body["response"] is None
    assert elapsed < GENEROUS


def test_await_timeout_one_answers_after_a_second_with_pending(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.posted(interaction_id)

    response, elapsed = _await(running, key, interaction_id, timeout=1)

    body = _ok(response)
    assert body["status"] == "pending"
    assert body["id"] == interaction_id
    assert 0.9 <= elapsed < GENEROUS


@pytest.mark.parametrize("timeout", ["-1", "61", "abc", "1e9"])
def test_await_bad_timeout_is_422(running: RunningBridge, timeout: str) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]

    response, _ = _await(running, key, interaction_id, timeout=timeout)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "query.timeout" in [d["field"] for d in error["details"]]


def test_await_timeout_sixty_is_allowed(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.api("DELETE", f"/interactions/{interaction_id}", key)

    response, _ = _await(running, key, interaction_id, timeout=60)

    assert _ok(response)["status"] == "cancelled"


def test_await_default_timeout_of_fifty_is_documented_in_info(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()

    limits = _ok(running.api("GET", "/info", key))["limits"]

    awaits = [value for name, value in limits.items() if "await" in name]
    assert awaits, f"no await limits in {limits}"
    shown = str(awaits)
    assert "50" in shown and "60" in shown
    if isinstance(awaits[0], dict):
        assert awaits[0].get("default") == 50
        assert awaits[0].get("max") == 60


def test_await_wakes_when_cancelled_from_another_thread(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.posted(interaction_id)
    held = HeldAwait(running, key, interaction_id, timeout=30)

    cancelled = running.api("DELETE", f"/interactions/{interaction_id}", key)

    assert cancelled.status_code == 200
    body = held.body()
    assert body["id"] == interaction_id
    assert body["status"] == "cancelled"
    assert held.elapsed < GENEROUS


def test_await_held_by_two_clients_wakes_both(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.posted(interaction_id)
    first = HeldAwait(running, key, interaction_id)
    second = HeldAwait(running, key, interaction_id)

    running.api("DELETE", f"/interactions/{interaction_id}", key)

    assert first.body()["status"] == "cancelled"
    assert second.body()["status"] == "cancelled"


def test_await_on_broadcast_answers_at_once(running: RunningBridge) -> None:
    _, key = running.add_agent()
    share = {"event": "session.share", "session_id": "s1", "title": "Deployed v2"}
    interaction_id = running.send_event(key, share)["interaction_id"]

    response, elapsed = _await(running, key, interaction_id, timeout=30)

    body = _ok(response)
    assert body["id"] == interaction_id
    assert body["interaction_type"] == "broadcast"
    assert body["status"] in ("pending", "delivered")
    assert elapsed < GENEROUS


def test_await_on_broadcast_after_post_is_delivered(running: RunningBridge) -> None:
    _, key = running.add_agent()
    share = {"event": "session.share", "session_id": "s1", "title": "Deployed v2"}
    interaction_id = running.send_event(key, share)["interaction_id"]
    running.posted(interaction_id)

    response, elapsed = _await(running, key, interaction_id, timeout=30)

    body = _ok(response)
    assert body["status"] == "delivered"
    assert body["deadline_at"] is None
    assert elapsed < GENEROUS


def test_await_on_unknown_interaction_is_404(running: RunningBridge) -> None:
    _, key = running.add_agent()

    response, elapsed = _await(running, key, "no-such-id", timeout=30)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert elapsed < GENEROUS


def test_await_wakes_for_change_made_while_it_reads(
    running: RunningBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.posted(interaction_id)
    bridge = running.bridge
    read = bridge.get
    reads = []

    def read_then_change(agent: Any, wanted: str) -> Any:
        snapshot = read(agent, wanted)
        if not reads:
            # The change commits after the await read the state, before it waits.
            bridge.cancel(agent, wanted)
        reads.append(snapshot.status)
        return snapshot

    monkeypatch.setattr(bridge, "get", read_then_change)
    started = time.monotonic()

    response = running.api(
        "GET", f"/interactions/{interaction_id}/await", key, params={"timeout": 20}
    )

    assert response.json()["status"] == "cancelled"
    assert reads[0] == "pending"
    assert time.monotonic() - started < 10
