"""A Slack Web API double for tests.

`SlackDouble` is a real HTTP server on 127.0.0.1 (the OS picks the port) that
answers the Web API methods Hiloop Bridge uses with the shapes Slack documents.
It keeps the messages and views it was asked to create, so a test can read what
a user would see; it records every call; and it fails, rate-limits or slows
down on demand. Like Slack, it refuses blocks and views that break Block Kit's
limits (``invalid_blocks``, ``msg_blocks_too_long``, ``msg_too_long``,
``invalid_arguments``), so a test that posts through it proves Slack would
take the post.

Point slack_sdk at it with ``WebClient(token=double.token, base_url=double.url)``
(or ``AsyncWebClient``). For ``response_url`` replies, hand the app a URL from
``double.response_url(channel, message_ts)``; those posts are recorded as calls
to the pseudo-method ``"response_url"``.

``apps.connections.open`` takes only the app-level token (``double.app_token``,
in the Authorization header, as Slack requires) and answers with
``double.connections_url()``: by default a WebSocket URL on a closed port of
127.0.0.1; point it at a Socket Mode double (``tests/support/socket_double.py``)
to accept the connection. Bot methods refuse the app token, and the other way
round, with ``not_allowed_token_type``.
"""

from __future__ import annotations

import copy
import http
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Call", "SlackDouble"]

API_PREFIX = "/api/"
# Methods that take the app-level token (xapp-) instead of the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# Port 9 (discard) on loopback: a WebSocket URL nothing answers at.
UNREACHABLE_SOCKET = "ws://127.0.0.1:9/link/"
HOOK_PREFIX = "/actions/"
RESPONSE_URL_METHOD = "response_url"
TEAM_DOMAIN = "example"
TS_BASE_SECONDS = 1_700_000_000
TS_STEP_MICROS = 100
# Arguments that arrive as JSON strings in form-encoded requests.
JSON_ARGS = frozenset({"attachments", "blocks", "metadata", "view", "unfurls"})
CONTENT_ARGS = ("text", "blocks", "attachments")
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

Args = dict[str, Any]
Handler = Callable[[Args], Args]


