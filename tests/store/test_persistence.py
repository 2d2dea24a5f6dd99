"""What the bridge stores outlives the process, and keys are kept only as hashes."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, inspect, select

from app.core.bridge import Bridge
from app.store.db import create_schema, make_engine
from tests.conftest import RunningBridge, bridge_settings, start_bridge
from tests.seed import REVIEW_EVENT, approval
from tests.support.slack_double import SlackDouble


def _stop(running: RunningBridge) -> None:
    running.http.close()
    running.server.stop()


@pytest.fixture
def started(slack: SlackDouble) -> Iterator[list[RunningBridge]]:
    """Bridges started by a test; whatever is still running is stopped after."""
    bridges: list[RunningBridge] = []
    yield bridges
    for running in bridges:
        if running.server.thread.is_alive():
            _stop(running)


def _start(
    started: list[RunningBridge], url: str, slack: SlackDouble, **overrides: Any
) -> RunningBridge:
    running = start_bridge(bridge_settings(url, slack, **overrides), slack)
    started.append(running)
    return running


def _get(running: RunningBridge, key: str, path: str) -> dict[str, Any]:
    response = running.api("GET", path, key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _all_rows(engine: Engine) -> str:
    """Every row of every table, as one text to search."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = [
            repr(row)
            for table in metadata.sorted_tables
            for row in connection.execute(select(table))
        ]
    return "\n".join(rows)


def _sqlite_bytes(path: Path) -> bytes:
    """The database file and its WAL/shared-memory companions, as stored."""
    parts = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]
    return b"".join(p.read_bytes() for p in parts if p.exists())


def test_interaction_and_key_survive_a_restart(
    database_url: str, slack: SlackDouble, started: list[RunningBridge]
) -> None:
    first = _start(started, database_url, slack)
    _, key = first.add_agent("survivor")
    accepted = first.send_event(key, REVIEW_EVENT)
    interaction_id = accepted["interaction_id"]
    before = first.posted(interaction_id)
    _stop(first)

    second = _start(started, database_url, slack)

    after = _get(second, key, f"/interactions/{interaction_id}")
    assert after["id"] == interaction_id
    assert after["event_id"] == accepted["event_id"]
    assert after["title"] == REVIEW_EVENT["title"]
    assert after["context"] == REVIEW_EVENT["context"]
    assert after["priority"] == "high"
    assert after["status"] == "pending"
    assert after["created_at"] == before["created_at"]
    assert after["deadline_at"] == before["deadline_at"]
    assert after["slack"]["ts"] == before["slack"]["ts"]
    assert after["slack"]["delivery"] == "posted"
    session = _get(second, key, f"/sessions/{REVIEW_EVENT['session_id']}")
    assert [i["id"] for i in session["interactions"]] == [interaction_id]
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_messages_survive_a_restart(
    database_url: str, slack: SlackDouble, started: list[RunningBridge]
) -> None:
    first = _start(started, database_url, slack)
    _, key = first.add_agent("survivor")
    interaction_id = first.send_event(key, REVIEW_EVENT)["interaction_id"]
    path = f"/interactions/{interaction_id}/messages"
    response = first.api("POST", path, key, json={"content": "still there?"})
    assert response.status_code == 201, response.text
    sent = response.json()
    _stop(first)

    second = _start(started, database_url, slack)

    messages = _get(second, key, path)["messages"]
    assert [m["id"] for m in messages] == [sent["id"]]
    assert messages[0]["content"] == "still there?"
    assert messages[0]["created_at"] == sent["created_at"]


def test_cancel_after_restart_still_updates_the_slack_message(
    database_url: str, slack: SlackDouble, started: list[RunningBridge]
) -> None:
    first = _start(started, database_url, slack)
    _, key = first.add_agent("survivor")
    interaction_id = first.send_event(key, REVIEW_EVENT)["interaction_id"]
    posted = first.posted(interaction_id)
    _stop(first)
    second = _start(started, database_url, slack)

    response = second.api("DELETE", f"/interactions/{interaction_id}", key)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    (update,) = slack.wait_for("chat.update")
    assert update.args["ts"] == posted["slack"]["ts"]


