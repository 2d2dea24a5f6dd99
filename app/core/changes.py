"""In-process change notifications: wakes awaits and the delivery worker.

The core publishes after every committed change, from whichever thread made
it; waiters live on the service's event loop and are woken there.
"""

import asyncio
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Change:
    """What became of an interaction, as far as the change that was made knows."""

    interaction_id: str
    status: str | None = None
    deadline_at: datetime | None = None
    remind_at: datetime | None = None
    # True when the change was made by another replica and relayed here.
    relayed: bool = False


class Changes:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)
        self._outbox_listeners: list[Callable[[], None]] = []
        self._interaction_listeners: list[Callable[[Change], None]] = []

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver wake-ups on this loop from now on."""
        self._loop = loop

    def unbind(self) -> None:
        self._loop = None

    def on_outbox(self, listener: Callable[[], None]) -> None:
        """Call `listener` on the loop whenever new Slack writes are queued."""
        self._outbox_listeners.append(listener)

    def on_interaction(self, listener: Callable[[Change], None]) -> None:
        """Call `listener` on the loop with every committed interaction change."""
        self._interaction_listeners.append(listener)

    def interaction_changed(self, change: Change) -> None:
        self._call_on_loop(self._wake, change.interaction_id)
        for listener in self._interaction_listeners:
            self._call_on_loop(listener, change)

    def outbox_changed(self) -> None:
        for listener in self._outbox_listeners:
            self._call_on_loop(listener)

    @asynccontextmanager
    async def watch(self, interaction_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set at the interaction's next change.

        Enter it before reading the interaction's state, so that a change made
        between the read and the wait is never missed.
        """
        changed = asyncio.Event()
        with self._lock:
            self._waiters[interaction_id].add(changed)
        try:
            yield changed
        finally:
            with self._lock:
                waiters = self._waiters.get(interaction_id)
                if waiters is not None:
                    waiters.discard(changed)
                    if not waiters:
                        del self._waiters[interaction_id]

    def wake_all(self) -> None:
        """Wake every waiter (used when the service stops)."""
        with self._lock:
            ids = list(self._waiters)
        for interaction_id in ids:
            self._call_on_loop(self._wake, interaction_id)

    def waiting(self) -> int:
        with self._lock:
            return sum(len(waiters) for waiters in self._waiters.values())

    def _wake(self, interaction_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(interaction_id, ()))
        for changed in waiters:
            changed.set()

    def _call_on_loop(self, callback: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            callback(*args)
        else:
            loop.call_soon_threadsafe(callback, *args)
