"""API keys: who may call, and what another agent's caller may learn (nothing)."""

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import RunningBridge
from tests.seed import REVIEW_EVENT
from tests.support.contract import error_of

MISSING_ID = str(uuid.uuid4())
SESSION = REVIEW_EVENT["session_id"]
MESSAGE = {"content": "Any news?", "sender": "agent"}

# Every route of the integration, with a body it would accept.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/webhook", REVIEW_EVENT),
    ("POST", "/webhook/batch", {"events": [REVIEW_EVENT]}),
    ("GET", f"/interactions/{MISSING_ID}", None),
    ("GET", f"/interactions/{MISSING_ID}/await?timeout=0", None),
    ("POST", f"/interactions/{MISSING_ID}/messages", MESSAGE),
    ("GET", f"/interactions/{MISSING_ID}/messages", None),
    ("GET", f"/sessions/{SESSION}", None),
    ("DELETE", f"/interactions/{MISSING_ID}", None),
    ("GET", "/info", None),
]
ROUTE_IDS = [f"{method} {path.split('?')[0]}" for method, path, _ in ROUTES]

# Keys that must never open the door.
BAD_KEYS = {
    "unknown": "hlp_" + "A" * 32,
    "malformed": "not-a-key",
    "prefix-only": "hlp_",
    "too-long": "hlp_" + "A" * 33,
    "empty": "",
}


def _call(
    running: RunningBridge,
    key: str | None,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> httpx.Response:
    return (
        running.api(method, path, key, json=body)
        if body
        else running.api(method, path, key)
    )


def _no_interactions(running: RunningBridge, key: str) -> bool:
    listed = running.api("GET", f"/sessions/{SESSION}", key).json()
    return listed["interactions"] == []


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_route_without_key_is_401(
    running: RunningBridge, method: str, path: str, body: dict[str, Any] | None
) -> None:
    _, key = running.add_agent()

    response = _call(running, None, method, path, body)

    error_of(response, 401, "unauthorized")
    assert _no_interactions(running, key)


@pytest.mark.parametrize("bad", BAD_KEYS.values(), ids=BAD_KEYS.keys())
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_route_with_bad_key_is_401(
    running: RunningBridge,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    bad: str,
) -> None:
    _, key = running.add_agent()

    response = _call(running, bad, method, path, body)

    error_of(response, 401, "unauthorized")
    assert _no_interactions(running, key)


def test_key_in_another_header_is_401(running: RunningBridge) -> None:
    _, key = running.add_agent()

    response = running.api(
        "GET", "/info", None, headers={"Authorization": f"Bearer {key}"}
    )

    error_of(response, 401, "unauthorized")


def test_revoked_agent_key_is_401_at_once(running: RunningBridge) -> None:
    _, key = running.add_agent("leaver")
    assert running.api("GET", "/info", key).status_code == 200
    accepted = running.send_event(key, REVIEW_EVENT)

    running.bridge.revoke_agent("leaver")

    error_of(running.api("GET", "/info", key), 401, "unauthorized")
    error_of(
        running.api("POST", "/webhook", key, json=REVIEW_EVENT), 401, "unauthorized"
    )
    path = f"/interactions/{accepted['interaction_id']}"
    error_of(running.api("GET", path, key), 401, "unauthorized")


def test_rotated_away_key_is_401_and_new_key_works(running: RunningBridge) -> None:
    _, old = running.add_agent("rotating")
    accepted = running.send_event(old, REVIEW_EVENT)

    new = running.bridge.rotate_key("rotating").api_key

    assert new != old
    error_of(running.api("GET", "/info", old), 401, "unauthorized")
    path = f"/interactions/{accepted['interaction_id']}"
    error_of(running.api("GET", path, old), 401, "unauthorized")
    assert running.api("GET", path, new).status_code == 200
    assert running.api("POST", "/webhook", new, json=REVIEW_EVENT).status_code == 201


def test_revoking_one_agent_leaves_others_working(running: RunningBridge) -> None:
    _, gone = running.add_agent("gone")
    _, kept = running.add_agent("kept", channel="C0OTHER01")

    running.bridge.revoke_agent("gone")

    error_of(running.api("GET", "/info", gone), 401, "unauthorized")
    assert running.api("GET", "/info", kept).status_code == 200


OWNED_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/interactions/{id}", None),
    ("GET", "/interactions/{id}/await?timeout=0", None),
    ("DELETE", "/interactions/{id}", None),
    ("POST", "/interactions/{id}/messages", MESSAGE),
    ("GET", "/interactions/{id}/messages", None),
]
OWNED_IDS = [f"{method} {path.split('?')[0]}" for method, path, _ in OWNED_ROUTES]