def test_queued_post_survives_a_restart(
    database_url: str, slack: SlackDouble, started: list[RunningBridge]
) -> None:
    offline = _start(started, database_url, slack, slack_bot_token=None)
    _, key = offline.add_agent("patient")
    interaction_id = offline.send_event(key, approval())["interaction_id"]
    queued = _get(offline, key, f"/interactions/{interaction_id}")
    assert queued["slack"]["delivery"] == "queued"
    assert queued["slack"]["ts"] is None
    _stop(offline)
    assert slack.calls_to("chat.postMessage") == []

    online = _start(started, database_url, slack)
    online.keys["patient"] = key

    posted = online.posted(interaction_id)
    assert posted["slack"]["delivery"] == "posted"
    assert len(slack.calls_to("chat.postMessage", include_failed=False)) == 1


def test_revoked_key_stays_revoked_after_a_restart(
    database_url: str, slack: SlackDouble, started: list[RunningBridge]
) -> None:
    first = _start(started, database_url, slack)
    _, key = first.add_agent("leaver")
    first.bridge.revoke_agent("leaver")
    _stop(first)

    second = _start(started, database_url, slack)

    response = second.api("GET", "/info", key)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_key_survives_a_new_engine_on_the_same_database(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    new = Bridge(engine).create_agent("direct", "C0123ABCD", ["U0456"])
    engine.dispose()

    reopened = make_engine(database_url)
    try:
        agent = Bridge(reopened).authenticate(new.api_key)
    finally:
        reopened.dispose()

    assert agent is not None
    assert agent.id == new.agent.id
    assert agent.approvers == ["U0456"]


def test_key_is_stored_only_as_a_hash_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    bridge = Bridge(engine)
    first = bridge.create_agent("hashed-agent", "C0123ABCD")
    second = bridge.rotate_key("hashed-agent")
    stored = _sqlite_bytes(path)
    engine.dispose()
    stored += _sqlite_bytes(path)

    assert b"hashed-agent" in stored
    for key in (first.api_key, second.api_key):
        assert key.encode() not in stored
        assert key.removeprefix("hlp_").encode() not in stored


def test_key_is_stored_only_as_a_hash_in_any_table(engine: Engine) -> None:
    bridge = Bridge(engine)
    first = bridge.create_agent("hashed-agent", "C0123ABCD")
    second = bridge.rotate_key("hashed-agent")

    rows = _all_rows(engine)

    assert "hashed-agent" in rows
    for key in (first.api_key, second.api_key):
        assert key not in rows
        assert key.removeprefix("hlp_") not in rows


def test_tables_are_created_on_first_start(
    database_url: str, slack: SlackDouble, started: list[RunningBridge]
) -> None:
    probe = make_engine(database_url)
    try:
        assert inspect(probe).get_table_names() == []
    finally:
        probe.dispose()

    running = _start(started, database_url, slack)

    probe = make_engine(database_url)
    try:
        assert inspect(probe).get_table_names()
    finally:
        probe.dispose()
    _, key = running.add_agent("first-start")
    assert running.api("POST", "/webhook", key, json=approval()).status_code == 201


def test_second_start_on_an_existing_schema_keeps_the_data(
    database_url: str, slack: SlackDouble, started: list[RunningBridge]
) -> None:
    first = _start(started, database_url, slack)
    _, key = first.add_agent("again")
    interaction_id = first.send_event(key, approval())["interaction_id"]
    _stop(first)

    second = _start(started, database_url, slack)
    third_key = second.add_agent("newcomer", channel="C0OTHER01")[1]

    assert _get(second, key, f"/interactions/{interaction_id}")["id"] == interaction_id
    assert second.api("GET", "/info", third_key).status_code == 200
