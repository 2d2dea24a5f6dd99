"""Thread replies: a person's reply answers a chat; nothing else is a reply."""

import json
from typing import Any

from tests.conftest import SIGNING_SECRET, RunningBridge
from tests.seed import MESSAGE_CURL_BODY, REVIEW_EVENT
from tests.slack.test_decisions import HeldAwait
from tests.support import slack_requests as sr
from tests.support.server import wait_until

REVIEWER = "U0REVIEW01"


def _chat(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": "session.human_input",
        "session_id": "oz_sess_abc123",
        "title": "Which database should the cache use?",
    }
    event.update(overrides)
    return event


def _reply(
    running: RunningBridge,
    posted: dict[str, Any],
    text: str,
    user: str = REVIEWER,
    **options: Any,
) -> dict[str, Any]:
    event = sr.message_event(
        user=user,
        text=text,
        channel=posted["slack"]["channel"],
        thread_ts=posted["slack"]["ts"],
        **options,
    )
    _send(running, event)
    return event


def _send(running: RunningBridge, event: dict[str, Any], **options: Any) -> None:
    body, headers = sr.event_callback(SIGNING_SECRET, event, **options)
    response = running.slack_request(body, headers)
    assert response.status_code == 200, response.text


def _messages(running: RunningBridge, key: str, interaction_id: str) -> list[Any]:
    path = f"/interactions/{interaction_id}/messages"
    messages: list[Any] = running.api("GET", path, key).json()["messages"]
    return messages


def test_chat_message_invites_a_thread_reply(running: RunningBridge) -> None:
    _, key = running.add_agent()
    running.send_event(key, _chat())

    (call,) = running.slack.wait_for("chat.postMessage")

    assert "Reply in this message's thread" in json.dumps(call.args["blocks"])
    assert not [b for b in call.args["blocks"] if b["type"] == "actions"]


def test_thread_reply_answers_held_chat_await(running: RunningBridge) -> None:
    running.slack.users = {REVIEWER: {"name": "rita", "real_name": "Rita Review"}}
    _, key = running.add_agent()
    accepted = running.send_event(key, _chat())
    posted = running.posted(accepted["interaction_id"])
    held = HeldAwait(running, key, accepted["interaction_id"])

    _reply(running, posted, "Use Redis, it is already deployed")

    result = held.body()
    assert result["status"] == "responded"
    assert result["response"]["decision"] == "responded"
    assert result["response"]["message"] == "Use Redis, it is already deployed"
    assert result["response"]["responder"]["slack_user_id"] == REVIEWER
    (message,) = _messages(running, key, accepted["interaction_id"])
    assert message["sender"] == "human"
    assert message["author"] == {"slack_user_id": REVIEWER, "name": "rita"}
    assert message["slack_ts"]


def test_agent_message_sets_chat_pending_again(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, _chat())
    interaction_id = accepted["interaction_id"]
    posted = running.posted(interaction_id)
    _reply(running, posted, "Redis")
    wait_until(
        lambda: (
            running.api("GET", f"/interactions/{interaction_id}", key).json()["status"]
            == "responded"
        ),
        what="responded",
    )

    sent = running.api(
        "POST",
        f"/interactions/{interaction_id}/messages",
        key,
        content=MESSAGE_CURL_BODY,
        headers={"Content-Type": "application/json"},
    )

    assert sent.status_code == 201
    current = running.api("GET", f"/interactions/{interaction_id}", key).json()
    assert current["status"] == "pending"
    channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]
    thread = wait_until(lambda: running.slack.thread(channel, ts), what="agent reply")
    assert "Can you re-review?" in thread[0]["text"]


