"""Caps on what one caller may send: body size, and requests per second."""

import math
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response

MAX_BODY_BYTES = 1024 * 1024


class BodyLimit:
    """Answer 413 for bodies over the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return

        # Read the whole body first (it is at most the limit), then replay it.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"the request body is larger than {self.limit} bytes"
        )
        await response(scope, receive, send)


class RateLimit:
    """A token bucket per agent: `per_second` sustained, `burst` at once.

    Kept in this process: each replica limits what reaches it.
    """

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = max(burst, 1)
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def wait_needed(self, caller: str) -> float:
        """Take one request from `caller`'s bucket: 0, or seconds until it may."""
        if self.per_second <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - then) * self.per_second)
            if tokens < 1:
                self._buckets[caller] = (tokens, now)
                return (1 - tokens) / self.per_second
            self._buckets[caller] = (tokens - 1, now)
            return 0.0


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
