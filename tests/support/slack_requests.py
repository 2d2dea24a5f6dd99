"""Builders for requests *from* Slack to the app, for tests.

Each request builder returns ``(body, headers)`` ready to POST to
``/slack/events``: the body as Slack sends it (form-encoded ``payload=<json>``
for interactions, JSON for the Events API) and the headers with a valid
``X-Slack-Signature`` for the given signing secret. Pass
``timestamp=stale_timestamp()`` to sign with a timestamp Slack's verifier
rejects.

The event builders (``message_event`` and friends) return the inner ``event``
dict to wrap with ``event_callback``.

Default ``response_url`` values point at a closed port on 127.0.0.1, so an app
that posts to them never reaches the internet; use
``SlackDouble.response_url()`` to capture those posts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import secrets
import string
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "VERIFICATION_TOKEN",
    "block_actions",
    "bot_message",
    "channel_join",
    "checkboxes",
    "datepicker",
    "event_callback",
    "message_changed",
    "message_deleted",
    "message_event",
    "multi_static_select",
    "new_ts",
    "number_input",
    "plain_text_input",
    "sign",
    "stale_timestamp",
    "state_values",
    "static_select",
    "url_verification",
    "view_submission",
]

Payload = dict[str, Any]
Headers = dict[str, str]
Request = tuple[bytes, Headers]
Option = str | tuple[str, str]

# Slack still sends the deprecated verification token in every payload.
VERIFICATION_TOKEN = "xVerificationTokenForTests"
TEAM_ID = "T0TEST01"
TEAM_DOMAIN = "example"
APP_ID = "A0TEST01"
BOT_USER_ID = "UBOT0001"
BOT_ID = "B0TEST01"
CHANNEL_NAME = "hiloop"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
STALE_SECONDS = 600
# Port 9 (discard) on loopback: connections are refused, nothing leaves the host.
UNREACHABLE_HOOKS = "http://127.0.0.1:9/actions"
ID_ALPHABET = string.ascii_uppercase + string.digits

_ts_lock = threading.Lock()
_last_ts = [0]
_block_ids = itertools.count(1)


# Signing --------------------------------------------------------------------


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> Headers:
    """``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` for ``body``."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    base = b"v0:" + str(ts).encode("ascii") + b":" + raw
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def stale_timestamp(seconds_ago: int = STALE_SECONDS) -> int:
    """A timestamp older than Slack's five-minute replay window."""
    return int(time.time()) - seconds_ago


def _headers(secret: str, body: bytes, content_type: str, ts: int | None) -> Headers:
    return {"Content-Type": content_type, "User-Agent": USER_AGENT} | sign(
        secret, body, ts
    )


def _form_request(secret: str, payload: Payload, timestamp: int | None) -> Request:
    body = urlencode({"payload": json.dumps(payload)}).encode("utf-8")
    return body, _headers(secret, body, FORM_TYPE, timestamp)


def _json_request(
    secret: str, payload: Payload, timestamp: int | None, extra: Headers
) -> Request:
    body = json.dumps(payload).encode("utf-8")
    return body, _headers(secret, body, JSON_TYPE, timestamp) | extra


# Identifiers ----------------------------------------------------------------


def new_ts() -> str:
    """A unique, increasing message timestamp near now, like ``1712.000100``."""
    with _ts_lock:
        micros = max(int(time.time() * 1_000_000), _last_ts[0] + 1)
        _last_ts[0] = micros
    seconds, fraction = divmod(micros, 1_000_000)
    return f"{seconds}.{fraction:06d}"


def _slack_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def _trigger_id() -> str:
    digits = f"{secrets.randbelow(10**13):013d}"
    return f"{digits}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}"


def _response_url(team_id: str) -> str:
    hook_id = secrets.randbelow(10**13)
    return f"{UNREACHABLE_HOOKS}/{team_id}/{hook_id}/{secrets.token_urlsafe(18)}"


def _block_id() -> str:
    return f"b{next(_block_ids):04d}"


def _plain_text(text: str) -> Payload:
    return {"type": "plain_text", "text": text, "emoji": True}


def _user(user_id: str, user_name: str, team_id: str) -> Payload:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


# Interactions ---------------------------------------------------------------


def block_actions(
    secret: str,
    *,
    user_id: str,
    action_id: str,
    value: str,
    channel_id: str,
    message_ts: str,
    block_id: str = "decision",
    user_name: str = "alice",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    api_app_id: str = APP_ID,
    response_url: str | None = None,
    timestamp: int | None = None,
    message: Payload | None = None,
    button_text: str | None = None,
    channel_name: str = CHANNEL_NAME,
) -> Request:
    """A button click on a message, as Slack posts it to the request URL.

    ``message`` is the message the button sits on (for instance
    ``double.message(channel, ts)``); a bot message with one actions block
    holding the button is made up when it is not given.
    """
    text = button_text if button_text is not None else value.title()
    action = _button_action(action_id, block_id, value, text)
    payload: Payload = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": message or _button_message(message_ts, team_id, action),
        "state": {"values": {}},
        "response_url": response_url or _response_url(team_id),
        "actions": [action],
    }
    return _form_request(secret, payload, timestamp)


def _button_action(action_id: str, block_id: str, value: str, text: str) -> Payload:
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": _plain_text(text),
        "value": value,
        "type": "button",
        "action_ts": new_ts(),
    }


def _button_message(ts: str, team_id: str, action: Payload) -> Payload:
    button = {key: action[key] for key in ("type", "action_id", "text", "value")}
    block = {"type": "actions", "block_id": action["block_id"], "elements": [button]}
    return {
        "type": "message",
        "user": BOT_USER_ID,
        "ts": ts,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "text": "Approval requested",
        "team": team_id,
        "blocks": [block],
    }


def view_submission(
    secret: str,
    *,
    user_id: str,
    callback_id: str,
    private_metadata: str,
    values: Payload,
    user_name: str = "alice",
    view_id: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    trigger_id: str | None = None,
    title: str = "Hiloop",
    blocks: Sequence[Payload] | None = None,
    view_hash: str | None = None,
    response_urls: Sequence[Payload] | None = None,
    timestamp: int | None = None,
) -> Request:
    """A modal submission; ``values`` is Slack's ``view.state.values`` shape."""
    vid = view_id or _slack_id("V", 10)
    view = {
        "id": vid,
        "team_id": team_id,
        "type": "modal",
        "blocks": list(blocks or []),
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": values},
        "hash": view_hash or f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": _plain_text(title),
        "clear_on_close": False,
        "notify_on_close": False,
        "close": _plain_text("Cancel"),
        "submit": _plain_text("Submit"),
        "previous_view_id": None,
        "root_view_id": vid,
        "app_id": api_app_id,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_id(),
        "view": view,
        "response_urls": list(response_urls or []),
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _form_request(secret, payload, timestamp)


# view.state.values ----------------------------------------------------------


def state_values(*entries: tuple[str, str, Payload]) -> Payload:
    """Nest ``(block_id, action_id, value)`` triples into ``state.values``."""
    values: Payload = {}
    for block_id, action_id, value in entries:
        values.setdefault(block_id, {})[action_id] = value
    return values


def plain_text_input(value: str | None) -> Payload:
    return {"type": "plain_text_input", "value": value}


def number_input(value: float | str | None) -> Payload:
    """Slack sends the number as a string."""
    return {"type": "number_input", "value": None if value is None else str(value)}


def _option(option: Option) -> Payload:
    value, text = option if isinstance(option, tuple) else (option, option)
    return {"text": _plain_text(text), "value": value}


def static_select(option: Option | None) -> Payload:
    """``option`` is a value or ``(value, text)``; None means nothing chosen."""
    selected = None if option is None else _option(option)
    return {"type": "static_select", "selected_option": selected}


def multi_static_select(options: Iterable[Option]) -> Payload:
    return {
        "type": "multi_static_select",
        "selected_options": [_option(o) for o in options],
    }


def checkboxes(options: Iterable[Option]) -> Payload:
    return {"type": "checkboxes", "selected_options": [_option(o) for o in options]}


def datepicker(day: dt.date | str | None) -> Payload:
    selected = day.isoformat() if isinstance(day, dt.date) else day
    return {"type": "datepicker", "selected_date": selected}


# Events API -----------------------------------------------------------------


def event_callback(
    secret: str,
    event: Payload,
    *,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
    event_time: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    timestamp: int | None = None,
) -> Request:
    """An Events API delivery wrapping ``event``.

    Give the same ``event_id`` with ``retry_num`` to build Slack's retry of an
    earlier delivery; ``retry_reason`` defaults to ``http_timeout`` then.
    """
    payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or _slack_id("Ev", 10),
        "event_time": event_time if event_time is not None else _event_time(event),
        "authorizations": [_authorization(team_id, bot_user_id)],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    return _json_request(
        secret, payload, timestamp, _retry_headers(retry_num, retry_reason)
    )


def _event_time(event: Payload) -> int:
    stamp = event.get("event_ts") or event.get("ts")
    return int(float(stamp)) if stamp else int(time.time())


def _authorization(team_id: str, bot_user_id: str) -> Payload:
    return {
        "enterprise_id": None,
        "team_id": team_id,
        "user_id": bot_user_id,
        "is_bot": True,
        "is_enterprise_install": False,
    }


def _retry_headers(retry_num: int | None, retry_reason: str | None) -> Headers:
    if retry_num is None:
        return {}
    return {
        "X-Slack-Retry-Num": str(retry_num),
        "X-Slack-Retry-Reason": retry_reason or "http_timeout",
    }


def url_verification(
    secret: str, challenge: str, *, timestamp: int | None = None
) -> Request:
    """The handshake Slack sends when the request URL is configured."""
    payload = {
        "token": VERIFICATION_TOKEN,
        "challenge": challenge,
        "type": "url_verification",
    }
    return _json_request(secret, payload, timestamp, {})


# Message events -------------------------------------------------------------


def _rich_text(text: str) -> list[Payload]:
    section = {
        "type": "rich_text_section",
        "elements": [{"type": "text", "text": text}],
    }
    return [{"type": "rich_text", "block_id": _block_id(), "elements": [section]}]


def _base_message(channel: str, ts: str | None, channel_type: str) -> Payload:
    stamp = ts or new_ts()
    return {
        "type": "message",
        "channel": channel,
        "ts": stamp,
        "event_ts": stamp,
        "channel_type": channel_type,
    }


def message_event(
    *,
    user: str,
    text: str,
    channel: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    subtype: str | None = None,
    bot_id: str | None = None,
    parent_user_id: str | None = None,
    channel_type: str = "channel",
    team: str = TEAM_ID,
    blocks: Sequence[Payload] | None = None,
    client_msg_id: str | None = None,
    **extra: Any,
) -> Payload:
    """A ``message`` event.

    Without ``subtype`` and ``bot_id`` it is a person's post: it carries
    ``client_msg_id`` and the ``rich_text`` blocks Slack clients send. With
    ``bot_id`` it is an app's post (``user`` is then the bot user). In a thread
    give ``thread_ts`` (the parent's ts) and, if known, ``parent_user_id``.
    """
    event = _base_message(channel, ts, channel_type)
    event.update({"user": user, "text": text, "team": team})
    if subtype is not None:
        event["subtype"] = subtype
    if bot_id is not None:
        event.update(_bot_fields(bot_id, team))
    if subtype is None and bot_id is None:
        event["client_msg_id"] = client_msg_id or str(uuid.uuid4())
        event["blocks"] = list(blocks) if blocks is not None else _rich_text(text)
    elif blocks is not None:
        event["blocks"] = list(blocks)
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        if parent_user_id is not None:
            event["parent_user_id"] = parent_user_id
    event.update(extra)
    return event


def _bot_fields(bot_id: str, team: str) -> Payload:
    profile = {
        "id": bot_id,
        "deleted": False,
        "name": "hiloop",
        "updated": 1_700_000_000,
        "app_id": APP_ID,
        "team_id": team,
    }
    return {"bot_id": bot_id, "app_id": APP_ID, "bot_profile": profile}


def bot_message(
    *,
    bot_id: str,
    text: str,
    channel: str,
    ts: str | None = None,
    thread_ts: str | None = None,
    username: str = "hiloop",
    channel_type: str = "channel",
) -> Payload:
    """A ``bot_message`` subtype event (an integration's post, no ``user``)."""
    event = _base_message(channel, ts, channel_type)
    event.update(
        {"subtype": "bot_message", "text": text, "bot_id": bot_id, "username": username}
    )
    event["icons"] = {}
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return event


def message_changed(
    *,
    user: str,
    channel: str,
    original_ts: str,
    text: str,
    previous_text: str,
    thread_ts: str | None = None,
    ts: str | None = None,
    channel_type: str = "channel",
) -> Payload:
    """A ``message_changed`` event: ``user`` edited ``original_ts``."""
    event = _base_message(channel, ts, channel_type)
    edit_ts = event["ts"]
    message: Payload = {"type": "message", "user": user, "text": text}
    previous: Payload = {"type": "message", "user": user, "text": previous_text}
    message["ts"] = previous["ts"] = original_ts
    if thread_ts is not None:
        message["thread_ts"] = previous["thread_ts"] = thread_ts
    message["edited"] = {"user": user, "ts": edit_ts}
    event.update(
        {
            "subtype": "message_changed",
            "hidden": True,
            "message": message,
            "previous_message": previous,
        }
    )
    return event


def message_deleted(
    *,
    channel: str,
    deleted_ts: str,
    previous_message: Payload | None = None,
    ts: str | None = None,
    channel_type: str = "channel",
) -> Payload:
    """A ``message_deleted`` event for the message at ``deleted_ts``."""
    event = _base_message(channel, ts, channel_type)
    event.update({"subtype": "message_deleted", "hidden": True})
    event["deleted_ts"] = deleted_ts
    if previous_message is not None:
        event["previous_message"] = previous_message
    return event


def channel_join(
    *,
    user: str,
    channel: str,
    user_name: str = "alice",
    inviter: str | None = None,
    ts: str | None = None,
    team: str = TEAM_ID,
    channel_type: str = "channel",
) -> Payload:
    """A ``channel_join`` subtype event: ``user`` joined ``channel``."""
    event = _base_message(channel, ts, channel_type)
    event.update(
        {
            "subtype": "channel_join",
            "user": user,
            "text": f"<@{user}|{user_name}> has joined the channel",
            "team": team,
        }
    )
    if inviter is not None:
        event["inviter"] = inviter
    return event
