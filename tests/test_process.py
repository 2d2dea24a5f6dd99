"""The service as a process: graceful stops, hard kills and restarts."""

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import API
from tests.seed import REVIEW_EVENT, approval
from tests.support.process import BridgeProcess
from tests.support.server import wait_until
from tests.support.slack_double import SlackDouble


@pytest.fixture
def service(env: dict[str, str], tmp_path: Path) -> Iterator[BridgeProcess]:
    process = BridgeProcess(env, tmp_path / "bridge.log").start()
    yield process
    process.kill()


def _post(url: str, key: str, event: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{url}{API}/webhook", json=event, headers={"X-API-Key": key}, timeout=10
    )


def test_sigterm_answers_held_awaits_with_current_state(
    service: BridgeProcess, api_key: str
) -> None:
    accepted = _post(service.url, api_key, approval()).json()
    answers: list[httpx.Response] = []

    def hold() -> None:
        answers.append(
            httpx.get(
                f"{service.url}{API}/interactions/{accepted['interaction_id']}/await",
                params={"timeout": 30},
                headers={"X-API-Key": api_key},
                timeout=40,
            )
        )

    holders = [threading.Thread(target=hold) for _ in range(3)]
    for holder in holders:
        holder.start()
    time.sleep(0.5)
    asked_at = time.monotonic()

    service.signal(signal.SIGTERM)

    for holder in holders:
        holder.join(15)
    assert service.wait() in (0, -signal.SIGTERM)
    assert time.monotonic() - asked_at < 10
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert {answer.json()["status"] for answer in answers} == {"pending"}


def test_restart_keeps_every_accepted_event(
    env: dict[str, str], tmp_path: Path, api_key: str, slack: SlackDouble
) -> None:
    slack.fail(status=503)
    first = BridgeProcess(env, tmp_path / "first.log").start()
    ids = [
        _post(first.url, api_key, REVIEW_EVENT).json()["interaction_id"]
        for _ in range(5)
    ]
    first.signal(signal.SIGTERM)
    assert first.wait() in (0, -signal.SIGTERM)
    slack.recover()

    second = BridgeProcess(env, tmp_path / "second.log").start()
    try:
        for interaction_id in ids:
            response = httpx.get(
                f"{second.url}{API}/interactions/{interaction_id}",
                headers={"X-API-Key": api_key},
            )
            assert response.status_code == 200
        posts = wait_until(
            lambda: (
                [c for c in slack.calls_to("chat.postMessage") if not c.failed][:5]
                if len([c for c in slack.calls_to("chat.postMessage") if not c.failed])
                >= 5
                else None
            ),
            timeout=10,
            what="posts after restart",
        )
        assert len(posts) == 5
    finally:
        second.kill()


def test_hard_kill_during_burst_loses_no_accepted_event(
    env: dict[str, str], tmp_path: Path, api_key: str, slack: SlackDouble
) -> None:
    first = BridgeProcess(env, tmp_path / "first.log").start()
    accepted: list[str] = []
    stop = threading.Event()

    def burst() -> None:
        with httpx.Client(timeout=5) as client:
            for _ in range(400):
                if stop.is_set():
                    return
                try:
                    response = client.post(
                        f"{first.url}{API}/webhook",
                        json=REVIEW_EVENT,
                        headers={"X-API-Key": api_key},
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 201:
                    accepted.append(response.json()["interaction_id"])

    senders = [threading.Thread(target=burst) for _ in range(4)]
    for sender in senders:
        sender.start()
    wait_until(lambda: len(accepted) >= 50, timeout=30, what="part of the burst")
    first.kill()
    stop.set()
    for sender in senders:
        sender.join(10)

    second = BridgeProcess(env, tmp_path / "second.log").start()
    try:
        with httpx.Client(
            base_url=second.url, headers={"X-API-Key": api_key}
        ) as client:
            for interaction_id in accepted:
                response = client.get(f"{API}/interactions/{interaction_id}")
                assert response.status_code == 200, interaction_id

        def all_posted() -> bool:
            texts = [
                str(c.args.get("blocks"))
                for c in slack.calls_to("chat.postMessage")
                if not c.failed and "thread_ts" not in c.args
            ]
            return all(any(i in text for text in texts) for i in accepted)

        wait_until(all_posted, timeout=30, what="every accepted event posted")
    finally:
        second.kill()
