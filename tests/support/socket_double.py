"""A Slack Socket Mode double for tests: a WebSocket server on 127.0.0.1.

`SocketDouble` serves WebSockets with aiohttp on an event loop in a thread of
its own (the OS picks the port). Hand its URLs to the app through the Web API
double, ``slack.connections_url = socket.connection_url``: like Slack's, each
URL carries a one-time ticket, and a handshake with a used or unknown ticket is
refused with 403.

Every connection first gets Slack's ``hello``. A test then sends envelopes the
way Slack wraps payloads (``interactive`` for clicks and modal submissions,
``events_api`` for Events API callbacks) and waits for the app's
acknowledgement, ``{"envelope_id": ...}``. Everything the app sends is
recorded. ``payload_of`` turns a request from ``tests.support.slack_requests``
into the payload an envelope carries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web

__all__ = ["SocketDouble", "payload_of"]

PATH = "/link/"
CALL_SECONDS = 5.0
T = TypeVar("T")
Message = dict[str, Any]


def payload_of(request: tuple[bytes, dict[str, str]]) -> Message:
    """The JSON payload of a request built for HTTP, as Socket Mode carries it."""
    body, headers = request
    text = body.decode("utf-8")
    if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        text = parse_qs(text)["payload"][0]
    payload: Message = json.loads(text)
    return payload


class SocketDouble:
    """Slack's Socket Mode server, for one app, on 127.0.0.1."""

    def __init__(self, app_id: str = "A0TEST01") -> None:
        self.app_id = app_id
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._tickets: set[str] = set()
        self._numbers = itertools.count(1)
        self._open: list[web.WebSocketResponse] = []
        self._accepted = 0
        self._refused = 0
        self._received: list[Message] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # Lifecycle -------------------------------------------------------------

    def start(self) -> SocketDouble:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name="socket-double", daemon=True
        )
        self._thread.start()
        self._call(self._serve())
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._call(self._shut())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=CALL_SECONDS)
        loop.close()
        self._loop, self._thread = None, None

    def connection_url(self) -> str:
        """A new one-time WebSocket URL, as apps.connections.open hands out."""
        ticket = f"{next(self._numbers):08d}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}{PATH}?ticket={ticket}&app_id={self.app_id}"

    # What the app did ------------------------------------------------------

    @property
    def accepted(self) -> int:
        """Connections opened so far (closed ones included)."""
        with self._lock:
            return self._accepted

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    @property
    def refused(self) -> int:
        """Handshakes refused for a used or unknown ticket."""
        with self._lock:
            return self._refused

    @property
    def received(self) -> list[Message]:
        """Every JSON message the app sent, in order."""
        with self._lock:
            return list(self._received)

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until ``count`` connections were opened and one is open."""

        def ready() -> bool:
            return self._accepted >= count and bool(self._open)

        with self._changed:
            if not self._changed.wait_for(ready, timeout=timeout):
                raise AssertionError(
                    f"expected {count} connection(s) within {timeout}s, got "
                    f"{self._accepted} ({len(self._open)} open, "
                    f"{self._refused} refused)"
                )

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Message:
        """The app's acknowledgement of an envelope, once it arrives."""

        def ack() -> Message | None:
            found = [m for m in self._received if m.get("envelope_id") == envelope_id]
            return found[0] if found else None

        with self._changed:
            if not self._changed.wait_for(lambda: ack() is not None, timeout=timeout):
                raise AssertionError(
                    f"no ack of {envelope_id} within {timeout}s; "
                    f"received: {self._received}"
                )
            found = ack()
            assert found is not None
            return found

    # What Slack sends ------------------------------------------------------

    def interactive(
        self, payload: Message, *, accepts_response_payload: bool = False
    ) -> str:
        """Send an interactivity payload (block_actions, view_submission...)."""
        envelope_id = str(uuid.uuid4())
        self.send(
            {
                "envelope_id": envelope_id,
                "payload": payload,
                "type": "interactive",
                "accepts_response_payload": accepts_response_payload,
            }
        )
        return envelope_id

    def events_api(
        self, payload: Message, *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> str:
        """Send an Events API callback (``{"type": "event_callback", ...}``)."""
        envelope_id = str(uuid.uuid4())
        self.send(
            {
                "envelope_id": envelope_id,
                "payload": payload,
                "type": "events_api",
                "accepts_response_payload": False,
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        )
        return envelope_id

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to move to a new connection, as Slack does regularly."""
        self.send(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "applink-test"},
            }
        )

    def drop(self) -> None:
        """Close every open connection from Slack's side, as an outage would."""
        self._call(self._close_open())

    def send(self, message: Message) -> None:
        """Send a message on the newest open connection."""
        with self._lock:
            if not self._open:
                raise AssertionError("no open Socket Mode connection")
            socket = self._open[-1]
        self._call(socket.send_json(message))

    # Internals ---------------------------------------------------------------

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None, "SocketDouble is not running"
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(timeout=CALL_SECONDS)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get(PATH, self._connection)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _close_open(self) -> None:
        with self._lock:
            sockets = list(self._open)
        for socket in sockets:
            await socket.close()

    async def _shut(self) -> None:
        await self._close_open()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _connection(self, request: web.Request) -> web.StreamResponse:
        if not self._take_ticket(request.query.get("ticket", "")):
            return web.Response(status=403, text="invalid or used ticket")
        socket = web.WebSocketResponse()  # answers the app's pings itself
        await socket.prepare(request)
        await socket.send_json(self._hello())
        with self._changed:
            self._accepted += 1
            self._open.append(socket)
            self._changed.notify_all()
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._record(message.data)
        finally:
            with self._changed:
                self._open.remove(socket)
                self._changed.notify_all()
        return socket

    def _take_ticket(self, ticket: str) -> bool:
        with self._changed:
            if ticket in self._tickets:
                self._tickets.remove(ticket)
                return True
            self._refused += 1
            self._changed.notify_all()
            return False

    def _hello(self) -> Message:
        with self._lock:
            connections = len(self._open) + 1
        return {
            "type": "hello",
            "num_connections": connections,
            "debug_info": {
                "host": "applink-test",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _record(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            message = {"_unparsed": data}
        with self._changed:
            self._received.append(message if isinstance(message, dict) else {})
            self._changed.notify_all()
