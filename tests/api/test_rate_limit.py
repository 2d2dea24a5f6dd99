"""Each agent's requests are capped; the cap answers 429 in the one shape."""

import time
from collections.abc import Iterator

import pytest

from tests.conftest import RunningBridge, bridge_settings, start_bridge
from tests.support.contract import error_of
from tests.support.slack_double import SlackDouble


@pytest.fixture
def limited(sqlite_url: str, slack: SlackDouble) -> Iterator[RunningBridge]:
    settings = bridge_settings(
        sqlite_url, slack, rate_limit_per_second=2, rate_limit_burst=3
    )
    running = start_bridge(settings, slack)
    yield running
    running.http.close()
    running.server.stop()


def test_requests_past_the_burst_are_429_with_retry_after(
    limited: RunningBridge,
) -> None:
    _, key = limited.add_agent()

    answers = [limited.api("GET", "/info", key) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    error_of(answers[3], 429, "rate_limited")
    assert int(answers[3].headers["Retry-After"]) >= 1


def test_one_agents_burst_does_not_limit_another(limited: RunningBridge) -> None:
    _, busy = limited.add_agent("busy")
    _, quiet = limited.add_agent("quiet", channel="C0QUIET01")
    for _ in range(4):
        limited.api("GET", "/info", busy)

    assert limited.api("GET", "/info", quiet).status_code == 200


def test_the_bucket_refills_at_the_rate(limited: RunningBridge) -> None:
    _, key = limited.add_agent()
    for _ in range(4):
        limited.api("GET", "/info", key)

    time.sleep(0.6)

    assert limited.api("GET", "/info", key).status_code == 200


def test_unknown_keys_are_401_before_any_limit(limited: RunningBridge) -> None:
    for _ in range(5):
        error_of(limited.api("GET", "/info", "hlp_" + "x" * 32), 401, "unauthorized")