def test_messages_list_agent_and_human_oldest_first(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, REVIEW_EVENT)
    interaction_id = accepted["interaction_id"]
    posted = running.posted(interaction_id)
    path = f"/interactions/{interaction_id}/messages"
    running.api("POST", path, key, json={"content": "first from the agent"})
    _reply(running, posted, "second, from a person")
    wait_until(lambda: len(_messages(running, key, interaction_id)) == 2, what="reply")
    running.api("POST", path, key, json={"content": "third from the agent"})

    messages = _messages(running, key, interaction_id)
    after_first = running.api("GET", path, key, params={"after": messages[0]["id"]})

    assert [m["content"] for m in messages] == [
        "first from the agent",
        "second, from a person",
        "third from the agent",
    ]
    assert [m["sender"] for m in messages] == ["agent", "human", "agent"]
    assert [m["id"] for m in after_first.json()["messages"]] == [
        messages[1]["id"],
        messages[2]["id"],
    ]
    current = running.api("GET", f"/interactions/{interaction_id}", key).json()
    assert current["status"] == "pending"


def test_slack_retry_of_a_reply_stores_one_message(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, _chat())
    posted = running.posted(accepted["interaction_id"])
    event = sr.message_event(
        user=REVIEWER,
        text="only once",
        channel=posted["slack"]["channel"],
        thread_ts=posted["slack"]["ts"],
    )

    _send(running, event, event_id="Ev0RETRY001")
    _send(running, event, event_id="Ev0RETRY001", retry_num=1)
    _send(running, event, event_id="Ev0RETRY001", retry_num=2)

    wait_until(
        lambda: _messages(running, key, accepted["interaction_id"]), what="reply"
    )
    assert len(_messages(running, key, accepted["interaction_id"])) == 1


def test_bot_posts_edits_deletions_and_joins_are_not_replies(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, _chat())
    posted = running.posted(accepted["interaction_id"])
    channel, ts = posted["slack"]["channel"], posted["slack"]["ts"]

    for event in (
        sr.message_event(
            user="UBOT0001",
            text="bot",
            channel=channel,
            thread_ts=ts,
            bot_id="B0TEST01",
        ),
        sr.bot_message(
            bot_id="B0OTHER01", text="other bot", channel=channel, thread_ts=ts
        ),
        sr.message_changed(
            user=REVIEWER,
            channel=channel,
            original_ts=ts,
            text="edited",
            previous_text="old",
            thread_ts=ts,
        ),
        sr.message_deleted(channel=channel, deleted_ts=ts),
        sr.channel_join(user=REVIEWER, channel=channel),
        sr.message_event(user=REVIEWER, text="top level", channel=channel),
    ):
        _send(running, event)
    marker = _reply(running, posted, "the only real reply")

    wait_until(
        lambda: _messages(running, key, accepted["interaction_id"]), what="reply"
    )
    messages = _messages(running, key, accepted["interaction_id"])
    assert [m["content"] for m in messages] == [marker["text"]]


def test_reply_in_unrelated_thread_is_ignored(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, _chat())
    posted = running.posted(accepted["interaction_id"])

    unrelated = sr.message_event(
        user=REVIEWER,
        text="about lunch",
        channel=posted["slack"]["channel"],
        thread_ts="1600000000.000100",
    )
    _send(running, unrelated)
    _reply(running, posted, "marker")

    wait_until(
        lambda: _messages(running, key, accepted["interaction_id"]), what="reply"
    )
    assert [
        m["content"] for m in _messages(running, key, accepted["interaction_id"])
    ] == ["marker"]


def test_reply_from_non_approver_is_kept_but_answers_nothing(
    running: RunningBridge,
) -> None:
    _, key = running.add_agent(approvers=[REVIEWER])
    accepted = running.send_event(key, _chat())
    posted = running.posted(accepted["interaction_id"])

    _reply(running, posted, "I am not on the list", user="U0BYSTAND1")

    wait_until(
        lambda: _messages(running, key, accepted["interaction_id"]), what="reply"
    )
    current = running.api("GET", f"/interactions/{accepted['interaction_id']}", key)
    assert current.json()["status"] == "pending"


def test_reply_of_files_alone_is_named_by_its_files(running: RunningBridge) -> None:
    _, key = running.add_agent()
    accepted = running.send_event(key, _chat())
    posted = running.posted(accepted["interaction_id"])

    _reply(
        running,
        posted,
        "",
        subtype="file_share",
        files=[{"id": "F0FILE001", "name": "plan.pdf"}],
    )

    messages = wait_until(
        lambda: _messages(running, key, accepted["interaction_id"]), what="reply"
    )
    assert messages[0]["content"] == "Shared plan.pdf"