@pytest.mark.parametrize(("method", "path", "body"), OWNED_ROUTES, ids=OWNED_IDS)
def test_other_agents_interaction_is_404_like_a_missing_one(
    running: RunningBridge, method: str, path: str, body: dict[str, Any] | None
) -> None:
    _, owner = running.add_agent("owner")
    _, other = running.add_agent("other", channel="C0OTHER01")
    theirs = running.send_event(owner, REVIEW_EVENT)["interaction_id"]

    foreign = _call(running, other, method, path.format(id=theirs), body)
    missing = _call(running, other, method, path.format(id=MISSING_ID), body)

    foreign_error = error_of(foreign, 404, "not_found")
    missing_error = error_of(missing, 404, "not_found")
    assert foreign.headers["content-type"] == missing.headers["content-type"]
    assert foreign_error["details"] == missing_error["details"]
    assert foreign_error["message"].replace(theirs, "ID") == missing_error[
        "message"
    ].replace(MISSING_ID, "ID")


def test_other_agent_can_neither_cancel_nor_message_an_interaction(
    running: RunningBridge,
) -> None:
    _, owner = running.add_agent("owner")
    _, other = running.add_agent("other", channel="C0OTHER01")
    theirs = running.send_event(owner, REVIEW_EVENT)["interaction_id"]

    running.api("DELETE", f"/interactions/{theirs}", other)
    running.api("POST", f"/interactions/{theirs}/messages", other, json=MESSAGE)

    seen = running.api("GET", f"/interactions/{theirs}", owner).json()
    assert seen["status"] == "pending"
    messages = running.api("GET", f"/interactions/{theirs}/messages", owner).json()
    assert messages["messages"] == []


def test_other_agents_session_is_an_empty_list(running: RunningBridge) -> None:
    _, owner = running.add_agent("owner")
    _, other = running.add_agent("other", channel="C0OTHER01")
    running.send_event(owner, REVIEW_EVENT)

    response = running.api("GET", f"/sessions/{SESSION}", other)

    assert response.status_code == 200
    assert response.json() == {"session_id": SESSION, "interactions": []}


def test_info_names_the_calling_agent_not_another(running: RunningBridge) -> None:
    running.add_agent("first")
    _, second = running.add_agent("second", channel="C0OTHER01")

    info = running.api("GET", "/info", second).json()

    assert "second" in str(info.get("agent"))
    assert "first" not in str(info.get("agent"))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/interactions"),
        ("POST", "/webhooks"),
        ("GET", "/interactions/x/y/z"),
    ],
)
def test_unknown_route_is_404_in_the_error_shape(
    running: RunningBridge, method: str, path: str
) -> None:
    _, key = running.add_agent()

    error_of(running.api(method, path, key), 404, "not_found")
    error_of(running.api(method, path, None), 404, "not_found")


def test_unknown_route_outside_the_api_is_404_in_the_error_shape(
    running: RunningBridge,
) -> None:
    error_of(running.http.get("/v2/anything"), 404, "not_found")


def test_wrong_method_answers_in_the_error_shape(running: RunningBridge) -> None:
    _, key = running.add_agent()

    response = running.api("PUT", "/webhook", key, json=REVIEW_EVENT)

    assert response.status_code == 405
    error_of(response, 405, response.json()["error"]["code"])
    assert _no_interactions(running, key)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/webhook", {"event": "nope"}),
        ("POST", "/webhook/batch", {"events": []}),
        ("GET", f"/interactions/{MISSING_ID}/await?timeout=abc", None),
        ("POST", f"/interactions/{MISSING_ID}/messages", {"content": ""}),
    ],
    ids=["webhook", "batch", "await", "messages"],
)
def test_invalid_request_without_key_is_401_before_validation(
    running: RunningBridge, method: str, path: str, body: dict[str, Any] | None
) -> None:
    error_of(_call(running, None, method, path, body), 401, "unauthorized")
