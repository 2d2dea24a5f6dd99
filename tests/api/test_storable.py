"""What is accepted can be stored and read back, on every database."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import RunningBridge, bridge_settings, start_bridge
from tests.seed import approval
from tests.support.contract import error_of
from tests.support.slack_double import SlackDouble


@pytest.fixture
def bridge(database_url: str, slack: SlackDouble) -> Iterator[RunningBridge]:
    running = start_bridge(bridge_settings(database_url, slack), slack)
    yield running
    running.http.close()
    running.server.stop()


SHARE_WITH_CONTEXT = (
    '{"event": "session.share", "session_id": "s", "title": "t", "context": %s}'
)


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _raw(bridge: RunningBridge, key: str, body: str) -> Any:
    headers = {"Content-Type": "application/json"}
    return bridge.api("POST", "/webhook", key, content=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (json.dumps(approval(title="nul \u0000 inside")), "body.title"),
        (json.dumps(approval(session_id="a\u0000")), "body.session_id"),
        (json.dumps(approval(description="\u0000")), "body.description"),
        (
            SHARE_WITH_CONTEXT % '{"ratio": NaN}',
            "body.context.ratio",
        ),
        (
            SHARE_WITH_CONTEXT % '{"big": 1e400}',
            "body.context.big",
        ),
        (json.dumps(approval(context={"deep": _nested(60)})), "body.context.deep"),
    ],
)
def test_unstorable_event_is_422_naming_the_field(
    bridge: RunningBridge, body: str, field: str
) -> None:
    _, key = bridge.add_agent()

    error = error_of(_raw(bridge, key, body), 422, "validation_error")

    assert any(d["field"].startswith(field) for d in error["details"]), error
    sessions = bridge.api("GET", "/sessions/s", key).json()
    assert sessions["interactions"] == []


def test_nested_context_within_the_limit_reads_back(bridge: RunningBridge) -> None:
    _, key = bridge.add_agent()
    context = {"deep": _nested(20)}
    accepted = bridge.send_event(key, approval(context=context))

    read = bridge.api("GET", f"/interactions/{accepted['interaction_id']}", key)

    assert read.status_code == 200
    assert read.json()["context"] == context


def test_unstorable_event_in_batch_names_its_index(bridge: RunningBridge) -> None:
    _, key = bridge.add_agent()
    body = {"events": [approval(), approval(title="\u0000")]}

    response = bridge.api("POST", "/webhook/batch", key, json=body)

    error = error_of(response, 422, "validation_error")
    assert error["details"][0]["field"].startswith("body.events.1")


def test_message_with_nul_is_422(bridge: RunningBridge) -> None:
    _, key = bridge.add_agent()
    accepted = bridge.send_event(key, approval())
    path = f"/interactions/{accepted['interaction_id']}/messages"

    response = bridge.api("POST", path, key, json={"content": "a\u0000b"})

    error_of(response, 422, "validation_error")


@pytest.mark.parametrize(
    "path",
    ["/interactions/%00", "/interactions/%00/await", "/interactions/%00/messages"],
)
def test_odd_ids_are_simply_not_found(bridge: RunningBridge, path: str) -> None:
    _, key = bridge.add_agent()

    error_of(bridge.api("GET", path, key), 404, "not_found")
    if path == "/interactions/%00":
        error_of(bridge.api("DELETE", path, key), 404, "not_found")


def test_odd_session_and_paging_ids_answer_cleanly(bridge: RunningBridge) -> None:
    _, key = bridge.add_agent()
    accepted = bridge.send_event(key, approval())
    messages = f"/interactions/{accepted['interaction_id']}/messages"

    sessions = bridge.api("GET", "/sessions/%00", key)
    paged = bridge.api("GET", messages, key, params={"after": "\u0000"})

    assert sessions.status_code == 200 and sessions.json()["interactions"] == []
    error_of(paged, 404, "not_found")


def test_body_that_does_not_decode_is_422(bridge: RunningBridge) -> None:
    _, key = bridge.add_agent()

    bad_utf8 = _raw(bridge, key, b'{"title": "\xff"}'.decode("latin-1"))
    huge_int = _raw(bridge, key, '{"timeout_seconds": ' + "9" * 5000 + "}")

    error_of(bad_utf8, 422, "validation_error")
    error_of(huge_int, 422, "validation_error")
