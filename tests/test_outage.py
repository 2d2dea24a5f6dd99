"""A thirty-second Slack outage, with a restart in the middle, loses nothing."""

import signal
import sqlite3
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx

from tests.conftest import API
from tests.seed import approval
from tests.support.process import BridgeProcess
from tests.support.server import wait_until
from tests.support.slack_double import SlackDouble

OUTAGE_SECONDS = 30
# Expiry is late by at most a sweep period plus scheduling noise.
ALLOWED_LATENESS = 2.0


def _burst(url: str, key: str, timeouts: list[int], tag: str) -> dict[str, int]:
    accepted = {}
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=10) as client:
        for n, timeout in enumerate(timeouts):
            event = approval(
                title=f"{tag} {n}", timeout_seconds=timeout, priority="low"
            )
            response = client.post(f"{API}/webhook", json=event)
            assert response.status_code == 201, response.text
            accepted[response.json()["interaction_id"]] = timeout
    return accepted


def _top_level_posts(slack: SlackDouble) -> Counter[str]:
    """How many times Slack took a channel message for each interaction id."""
    posts: Counter[str] = Counter()
    for call in slack.calls_to("chat.postMessage"):
        if call.failed or "thread_ts" in call.args:
            continue
        footer = call.args["blocks"][-1]["elements"][0]["text"]
        posts[footer.rsplit("`", 2)[-2]] += 1
    return posts


def _expiry_lateness(db_path: Path, ids: list[str]) -> dict[str, float | None]:
    """Seconds from deadline to expiry, read at full precision from the DB."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT id, status, deadline_at, updated_at FROM interactions"
        ).fetchall()
    lateness: dict[str, float | None] = {}
    for interaction_id, status, deadline, updated in rows:
        if interaction_id in ids:
            late = datetime.fromisoformat(updated) - datetime.fromisoformat(deadline)
            lateness[interaction_id] = (
                late.total_seconds() if status == "expired" else None
            )
    return lateness


def test_outage_with_restart_posts_each_event_once_and_expires_on_time(
    env: dict[str, str], tmp_path: Path, api_key: str, slack: SlackDouble
) -> None:
    db_path = Path(env["HILOOP_DATABASE_URL"].removeprefix("sqlite:///"))
    slack.fail(status=503, seconds=OUTAGE_SECONDS)
    outage_ends = time.monotonic() + OUTAGE_SECONDS
    first = BridgeProcess(env, tmp_path / "first.log").start()
    short = _burst(first.url, api_key, [3 + n % 5 for n in range(20)], "short")
    long = _burst(first.url, api_key, [3600] * 20, "long")
    time.sleep(9)

    first.signal(signal.SIGTERM)
    first.wait()
    second = BridgeProcess(env, tmp_path / "second.log").start()
    try:
        after_restart = _burst(second.url, api_key, [12 + n for n in range(8)], "late")
        assert time.monotonic() < outage_ends, "the outage ended too early to test"
        everything = {**short, **long, **after_restart}

        wait_until(
            lambda: set(_top_level_posts(slack)) >= set(everything),
            timeout=OUTAGE_SECONDS + 30,
            what="every event posted after the outage",
        )
        wait_until(
            lambda: all(
                lateness is not None
                for lateness in _expiry_lateness(
                    db_path, [*short, *after_restart]
                ).values()
            ),
            timeout=30,
            what="every short deadline expired",
        )
    finally:
        second.kill()

    posts = _top_level_posts(slack)
    assert {i: posts[i] for i in everything} == {i: 1 for i in everything}
    lateness = _expiry_lateness(db_path, list(everything))
    for interaction_id in [*short, *after_restart]:
        late = lateness[interaction_id]
        assert late is not None and -0.01 <= late <= ALLOWED_LATENESS, (
            interaction_id,
            late,
        )
    assert all(lateness[interaction_id] is None for interaction_id in long)