@dataclass(frozen=True)
class Call:
    """One request the double received.

    ``failed`` is True whenever the answer was not a success: an injected
    failure, a rate limit, a bad token, or a Slack error such as
    ``message_not_found``. ``status`` and ``error`` say which.
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    failed: bool = False
    status: int = 200
    error: str | None = None
    http_verb: str = "POST"


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status != 200 or self.error is not None


@dataclass
class _Fault:
    method: str | None
    answer: _Answer
    remaining: int | None
    deadline: float | None
    # Do what the call asks, then answer with the fault (a lost answer).
    after_effect: bool = False

    def applies_to(self, method: str) -> bool:
        return self.method is None or self.method == method

    def expired(self, now: float) -> bool:
        used_up = self.remaining is not None and self.remaining <= 0
        return used_up or (self.deadline is not None and now >= self.deadline)


@dataclass(frozen=True)
class _Incoming:
    verb: str
    headers: dict[str, str]
    query: str
    raw: bytes
    content_type: str

    def args(self) -> Args:
        """The query string and body merged; raises ValueError on bad JSON."""
        return _parse_args(self.query, self.raw, self.content_type)

    def unparsed(self) -> Args:
        return {"_unparsed_body": self.raw.decode("utf-8", errors="replace")}


class _SlackError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []


def _dump(payload: Args) -> bytes:
    return json.dumps(payload).encode("utf-8")


def _ok(payload: Args) -> _Answer:
    return _Answer(200, _dump({"ok": True, **payload}))


def _err(
    error: str,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
    messages: list[str] | None = None,
) -> _Answer:
    payload: Args = {"ok": False, "error": error}
    if messages:
        payload["response_metadata"] = {"messages": messages}
    return _Answer(status, _dump(payload), headers=headers, error=error)


def _plain(status: int) -> _Answer:
    phrase = http.HTTPStatus(status).phrase
    return _Answer(status, phrase.encode("utf-8"), TEXT_TYPE, error=phrase)


def _maybe_json(key: str, value: Any) -> Any:
    if key not in JSON_ARGS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_body(raw: bytes, content_type: str) -> Args:
    if not raw:
        return {}
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind == "application/json":
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body is not an object")
        return data
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    return {}


def _parse_args(query: str, raw: bytes, content_type: str) -> Args:
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    args.update(_parse_body(raw, content_type))
    return {key: _maybe_json(key, value) for key, value in args.items()}


def _header(headers: dict[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _bearer(headers: dict[str, str]) -> str | None:
    value = _header(headers, "Authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _require_content(args: Args) -> None:
    if not any(args.get(key) for key in CONTENT_ARGS):
        raise _SlackError("no_text")


def _view_arg(args: Args) -> Args:
    view = _maybe_json("view", args.get("view"))
    if not isinstance(view, dict):
        raise _SlackError("invalid_arguments")
    _check_view(view)
    return view


def _is_top_level(message: Args) -> bool:
    return message.get("thread_ts") in (None, message["ts"])


# Block Kit limits ----------------------------------------------------------
#
# The double refuses what Slack documents it refuses, so a test that posts
# through it proves the blocks would be accepted: `invalid_blocks` for a
# message, `invalid_arguments` for a view, each with Slack's
# `response_metadata.messages` naming what broke and where.

MESSAGE_BLOCKS_MAX = 50
MODAL_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
# Slack's cap on all text of a message's blocks together: undocumented, about
# 12 000 characters as reported in slackapi/bolt-js#2509.
BLOCKS_TEXT_MAX = 12_000
TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
FIELDS_MAX = 10
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
ID_MAX = 255
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
LABEL_MAX = 2000
PLACEHOLDER_MAX = 150
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
SELECT_OPTIONS_MAX = 100
CHOICE_OPTIONS_MAX = 10
TEXT_INPUT_MAX = 3000
MARKDOWN_BLOCK_MAX = 12_000
MODAL_TITLE_MAX = 24
PRIVATE_METADATA_MAX = 3000
BUTTON_STYLES = ("primary", "danger")
TEXT_TYPES = ("plain_text", "mrkdwn")
SELECTS = ("static_select", "multi_static_select")
CHOICES = ("checkboxes", "radio_buttons")


class _BlockKit:
    """Collects what breaks Block Kit's rules, as `message [json-pointer:path]`."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"[ERROR] {message} [json-pointer:{path}]")

    def blocks(self, blocks: Any, path: str, most: int) -> None:
        if not isinstance(blocks, list):
            self.fail(path, "must be an array")
            return
        if len(blocks) > most:
            self.fail(path, f"no more than {most} items allowed")
        block_ids: set[str] = set()
        for index, block in enumerate(blocks):
            self.block(block, f"{path}/{index}", block_ids)

    def block(self, block: Any, path: str, ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.fail(path, "must be an object")
            return
        self.block_id(block.get("block_id"), path, ids)
        kind = block.get("type")
        check = {
            "header": self.header,
            "section": self.section,
            "context": self.context,
            "actions": self.actions,
            "divider": lambda _block, _path: None,
            "markdown": self.markdown,
            "input": self.input,
        }.get(str(kind))
        if check is not None:
            check(block, path)
        elif kind not in ("image", "rich_text", "video", "file"):
            self.fail(f"{path}/type", f"unsupported block type {kind!r}")

    def block_id(self, block_id: Any, path: str, ids: set[str]) -> None:
        if block_id is None:
            return
        if not isinstance(block_id, str) or not 0 < len(block_id) <= ID_MAX:
            self.fail(f"{path}/block_id", f"must be 1 to {ID_MAX} characters")
        elif block_id in ids:
            self.fail(f"{path}/block_id", "must be unique in the message")
        else:
            ids.add(block_id)

    def text(self, obj: Any, path: str, most: int, *, plain: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
            self.fail(path, "must be a text object")
            return
        if plain and obj["type"] != "plain_text":
            self.fail(f"{path}/type", "must be plain_text")
        text = obj.get("text")
        if not isinstance(text, str) or not 0 < len(text) <= most:
            self.fail(f"{path}/text", f"must be 1 to {most} characters")

    def header(self, block: Args, path: str) -> None:
        self.text(block.get("text"), f"{path}/text", HEADER_TEXT_MAX, plain=True)

    def section(self, block: Args, path: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail(path, "must have text or fields")
        if "text" in block:
            self.text(block["text"], f"{path}/text", TEXT_MAX)
        if "fields" in block:
            self.items(block["fields"], f"{path}/fields", FIELDS_MAX)
            for index, field in enumerate(_list(block["fields"])):
                self.text(field, f"{path}/fields/{index}", FIELD_TEXT_MAX)
        if "accessory" in block:
            self.element(block["accessory"], f"{path}/accessory", set())

    def context(self, block: Args, path: str) -> None:
        elements = block.get("elements")
        self.items(elements, f"{path}/elements", CONTEXT_ELEMENTS_MAX)
        for index, element in enumerate(_list(elements)):
            if isinstance(element, dict) and element.get("type") == "image":
                continue
            self.text(element, f"{path}/elements/{index}", TEXT_MAX)

    def actions(self, block: Args, path: str) -> None:
        elements = block.get("elements")
        self.items(elements, f"{path}/elements", ACTIONS_ELEMENTS_MAX)
        action_ids: set[str] = set()
        for index, element in enumerate(_list(elements)):
            self.element(element, f"{path}/elements/{index}", action_ids)

    def markdown(self, block: Args, path: str) -> None:
        text = block.get("text")
        if not isinstance(text, str) or not 0 < len(text) <= MARKDOWN_BLOCK_MAX:
            self.fail(f"{path}/text", f"must be 1 to {MARKDOWN_BLOCK_MAX} characters")

    def input(self, block: Args, path: str) -> None:
        self.text(block.get("label"), f"{path}/label", LABEL_MAX, plain=True)
        if "hint" in block:
            self.text(block["hint"], f"{path}/hint", LABEL_MAX, plain=True)
        if not isinstance(block.get("element"), dict):
            self.fail(f"{path}/element", "is required")
            return
        self.element(block["element"], f"{path}/element", set())

    def items(self, items: Any, path: str, most: int) -> None:
        if not isinstance(items, list) or not 0 < len(items) <= most:
            self.fail(path, f"must hold 1 to {most} items")

    def element(self, element: Any, path: str, action_ids: set[str]) -> None:
        if not isinstance(element, dict):
            self.fail(path, "must be an object")
            return
        self.action_id(element.get("action_id"), path, action_ids)
        if "placeholder" in element:
            self.text(
                element["placeholder"],
                f"{path}/placeholder",
                PLACEHOLDER_MAX,
                plain=True,
            )
        kind = element.get("type")
        if kind == "button":
            self.button(element, path)
        elif kind == "plain_text_input":
            self.text_input(element, path)
        elif kind in SELECTS:
            self.options(element, path, SELECT_OPTIONS_MAX)
        elif kind in CHOICES:
            self.options(element, path, CHOICE_OPTIONS_MAX)

    def action_id(self, action_id: Any, path: str, action_ids: set[str]) -> None:
        if action_id is None:
            return
        if not isinstance(action_id, str) or not 0 < len(action_id) <= ID_MAX:
            self.fail(f"{path}/action_id", f"must be 1 to {ID_MAX} characters")
        elif action_id in action_ids:
            self.fail(f"{path}/action_id", "must be unique in its block")
        else:
            action_ids.add(action_id)

    def button(self, button: Args, path: str) -> None:
        self.text(button.get("text"), f"{path}/text", BUTTON_TEXT_MAX, plain=True)
        self.most(button.get("value"), f"{path}/value", BUTTON_VALUE_MAX)
        self.most(button.get("url"), f"{path}/url", URL_MAX)
        if "style" in button and button["style"] not in BUTTON_STYLES:
            self.fail(f"{path}/style", "must be primary or danger")

    def text_input(self, element: Args, path: str) -> None:
        for key in ("min_length", "max_length"):
            value = element.get(key)
            if value is not None and not (
                isinstance(value, int) and 0 <= value <= TEXT_INPUT_MAX
            ):
                self.fail(f"{path}/{key}", f"must be 0 to {TEXT_INPUT_MAX}")
        self.most(element.get("initial_value"), f"{path}/initial_value", TEXT_INPUT_MAX)

    def options(self, element: Args, path: str, most: int) -> None:
        options = element.get("options")
        if options is None and "option_groups" in element:
            return
        self.items(options, f"{path}/options", most)
        for index, option in enumerate(_list(options)):
            self.option(option, f"{path}/options/{index}")

    def option(self, option: Any, path: str) -> None:
        if not isinstance(option, dict):
            self.fail(path, "must be an object")
            return
        self.text(option.get("text"), f"{path}/text", OPTION_TEXT_MAX)
        value = option.get("value")
        if not isinstance(value, str) or not 0 < len(value) <= OPTION_VALUE_MAX:
            self.fail(f"{path}/value", f"must be 1 to {OPTION_VALUE_MAX} characters")
        if "description" in option:
            self.text(option["description"], f"{path}/description", OPTION_TEXT_MAX)

    def most(self, value: Any, path: str, most: int) -> None:
        if value is not None and (not isinstance(value, str) or len(value) > most):
            self.fail(path, f"must be at most {most} characters")


_tickets = itertools.count(1)


def _unreachable_socket_url() -> str:
    return f"{UNREACHABLE_SOCKET}?ticket={next(_tickets)}&app_id=A0TEST01"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text_size(value: Any) -> int:
    """The characters of every text object in a JSON value."""
    if isinstance(value, list):
        return sum(_text_size(item) for item in value)
    if not isinstance(value, dict):
        return 0
    own = value.get("text") if value.get("type") in TEXT_TYPES else None
    if isinstance(own, str):
        return len(own)
    return sum(_text_size(item) for item in value.values())


def _check_message(args: Args) -> None:
    """Refuse a message Slack would refuse: too long, or blocks it rejects."""
    text = args.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        raise _SlackError("msg_too_long")
    if "blocks" not in args:
        return
    blocks = args["blocks"]
    if isinstance(blocks, str):
        raise _SlackError("invalid_blocks_format")
    rules = _BlockKit()
    rules.blocks(blocks, "/blocks", MESSAGE_BLOCKS_MAX)
    if rules.problems:
        raise _SlackError("invalid_blocks", rules.problems)
    if _text_size(blocks) > BLOCKS_TEXT_MAX:
        raise _SlackError("msg_blocks_too_long")


def _check_view(view: Args) -> None:
    """Refuse a modal Slack would refuse, as `invalid_arguments`."""
    rules = _BlockKit()
    if view.get("type", "modal") != "modal":
        rules.fail("/view/type", "must be modal")
    rules.text(view.get("title"), "/view/title", MODAL_TITLE_MAX, plain=True)
    for key in ("submit", "close"):
        if key in view:
            rules.text(view[key], f"/view/{key}", MODAL_TITLE_MAX, plain=True)
    blocks = view.get("blocks")
    rules.blocks(blocks, "/view/blocks", MODAL_BLOCKS_MAX)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if has_input and "submit" not in view:
        rules.fail("/view/submit", "is required when the view has input blocks")
    rules.most(
        view.get("private_metadata"), "/view/private_metadata", PRIVATE_METADATA_MAX
    )
    rules.most(view.get("callback_id"), "/view/callback_id", ID_MAX)
    rules.most(view.get("external_id"), "/view/external_id", ID_MAX)
    if rules.problems:
        raise _SlackError("invalid_arguments", rules.problems)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, double: SlackDouble) -> None:
        self.double = double
        super().__init__(("127.0.0.1", 0), _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.double._serve(self, "GET")

    def do_POST(self) -> None:
        self.server.double._serve(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def _read_body(request: _RequestHandler) -> bytes:
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length > 0 else b""


def _write(request: _RequestHandler, answer: _Answer) -> None:
    try:
        request.send_response(answer.status)
        request.send_header("Content-Type", answer.content_type)
        request.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(answer.body)
    except (BrokenPipeError, ConnectionResetError):
        pass


class SlackDouble:
    """An in-process Slack Web API on 127.0.0.1, for tests.

    Seed ``users``, ``usergroups`` and ``missing_channels`` before the app
    calls; read ``calls``, ``message()``, ``thread()``, ``messages()``,
    ``ephemerals()`` and ``view()`` afterwards.
    """

    def __init__(
        self,
        token: str = "xoxb-test-token",
        bot_user_id: str = "UBOT0001",
        team_id: str = "T0TEST01",
        *,
        bot_id: str = "B0TEST01",
        app_id: str = "A0TEST01",
        bot_name: str = "hiloop",
        app_token: str = "xapp-1-A0TEST01-1-apptoken",
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.connections_url: Callable[[], str] = _unreachable_socket_url
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.bot_name = bot_name
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.missing_channels: set[str] = set()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._delay_seconds = 0.0
        self._calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._clear_state()
        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "usergroups.users.list": self._usergroup_users,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "users.info": self._users_info,
            "apps.connections.open": self._connections_open,
        }

    # Lifecycle -----------------------------------------------------------

    def start(self) -> SlackDouble:
        """Start serving on 127.0.0.1 with an OS-chosen port."""
        if self._server is not None:
            raise RuntimeError("SlackDouble is already running")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-double",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending delayed answers are released at once."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5.0)
        self._server, self._thread = None, None

    def __enter__(self) -> SlackDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SlackDouble is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL for slack_sdk, ending with a slash."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    def response_url(
        self, channel: str | None = None, message_ts: str | None = None
    ) -> str:
        """A response_url served by this double, tied to a message if given."""
        with self._lock:
            key = f"{next(self._ids):08d}"
            self._hooks[key] = (channel, message_ts)
        return f"http://127.0.0.1:{self.port}{HOOK_PREFIX}{self.team_id}/{key}/hook"

    # Recorded calls ------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, include_failed: bool = True) -> list[Call]:
        with self._lock:
            return [
                call
                for call in self._calls
                if call.method == method and (include_failed or not call.failed)
            ]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        *,
        include_failed: bool = True,
    ) -> list[Call]:
        """Block until ``count`` calls to ``method`` were recorded; return them."""

        def enough() -> bool:
            return len(self.calls_to(method, include_failed=include_failed)) >= count

        with self._changed:
            if not self._changed.wait_for(enough, timeout=timeout):
                raise AssertionError(self._timeout_message(method, count, timeout))
            return self.calls_to(method, include_failed=include_failed)

    def reset(self, *, state: bool = False) -> None:
        """Forget recorded calls; with ``state=True`` also messages, views, faults."""
        with self._lock:
            self._calls.clear()
            if state:
                self._clear_state()
                self._faults.clear()
                self._delay_seconds = 0.0

    # What a user would see -----------------------------------------------

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The current state of a message (after any chat.update)."""
        with self._lock:
            found = self._find(channel, ts)
            return copy.deepcopy(found) if found is not None else None

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level posts in a channel, in the order they were posted."""
        with self._lock:
            posted = self._channel_messages.get(channel, [])
            return [copy.deepcopy(m) for m in posted if _is_top_level(m)]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies posted with ``thread_ts``, in order (the parent excluded)."""
        with self._lock:
            posted = self._channel_messages.get(channel, [])
            return [
                copy.deepcopy(m)
                for m in posted
                if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
            ]

    def ephemerals(
        self, channel: str | None = None, user: str | None = None
    ) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral and ephemeral response_url)."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if channel in (None, e["channel"]) and user in (None, e["user"])
            ]

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The current state of a view opened with views.open."""
        with self._lock:
            found = self._views.get(view_id)
            return copy.deepcopy(found) if found is not None else None

    # Failure on demand ---------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        *,
        status: int = 500,
        error: str | None = None,
        times: int | None = None,
        seconds: float | None = None,
    ) -> None:
        """Fail calls to ``method`` (all methods if None).

        Answers HTTP ``status`` with a plain body, or HTTP 200 with
        ``{"ok": false, "error": error}`` when ``error`` is given. Stops after
        ``times`` calls, after ``seconds``, or at ``recover()``.
        """
        answer = _err(error) if error is not None else _plain(status)
        self._add_fault(method, answer, times, seconds)

    def rate_limit(
        self,
        method: str | None = None,
        *,
        retry_after: int = 1,
        times: int | None = None,
        seconds: float | None = None,
    ) -> None:
        """Answer HTTP 429 with ``Retry-After`` and ``error: ratelimited``."""
        headers = (("Retry-After", str(retry_after)),)
        self._add_fault(method, _err("ratelimited", 429, headers), times, seconds)

    def lose_answers(
        self, method: str | None = None, *, status: int = 504, times: int = 1
    ) -> None:
        """Carry out calls to ``method``, then answer HTTP ``status`` anyway.

        What a client sees when Slack took a write but the answer was lost on
        the way back: retrying blindly would write twice.
        """
        self._add_fault(method, _plain(status), times, None, after_effect=True)

    def recover(self, method: str | None = None) -> None:
        """End injected failures: all of them, or those set for ``method``."""
        with self._lock:
            if method is None:
                self._faults.clear()
            else:
                self._faults = [f for f in self._faults if f.method != method]

    def delay(self, seconds: float) -> None:
        """Make every answer wait ``seconds`` (0 turns it off)."""
        if seconds < 0:
            raise ValueError("delay must not be negative")
        with self._lock:
            self._delay_seconds = float(seconds)

    # Internals: state ----------------------------------------------------

    def _clear_state(self) -> None:
        self._channel_messages: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._hooks: dict[str, tuple[str | None, str | None]] = {}
        self._last_micros = 0
        self._ids = itertools.count(1)

    def _next_ts(self) -> str:
        # Like Slack's: the posting time in microseconds, unique and increasing.
        micros = max(int(time.time() * 1_000_000), self._last_micros + TS_STEP_MICROS)
        self._last_micros = micros
        seconds, fraction = divmod(micros, 1_000_000)
        return f"{seconds}.{fraction:06d}"

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        posted = self._channel_messages.get(channel, [])
        return next((m for m in posted if m["ts"] == ts), None)

    def _add_fault(
        self,
        method: str | None,
        answer: _Answer,
        times: int | None,
        seconds: float | None,
        *,
        after_effect: bool = False,
    ) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        deadline = time.monotonic() + seconds if seconds is not None else None
        with self._lock:
            self._faults.append(_Fault(method, answer, times, deadline, after_effect))

    def _timeout_message(self, method: str, count: int, timeout: float) -> str:
        with self._lock:
            seen = [c.method for c in self._calls]
        got = seen.count(method)
        return (
            f"expected at least {count} call(s) to {method} within {timeout}s, "
            f"got {got}; all calls so far: {seen}"
        )

    # Internals: serving --------------------------------------------------

    def _serve(self, request: _RequestHandler, verb: str) -> None:
        parts = urlsplit(request.path)
        incoming = _Incoming(
            verb=verb,
            headers=dict(request.headers.items()),
            query=parts.query,
            raw=_read_body(request),
            content_type=request.headers.get("Content-Type") or "",
        )
        if parts.path.startswith(API_PREFIX):
            answer = self._answer_api(parts.path[len(API_PREFIX) :], incoming)
        elif parts.path.startswith(HOOK_PREFIX):
            answer = self._answer_hook(parts.path[len(HOOK_PREFIX) :], incoming)
        else:
            answer = _plain(404)
        self._pause()
        _write(request, answer)

    def _answer_api(self, method: str, incoming: _Incoming) -> _Answer:
        try:
            args = incoming.args()
        except ValueError:
            return self._record(
                method, incoming.unparsed(), incoming, _err("invalid_json")
            )
        with self._lock:
            fault = self._fault_for(method)
            if fault is not None and not fault.after_effect:
                return self._record(method, args, incoming, fault.answer)
            answer = (
                self._unknown_answer(method)
                or self._auth_answer(method, args, incoming.headers)
                or self._dispatch(self._handlers[method], args)
            )
            if fault is not None:
                answer = fault.answer
            return self._record(method, args, incoming, answer)

    def _answer_hook(self, path: str, incoming: _Incoming) -> _Answer:
        segments = path.split("/")
        key = segments[1] if len(segments) > 1 else ""
        try:
            args = incoming.args()
        except ValueError:
            args = incoming.unparsed()
        with self._lock:
            answer = self._fault_answer(RESPONSE_URL_METHOD) or self._hook(key, args)
            return self._record(RESPONSE_URL_METHOD, args, incoming, answer)

    def _hook(self, key: str, args: Args) -> _Answer:
        if key not in self._hooks:
            return _plain(404)
        return self._dispatch(lambda hook_args: self._respond(key, hook_args), args)

    def _record(
        self, method: str, args: Args, incoming: _Incoming, answer: _Answer
    ) -> _Answer:
        call = Call(
            method=method,
            args=copy.deepcopy(args),
            headers=incoming.headers,
            at=time.monotonic(),
            failed=answer.failed,
            status=answer.status,
            error=answer.error,
            http_verb=incoming.verb,
        )
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return answer

    def _pause(self) -> None:
        with self._lock:
            seconds = self._delay_seconds
        if seconds > 0:
            self._stopping.wait(timeout=seconds)

    def _fault_answer(self, method: str) -> _Answer | None:
        fault = self._fault_for(method)
        return fault.answer if fault is not None else None

    def _fault_for(self, method: str) -> _Fault | None:
        now = time.monotonic()
        self._faults = [f for f in self._faults if not f.expired(now)]
        for fault in reversed(self._faults):
            if fault.applies_to(method):
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None

    def _unknown_answer(self, method: str) -> _Answer | None:
        return None if method in self._handlers else _err("unknown_method")

    def _auth_answer(
        self, method: str, args: Args, headers: dict[str, str]
    ) -> _Answer | None:
        if method in APP_TOKEN_METHODS:
            # Slack takes the app-level token only from the header here.
            token, wanted, other = _bearer(headers), self.app_token, self.token
        else:
            token = _bearer(headers) or args.get("token")
            wanted, other = self.token, self.app_token
        if not token:
            return _err("not_authed")
        if token == wanted:
            return None
        return _err("not_allowed_token_type" if token == other else "invalid_auth")

    @staticmethod
    def _dispatch(handler: Handler, args: Args) -> _Answer:
        try:
            return _ok(handler(args))
        except _SlackError as exc:
            return _err(exc.error, messages=exc.messages)

    # Internals: Web API methods -----------------------------------------

    def _auth_test(self, args: Args) -> Args:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Hiloop Test",
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _connections_open(self, args: Args) -> Args:
        return {"url": self.connections_url()}

    def _channel(self, args: Args) -> str:
        channel = args.get("channel")
        if not channel or channel in self.missing_channels:
            raise _SlackError("channel_not_found")
        return str(channel)

    def _new_message(self, args: Args, ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": str(args.get("text") or ""),
            "team": self.team_id,
        }
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                message[key] = copy.deepcopy(args[key])
        return message

    def _post_message(self, args: Args) -> Args:
        channel = self._channel(args)
        _require_content(args)
        _check_message(args)
        message = self._store_message(channel, args)
        return {"channel": channel, "ts": message["ts"], "message": message}

    def _store_message(self, channel: str, args: Args) -> dict[str, Any]:
        message = self._new_message(args, self._next_ts())
        thread_ts = args.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            self._attach_reply(channel, str(thread_ts), message)
        self._channel_messages.setdefault(channel, []).append(message)
        return copy.deepcopy(message)

    def _history(self, args: Args) -> Args:
        """Top-level messages of a channel, newest first, as Slack lists them."""
        channel = self._channel(args)
        posted = [
            m
            for m in self._channel_messages.get(channel, [])
            if m.get("thread_ts") in (None, m["ts"])
        ]
        return self._listing(posted, args)

    def _replies(self, args: Args) -> Args:
        """A thread: its parent first, then the replies, oldest first."""
        channel = self._channel(args)
        root = str(args.get("ts") or "")
        if self._find(channel, root) is None:
            raise _SlackError("thread_not_found")
        thread = [
            m
            for m in self._channel_messages.get(channel, [])
            if m["ts"] == root or m.get("thread_ts") == root
        ]
        listing = self._listing(thread, args)
        listing["messages"].reverse()
        return listing

    @staticmethod
    def _listing(messages: list[Args], args: Args) -> Args:
        """A page of messages newest first within oldest/latest, as Slack pages."""
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        with_metadata = str(args.get("include_all_metadata")).lower() in ("1", "true")
        shown = []
        for message in sorted(messages, key=lambda m: float(m["ts"]), reverse=True):
            if not oldest <= float(message["ts"]) <= latest:
                continue
            copied = copy.deepcopy(message)
            if not with_metadata:
                copied.pop("metadata", None)
            shown.append(copied)
        page = shown[start : start + limit]
        more = start + limit < len(shown)
        return {
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _attach_reply(self, channel: str, thread_ts: str, reply: Args) -> None:
        parent = self._find(channel, thread_ts)
        if parent is None:
            return
        reply["parent_user_id"] = parent.get("user")
        repliers = parent.setdefault("reply_users", [])
        if reply["user"] not in repliers:
            repliers.append(reply["user"])
        parent["thread_ts"] = thread_ts
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        parent["reply_users_count"] = len(repliers)
        parent["latest_reply"] = reply["ts"]

    def _update_message(self, args: Args) -> Args:
        channel = self._channel(args)
        ts = str(args.get("ts") or "")
        message = self._find(channel, ts)
        if message is None:
            raise _SlackError("message_not_found")
        _require_content(args)
        _check_message(args)
        self._apply_edit(message, args)
        return {
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _apply_edit(self, message: dict[str, Any], args: Args) -> None:
        if "text" in args:
            message["text"] = str(args["text"] or "")
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                message[key] = copy.deepcopy(args[key])
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}

    def _post_ephemeral(self, args: Args) -> Args:
        channel = self._channel(args)
        if not args.get("user"):
            raise _SlackError("user_not_in_channel")
        _require_content(args)
        _check_message(args)
        ts = self._next_ts()
        self._ephemerals.append(self._ephemeral(channel, str(args["user"]), args, ts))
        return {"message_ts": ts}

    @staticmethod
    def _ephemeral(
        channel: str | None, user: str | None, args: Args, ts: str
    ) -> dict[str, Any]:
        ephemeral: dict[str, Any] = {
            "channel": channel,
            "user": user,
            "text": str(args.get("text") or ""),
            "message_ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts"):
            if key in args:
                ephemeral[key] = copy.deepcopy(args[key])
        return ephemeral

    def _permalink(self, args: Args) -> Args:
        channel = self._channel(args)
        ts = str(args.get("message_ts") or "")
        if not ts:
            raise _SlackError("message_not_found")
        link = (
            f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        )
        message = self._find(channel, ts)
        thread_ts = message.get("thread_ts") if message else None
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _views_open(self, args: Args) -> Args:
        view = _view_arg(args)
        if not (args.get("trigger_id") or args.get("interactivity_pointer")):
            raise _SlackError("invalid_arguments")
        view_id = f"V{next(self._ids):010d}"
        stored = self._new_view(view, view_id, root_view_id=view_id)
        self._views[view_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, args: Args) -> Args:
        view = _view_arg(args)
        current = self._view_for_update(args)
        expected_hash = args.get("hash")
        if expected_hash and expected_hash != current["hash"]:
            raise _SlackError("hash_conflict")
        updated = self._new_view(view, current["id"], current["root_view_id"])
        self._views[current["id"]] = updated
        return {"view": copy.deepcopy(updated)}

    def _view_for_update(self, args: Args) -> dict[str, Any]:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if view_id:
            found = self._views.get(str(view_id))
        elif external_id:
            found = next(
                (v for v in self._views.values() if v["external_id"] == external_id),
                None,
            )
        else:
            raise _SlackError("invalid_arguments")
        if found is None:
            raise _SlackError("not_found")
        return found

    def _new_view(self, view: Args, view_id: str, root_view_id: str) -> Args:
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{TS_BASE_SECONDS}.{next(self._ids):08d}",
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": None,
            "root_view_id": root_view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    def _usergroup_users(self, args: Args) -> Args:
        group = str(args.get("usergroup") or "")
        if group not in self.usergroups:
            raise _SlackError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _users_info(self, args: Args) -> Args:
        user_id = str(args.get("user") or "")
        spec = self.users.get(user_id)
        if spec is None:
            raise _SlackError("user_not_found")
        return {"user": self._user_object(user_id, spec)}

    def _user_object(self, user_id: str, spec: dict[str, Any]) -> Args:
        name = str(spec.get("name", user_id.lower()))
        real_name = str(spec.get("real_name", name))
        display_name = str(spec.get("display_name", name))
        profile = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "email": spec.get("email", f"{name}@{TEAM_DOMAIN}.com"),
            "team": self.team_id,
            **copy.deepcopy(spec.get("profile", {})),
        }
        return {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": bool(spec.get("deleted", False)),
            "real_name": real_name,
            "tz": spec.get("tz", "America/Los_Angeles"),
            "tz_label": spec.get("tz_label", "Pacific Standard Time"),
            "tz_offset": spec.get("tz_offset", -28800),
            "is_admin": bool(spec.get("is_admin", False)),
            "is_owner": bool(spec.get("is_owner", False)),
            "is_bot": bool(spec.get("is_bot", False)),
            "is_app_user": False,
            "updated": TS_BASE_SECONDS,
            "profile": profile,
        }

    def _respond(self, key: str, args: Args) -> Args:
        channel, message_ts = self._hooks[key]
        original = self._find(channel, message_ts) if channel and message_ts else None
        if args.get("delete_original") and original is not None:
            self._channel_messages[str(channel)].remove(original)
        elif args.get("replace_original") and original is not None:
            self._apply_edit(original, args)
        elif args.get("response_type") == "in_channel" and channel:
            self._store_message(channel, args)
        else:
            ts = self._next_ts()
            self._ephemerals.append(self._ephemeral(channel, None, args, ts))
        return {}
