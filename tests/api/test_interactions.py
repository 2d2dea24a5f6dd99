"""Reading, listing, cancelling and messaging interactions through the API."""

import json
from datetime import timedelta
from typing import Any

import pytest

from app import __version__
from tests.conftest import RunningBridge
from tests.seed import MESSAGE_CURL_BODY, REVIEW_EVENT, approval
from tests.support.contract import error_of, rfc3339_time
from tests.support.server import wait_until

CHANNEL = "C0REVIEW1"
JSON_HEADERS = {"Content-Type": "application/json"}
INTERACTION_FIELDS = {
    "id",
    "event_id",
    "session_id",
    "type",
    "interaction_type",
    "title",
    "description",
    "context",
    "priority",
    "status",
    "response",
    "created_at",
    "deadline_at",
    "updated_at",
    "slack",
}
SLACK_FIELDS = {"channel", "ts", "permalink", "delivery", "error"}
MESSAGE_FIELDS = {"id", "interaction_id", "sender", "content", "created_at", "slack_ts"}
EVENT_TYPES = {
    "session.review_request": "review",
    "session.approval_needed": "approval",
    "session.human_input": "chat",
    "session.form_input": "form",
    "session.share": "broadcast",
}


def _get(running: RunningBridge, key: str, interaction_id: str) -> dict[str, Any]:
    response = running.api("GET", f"/interactions/{interaction_id}", key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _say(
    running: RunningBridge, key: str, interaction_id: str, content: str
) -> dict[str, Any]:
    path = f"/interactions/{interaction_id}/messages"
    response = running.api("POST", path, key, json={"content": content})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _messages(
    running: RunningBridge, key: str, interaction_id: str, **params: str
) -> list[dict[str, Any]]:
    path = f"/interactions/{interaction_id}/messages"
    response = running.api("GET", path, key, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"messages"}
    found: list[dict[str, Any]] = body["messages"]
    return found


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every scalar in a nested structure, keyed by its dotted path."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found.update(_leaves(inner, f"{path}.{key}" if path else str(key)))
        return found
    return {path: value}


# GET /interactions/{id} -------------------------------------------------------


def test_interaction_has_every_field_of_the_contract(running: RunningBridge) -> None:
    _, key = running.add_agent(channel=CHANNEL)
    accepted = running.send_event(key, REVIEW_EVENT)

    body = _get(running, key, accepted["interaction_id"])

    assert set(body) == INTERACTION_FIELDS
    assert set(body["slack"]) == SLACK_FIELDS
    assert body["id"] == accepted["interaction_id"]
    assert body["event_id"] == accepted["event_id"]
    assert body["session_id"] == "oz_sess_abc123"
    assert body["type"] == "session.review_request"
    assert body["interaction_type"] == "review"
    assert body["title"] == "Review auth refactor"
    assert body["description"] == "Refactored auth to use JWT middleware"
    assert body["context"] == REVIEW_EVENT["context"]
    assert body["priority"] == "high"
    assert body["status"] == "pending"
    assert body["response"] is None
    assert body["created_at"] == accepted["created_at"]
    assert body["deadline_at"] == accepted["deadline_at"]
    assert rfc3339_time(body["updated_at"]) >= rfc3339_time(body["created_at"])
    assert body["slack"]["channel"] == CHANNEL
    assert body["slack"]["delivery"] in ("queued", "posted")


def test_interaction_without_optional_fields_has_defaults(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, approval())

    body = _get(running, key, accepted["interaction_id"])

    assert body["interaction_type"] == "approval"
    assert body["priority"] == "normal"
    assert body["description"] is None
    assert body["context"] in ({}, None)
    created, deadline = (
        rfc3339_time(body["created_at"]),
        rfc3339_time(body["deadline_at"]),
    )
    assert deadline - created == timedelta(seconds=3600)


def test_interaction_keeps_extra_context_keys(running: RunningBridge) -> None:
    _, key = running.add_agent()
    context = {"branch": "main", "ticket": "OZ-42", "checks": {"lint": "ok"}}

    accepted = running.send_event(key, approval(context=context))

    assert _get(running, key, accepted["interaction_id"])["context"] == context


@pytest.mark.parametrize(("event", "kind"), EVENT_TYPES.items())
def test_interaction_type_follows_the_event(
    running: RunningBridge, event: str, kind: str
) -> None:
    _, key = running.add_agent()
    body: dict[str, Any] = {"event": event, "session_id": "s1", "title": "Hello"}
    if event == "session.form_input":
        body["form"] = {"fields": [{"name": "n", "label": "N", "type": "text"}]}

    accepted = running.send_event(key, body)

    found = _get(running, key, accepted["interaction_id"])
    assert found["type"] == event
    assert found["interaction_type"] == kind


def test_interaction_after_post_shows_slack_ts_and_permalink(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(channel=CHANNEL)
    accepted = running.send_event(key, REVIEW_EVENT)

    posted = running.posted(accepted["interaction_id"])

    slack = posted["slack"]
    assert slack["delivery"] == "posted"
    assert slack["channel"] == CHANNEL
    assert slack["ts"]
    assert slack["permalink"] and slack["permalink"].startswith("https://")
    assert slack["error"] is None
    (call,) = running.slack.calls_to("chat.postMessage")
    assert call.args["channel"] == CHANNEL
    message = running.slack.message(CHANNEL, slack["ts"])
    assert message is not None
    assert "Review auth refactor" in json.dumps(message["blocks"])


def test_interaction_of_unknown_id_is_404(running: RunningBridge) -> None:
    _, key = running.add_agent()

    response = running.api("GET", "/interactions/does-not-exist", key)

    error_of(response, 404, "not_found")


# GET /sessions/{id} -----------------------------------------------------------


def test_session_lists_its_interactions_oldest_first(running: RunningBridge) -> None:
    _, key = running.add_agent()
    ids = [
        running.send_event(key, approval(session_id="s-list", title=f"Step {i}"))[
            "interaction_id"
        ]
        for i in range(4)
    ]
    running.send_event(key, approval(session_id="s-other"))

    response = running.api("GET", "/sessions/s-list", key)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"session_id", "interactions"}
    assert body["session_id"] == "s-list"
    assert [i["id"] for i in body["interactions"]] == ids
    assert [i["title"] for i in body["interactions"]] == [f"Step {i}" for i in range(4)]
    for interaction in body["interactions"]:
        assert set(interaction) == INTERACTION_FIELDS


def test_session_unknown_is_an_empty_list(running: RunningBridge) -> None:
    _, key = running.add_agent()

    response = running.api("GET", "/sessions/oz_sess_never", key)

    assert response.status_code == 200
    assert response.json() == {"session_id": "oz_sess_never", "interactions": []}


# GET /info --------------------------------------------------------------------


def test_info_has_name_version_events_limits_and_agent(running: RunningBridge) -> None:
    _, key = running.add_agent("platform-team")

    response = running.api("GET", "/info", key)

    assert response.status_code == 200
    info = response.json()
    assert isinstance(info["name"], str) and info["name"]
    assert info["version"] == __version__
    assert EVENT_TYPES in info.values()
    agent = info["agent"]
    assert agent == "platform-team" or agent["name"] == "platform-team"
    limits = _leaves(info["limits"])
    shown = set(limits.values())
    for limit in (200, 300, 10_000, 604_800, 20, 60, 50, 1024 * 1024):
        assert limit in shown, f"{limit} missing from limits {limits}"


# DELETE /interactions/{id} ----------------------------------------------------


def test_delete_cancels_pending_interaction(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, REVIEW_EVENT)
    interaction_id = accepted["interaction_id"]

    response = running.api("DELETE", f"/interactions/{interaction_id}", key)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == INTERACTION_FIELDS
    assert body["id"] == interaction_id
    assert body["status"] == "cancelled"
    assert _get(running, key, interaction_id)["status"] == "cancelled"


def test_delete_withdraws_the_slack_message_and_removes_buttons(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(channel=CHANNEL)
    accepted = running.send_event(key, REVIEW_EVENT)
    posted = running.posted(accepted["interaction_id"])
    ts = posted["slack"]["ts"]
    before = running.slack.message(CHANNEL, ts)
    assert before is not None
    assert [b for b in before["blocks"] if b["type"] == "actions"]

    running.api("DELETE", f"/interactions/{accepted['interaction_id']}", key)

    (update,) = running.slack.wait_for("chat.update")
    assert update.args["ts"] == ts
    after = running.slack.message(CHANNEL, ts)
    assert after is not None
    assert not [b for b in after["blocks"] if b["type"] == "actions"]
    assert "withdrawn" in json.dumps(after["blocks"]).lower()


def test_delete_twice_is_409_conflict(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    path = f"/interactions/{interaction_id}"
    assert running.api("DELETE", path, key).status_code == 200

    response = running.api("DELETE", path, key)

    error_of(response, 409, "conflict")
    assert _get(running, key, interaction_id)["status"] == "cancelled"


def test_delete_unknown_interaction_is_404(running: RunningBridge) -> None:
    _, key = running.add_agent()

    error_of(running.api("DELETE", "/interactions/nope", key), 404, "not_found")


# Messages ---------------------------------------------------------------------


def test_message_seed_body_gives_201_with_the_message(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]

    response = running.api(
        "POST",
        f"/interactions/{interaction_id}/messages",
        key,
        content=MESSAGE_CURL_BODY,
        headers=JSON_HEADERS,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == MESSAGE_FIELDS
    assert body["id"]
    assert body["interaction_id"] == interaction_id
    assert body["sender"] == "agent"
    assert body["content"] == "I updated the auth middleware. Can you re-review?"
    rfc3339_time(body["created_at"])


def test_message_is_posted_in_the_interaction_thread(running: RunningBridge) -> None:
    _, key = running.add_agent(channel=CHANNEL)
    accepted = running.send_event(key, REVIEW_EVENT)
    ts = running.posted(accepted["interaction_id"])["slack"]["ts"]

    sent = _say(running, key, accepted["interaction_id"], "Pushed a fix")

    def threaded() -> list[Any]:
        return [
            c
            for c in running.slack.calls_to("chat.postMessage", include_failed=False)
            if c.args.get("thread_ts") == ts
            and "Pushed a fix" in c.args.get("text", "")
        ]

    (call,) = wait_until(threaded, what="thread reply")
    assert call.args["channel"] == CHANNEL

    def stored_ts() -> str | None:
        listed = _messages(running, key, accepted["interaction_id"])
        return listed[0]["slack_ts"]

    assert wait_until(stored_ts, what="message slack_ts") != ts
    assert _messages(running, key, accepted["interaction_id"])[0]["id"] == sent["id"]


def test_message_sent_before_the_post_lands_still_reaches_the_thread(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(channel=CHANNEL)
    running.slack.fail("chat.postMessage", status=500, times=1)
    accepted = running.send_event(key, REVIEW_EVENT)
    running.slack.wait_for("chat.postMessage")

    _say(running, key, accepted["interaction_id"], "Early note")

    ts = running.posted(accepted["interaction_id"])["slack"]["ts"]

    def threaded() -> list[Any]:
        return [
            c
            for c in running.slack.calls_to("chat.postMessage", include_failed=False)
            if c.args.get("thread_ts") == ts and "Early note" in c.args.get("text", "")
        ]

    wait_until(threaded, what="early thread reply")


def test_messages_list_oldest_first(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    sent = [_say(running, key, interaction_id, f"note {i}") for i in range(4)]

    listed = _messages(running, key, interaction_id)

    assert [m["id"] for m in listed] == [m["id"] for m in sent]
    assert [m["content"] for m in listed] == [f"note {i}" for i in range(4)]
    for message in listed:
        assert MESSAGE_FIELDS <= set(message)
        assert message["sender"] == "agent"
        assert message["interaction_id"] == interaction_id


def test_messages_after_pages_from_the_given_message(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    sent = [_say(running, key, interaction_id, f"note {i}") for i in range(4)]

    after_first = _messages(running, key, interaction_id, after=sent[0]["id"])
    after_third = _messages(running, key, interaction_id, after=sent[2]["id"])
    after_last = _messages(running, key, interaction_id, after=sent[3]["id"])

    assert [m["id"] for m in after_first] == [m["id"] for m in sent[1:]]
    assert [m["id"] for m in after_third] == [sent[3]["id"]]
    assert after_last == []


def test_messages_of_new_interaction_are_empty(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]

    assert _messages(running, key, interaction_id) == []


def test_message_on_cancelled_interaction_is_409(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]
    running.api("DELETE", f"/interactions/{interaction_id}", key)

    response = running.api(
        "POST", f"/interactions/{interaction_id}/messages", key, json={"content": "hi"}
    )

    error_of(response, 409, "conflict")
    assert _messages(running, key, interaction_id) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": ""}, "body.content"),
        ({}, "body.content"),
        ({"content": "hi", "sender": "human"}, "body.sender"),
        ({"content": 42}, "body.content"),
    ],
    ids=["empty", "missing", "human-sender", "not-text"],
)
def test_message_invalid_is_422(
    running: RunningBridge, body: dict[str, Any], field: str
) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, REVIEW_EVENT)["interaction_id"]

    response = running.api(
        "POST", f"/interactions/{interaction_id}/messages", key, json=body
    )

    error = error_of(response, 422, "validation_error")
    assert field in [d["field"] for d in error["details"]]
    assert _messages(running, key, interaction_id) == []


def test_message_without_sender_is_an_agent_message(running: RunningBridge) -> None:
    _, key = running.add_agent()
    interaction_id = running.send_event(key, approval())["interaction_id"]

    sent = _say(running, key, interaction_id, "no sender given")

    assert sent["sender"] == "agent"
