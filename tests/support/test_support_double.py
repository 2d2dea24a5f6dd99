"""Tests for the Slack test support: the Web API double and request builders.

They drive the double with the real slack_sdk clients and feed the request
builders to slack_sdk's signature verifier and to a Bolt app.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import (
    FixedValueRetryIntervalCalculator,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from . import slack_requests as sr
from .slack_double import SlackDouble

SECRET = "test-signing-secret"
CHANNEL = "C0APPROVE"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy?*"}}]
DECIDED = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "Approved"}]}]


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    with SlackDouble() as running:
        yield running


@pytest.fixture
def client(double: SlackDouble) -> WebClient:
    return WebClient(token=double.token, base_url=double.url)


def _form(body: bytes) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(parse_qs(body.decode())["payload"][0])
    return payload


def _dispatch(app: App, body: bytes, headers: dict[str, str]) -> int:
    bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
    return app.dispatch(BoltRequest(body=body.decode(), headers=bolt_headers)).status


# The Web API double --------------------------------------------------------


def test_url_is_loopback_and_ends_with_slash(double: SlackDouble) -> None:
    assert double.url.startswith("http://127.0.0.1:")
    assert double.url.endswith("/api/")


def test_post_update_then_read_message(double: SlackDouble, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=CHANNEL, text="Deploy?", blocks=BLOCKS)
    assert posted["ok"] and posted["channel"] == CHANNEL
    assert posted["message"]["bot_id"] == double.bot_id
    assert posted["message"]["user"] == double.bot_user_id

    updated = client.chat_update(
        channel=CHANNEL, ts=posted["ts"], text="Approved", blocks=DECIDED
    )

    assert updated["ts"] == posted["ts"] and updated["text"] == "Approved"
    seen = double.message(CHANNEL, posted["ts"])
    assert seen is not None
    assert seen["blocks"] == DECIDED and seen["text"] == "Approved"
    assert [m["ts"] for m in double.messages(CHANNEL)] == [posted["ts"]]


def test_ts_values_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [
        client.chat_postMessage(channel=CHANNEL, text=str(i))["ts"] for i in range(3)
    ]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3


def test_thread_replies_are_kept_in_order(
    double: SlackDouble, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")["ts"]
    first = client.chat_postMessage(channel=CHANNEL, text="one", thread_ts=parent)
    client.chat_postMessage(channel=CHANNEL, text="two", thread_ts=parent)

    assert first["message"]["thread_ts"] == parent
    assert [m["text"] for m in double.thread(CHANNEL, parent)] == ["one", "two"]
    assert [m["text"] for m in double.messages(CHANNEL)] == ["parent"]
    assert double.message(CHANNEL, parent)["reply_count"] == 2  # type: ignore[index]


def test_fail_twice_then_succeed(double: SlackDouble, client: WebClient) -> None:
    double.fail("chat.postMessage", status=503, times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as failure:
            client.chat_postMessage(channel=CHANNEL, text="hi")
        assert failure.value.response.status_code == 503
    assert client.chat_postMessage(channel=CHANNEL, text="hi")["ok"]

    calls = double.calls_to("chat.postMessage")
    assert [c.failed for c in calls] == [True, True, False]
    assert len(double.messages(CHANNEL)) == 1


def test_sdk_retry_handler_rides_out_server_errors(double: SlackDouble) -> None:
    retry = ServerErrorRetryHandler(
        max_retry_count=2,
        interval_calculator=FixedValueRetryIntervalCalculator(0.01),
    )
    client = WebClient(token=double.token, base_url=double.url, retry_handlers=[retry])
    double.fail(times=2)

    assert client.chat_postMessage(channel=CHANNEL, text="hi")["ok"]
    assert len(double.wait_for("chat.postMessage", count=3)) == 3


def test_fail_with_error_answers_ok_false(
    double: SlackDouble, client: WebClient
) -> None:
    double.fail("chat.update", error="fatal_error")
    ts = client.chat_postMessage(channel=CHANNEL, text="hi")["ts"]

    with pytest.raises(SlackApiError) as failure:
        client.chat_update(channel=CHANNEL, ts=ts, text="bye")

    assert failure.value.response.status_code == 200
    assert failure.value.response["error"] == "fatal_error"
    double.recover()
    assert client.chat_update(channel=CHANNEL, ts=ts, text="bye")["ok"]


def test_fail_for_seconds_expires(double: SlackDouble, client: WebClient) -> None:
    double.fail(seconds=0.2)
    with pytest.raises(SlackApiError):
        client.auth_test()
    time.sleep(0.25)
    assert client.auth_test()["ok"]


def test_rate_limit_is_visible_on_the_error(
    double: SlackDouble, client: WebClient
) -> None:
    double.rate_limit("chat.postMessage", retry_after=3, times=1)

    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel=CHANNEL, text="hi")

    response = limited.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response["error"] == "ratelimited"
    assert double.calls_to("chat.postMessage")[0].status == 429
    assert client.chat_postMessage(channel=CHANNEL, text="hi")["ok"]


def test_wrong_or_missing_token(double: SlackDouble) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=double.url)
    anonymous = WebClient(base_url=double.url)

    with pytest.raises(SlackApiError) as bad:
        wrong.chat_postMessage(channel=CHANNEL, text="hi")
    with pytest.raises(SlackApiError) as missing:
        anonymous.auth_test()

    assert bad.value.response.status_code == 200
    assert bad.value.response["error"] == "invalid_auth"
    assert missing.value.response["error"] == "not_authed"
    assert double.messages(CHANNEL) == []


def test_wait_for_times_out_with_a_helpful_message(
    double: SlackDouble, client: WebClient
) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"chat\.update.*auth\.test"):
        double.wait_for("chat.update", timeout=0.1)


def test_wait_for_wakes_on_a_call_from_another_thread(
    double: SlackDouble, client: WebClient
) -> None:
    poster = threading.Timer(
        0.05, client.chat_postMessage, kwargs={"channel": CHANNEL, "text": "x"}
    )
    poster.start()
    try:
        calls = double.wait_for("chat.postMessage", timeout=5.0)
    finally:
        poster.join(timeout=5.0)
    assert calls[0].args["text"] == "x"


def test_form_and_json_bodies_are_both_parsed(
    double: SlackDouble, client: WebClient
) -> None:
    client.api_call(
        "chat.postMessage",
        params={"channel": CHANNEL, "text": "form", "blocks": json.dumps(BLOCKS)},
    )
    client.api_call(
        "chat.postMessage", json={"channel": CHANNEL, "text": "json", "blocks": BLOCKS}
    )

    form_call, json_call = double.calls_to("chat.postMessage")
    assert form_call.headers["Content-Type"].startswith(
        "application/x-www-form-urlencoded"
    )
    assert json_call.headers["Content-Type"].startswith("application/json")
    assert form_call.args["blocks"] == BLOCKS == json_call.args["blocks"]
    assert [m["blocks"] for m in double.messages(CHANNEL)] == [BLOCKS, BLOCKS]


def test_slack_errors_for_unknown_things(
    double: SlackDouble, client: WebClient
) -> None:
    double.missing_channels.add("CGONE")
    cases: dict[str, Callable[[], object]] = {
        "message_not_found": lambda: client.chat_update(
            channel=CHANNEL, ts="1.2", text="x"
        ),
        "channel_not_found": lambda: client.chat_postMessage(channel="CGONE", text="x"),
        "user_not_found": lambda: client.users_info(user="UNOBODY"),
        "no_such_subteam": lambda: client.usergroups_users_list(usergroup="SNONE"),
        "unknown_method": lambda: client.api_call("chat.frobnicate"),
    }
    for error, call in cases.items():
        with pytest.raises(SlackApiError) as failure:
            call()
        assert failure.value.response["error"] == error


def test_directory_lookups(double: SlackDouble, client: WebClient) -> None:
    double.users["U123"] = {"name": "alice", "real_name": "Alice A"}
    double.usergroups["S0GROUP1"] = ["U1", "U2"]

    user = client.users_info(user="U123")["user"]

    assert (user["id"], user["name"], user["real_name"]) == ("U123", "alice", "Alice A")
    assert user["profile"]["display_name"] == "alice"
    assert client.usergroups_users_list(usergroup="S0GROUP1")["users"] == ["U1", "U2"]
    assert client.auth_test()["user_id"] == double.bot_user_id


def test_ephemeral_permalink_and_views(double: SlackDouble, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="p")["ts"]
    reply = client.chat_postMessage(channel=CHANNEL, text="r", thread_ts=parent)["ts"]
    view = {
        "type": "modal",
        "callback_id": "reject",
        "title": {"type": "plain_text", "text": "Why"},
        "blocks": [],
    }

    eph = client.chat_postEphemeral(
        channel=CHANNEL, user="U123", text="Already decided"
    )
    link = client.chat_getPermalink(channel=CHANNEL, message_ts=reply)["permalink"]
    opened = client.views_open(trigger_id="1.2.abc", view=view)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)

    assert (
        eph["message_ts"]
        and double.ephemerals(CHANNEL, "U123")[0]["text"] == "Already decided"
    )
    assert link.startswith(f"https://example.slack.com/archives/{CHANNEL}/p")
    assert f"thread_ts={parent}" in link
    assert opened["id"].startswith("V") and opened["callback_id"] == "reject"
    assert updated["view"]["hash"] != opened["hash"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)


def test_response_url_replaces_the_original(
    double: SlackDouble, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="Deploy?", blocks=BLOCKS)["ts"]
    hook = WebhookClient(double.response_url(CHANNEL, ts))

    assert (
        hook.send(text="Approved", blocks=DECIDED, replace_original=True).status_code
        == 200
    )
    assert double.message(CHANNEL, ts)["blocks"] == DECIDED  # type: ignore[index]
    assert double.wait_for("response_url")[0].args["replace_original"] is True


def test_delay_slows_every_answer(double: SlackDouble, client: WebClient) -> None:
    double.delay(0.2)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.2


def test_async_client_against_the_double(double: SlackDouble) -> None:
    double.users["U123"] = {"name": "alice", "real_name": "Alice A"}

    async def scenario() -> tuple[str, str, str]:
        client = AsyncWebClient(token=double.token, base_url=double.url)
        posted = await client.chat_postMessage(channel=CHANNEL, text="a", blocks=BLOCKS)
        await client.chat_update(
            channel=CHANNEL, ts=posted["ts"], blocks=DECIDED, text="b"
        )
        user = await client.users_info(user="U123")
        double.rate_limit(retry_after=2, times=1)
        try:
            await client.auth_test()
        except SlackApiError as limited:
            retry_after = limited.response.headers["Retry-After"]
        return posted["ts"], user["user"]["name"], retry_after

    ts, name, retry_after = asyncio.run(scenario())

    assert double.message(CHANNEL, ts)["blocks"] == DECIDED  # type: ignore[index]
    assert (name, retry_after) == ("alice", "2")


# The request builders ------------------------------------------------------


def test_sign_agrees_with_slack_sdk_verifier() -> None:
    verifier = SignatureVerifier(SECRET)
    body, headers = sr.block_actions(
        SECRET,
        user_id="U123",
        action_id="approve",
        value="approve",
        channel_id=CHANNEL,
        message_ts="1700000000.000100",
    )

    assert verifier.is_valid_request(body, headers)
    assert verifier.is_valid_request(body, sr.sign(SECRET, body))
    assert not verifier.is_valid_request(body, sr.sign("other", body))
    assert not verifier.is_valid_request(
        body, sr.sign(SECRET, body, sr.stale_timestamp())
    )
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_block_actions_payload_shape() -> None:
    body, _ = sr.block_actions(
        SECRET,
        user_id="U123",
        action_id="approve",
        value="approve",
        channel_id=CHANNEL,
        message_ts="1700000000.000100",
    )
    payload = _form(body)

    assert payload["type"] == "block_actions"
    assert payload["container"]["message_ts"] == "1700000000.000100"
    assert payload["actions"][0]["block_id"] == "decision"
    assert payload["response_url"].startswith("http://127.0.0.1:")


def test_event_callback_retry_headers() -> None:
    event = sr.message_event(user="U123", text="hi", channel=CHANNEL, thread_ts="1.1")
    body, headers = sr.event_callback(SECRET, event, event_id="Ev1", retry_num=1)
    payload = json.loads(body)

    assert headers["X-Slack-Retry-Num"] == "1"
    assert headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert payload["event_id"] == "Ev1" and payload["type"] == "event_callback"
    assert payload["event"]["client_msg_id"] and payload["event"]["thread_ts"] == "1.1"
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)


def _bolt_app(double: SlackDouble, seen: list[str]) -> App:
    app = App(
        client=WebClient(token=double.token, base_url=double.url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @app.action("approve")
    def on_approve(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.append(f"action:{body['actions'][0]['value']}")

    @app.view("reject")
    def on_reject(ack: Any, view: dict[str, Any]) -> None:
        ack()
        seen.append(f"view:{view['state']['values']['why']['input']['value']}")

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        seen.append(f"message:{event.get('subtype', 'human')}")

    return app


def test_bolt_accepts_the_built_requests(double: SlackDouble) -> None:
    seen: list[str] = []
    app = _bolt_app(double, seen)
    values = sr.state_values(("why", "input", sr.plain_text_input("too risky")))
    requests = [
        sr.block_actions(
            SECRET,
            user_id="U1",
            action_id="approve",
            value="approve",
            channel_id=CHANNEL,
            message_ts="1700000000.000100",
        ),
        sr.view_submission(
            SECRET,
            user_id="U1",
            callback_id="reject",
            private_metadata="x",
            values=values,
        ),
        sr.event_callback(
            SECRET, sr.message_event(user="U1", text="hi", channel=CHANNEL)
        ),
        sr.event_callback(SECRET, sr.channel_join(user="U2", channel=CHANNEL)),
    ]

    statuses = [_dispatch(app, body, headers) for body, headers in requests]

    assert statuses == [200, 200, 200, 200]
    assert seen == [
        "action:approve",
        "view:too risky",
        "message:human",
        "message:channel_join",
    ]


def test_bolt_rejects_a_stale_signature(double: SlackDouble) -> None:
    app = _bolt_app(double, [])
    event = sr.message_event(user="U1", text="hi", channel=CHANNEL)
    body, headers = sr.event_callback(SECRET, event, timestamp=sr.stale_timestamp())

    assert _dispatch(app, body, headers) == 401


def test_url_verification_and_state_helpers() -> None:
    body, headers = sr.url_verification(SECRET, "challenge-abc")
    assert json.loads(body)["challenge"] == "challenge-abc"
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert sr.static_select(("a", "A"))["selected_option"]["value"] == "a"
    assert sr.number_input(3)["value"] == "3"
    assert sr.datepicker("2024-05-01")["selected_date"] == "2024-05-01"
    assert len(sr.multi_static_select(["a", "b"])["selected_options"]) == 2
    assert sr.checkboxes([])["selected_options"] == []
