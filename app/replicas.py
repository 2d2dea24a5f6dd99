"""Changes shared between replicas on PostgreSQL, through LISTEN/NOTIFY.

An await held on one replica must wake when the click lands on another, and
each replica's scheduler must learn of interactions the others accepted. Every
local change is announced on a channel; every replica relays the others'
announcements into its own change notifications.
"""

import asyncio
import json
import logging
import uuid
from datetime import datetime

import psycopg
from sqlalchemy import Engine

from app.core.changes import Change, Changes

log = logging.getLogger(__name__)

CHANNEL = "hiloop_changes"
RECONNECT_SECONDS = 1.0


class PostgresRelay:
    def __init__(self, engine: Engine, changes: Changes) -> None:
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self.changes = changes
        self.instance = uuid.uuid4().hex
        self._sender: psycopg.AsyncConnection[object] | None = None
        self._outgoing: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.changes.on_interaction(self._local)
        self.changes.on_outbox(self._local_outbox)
        self._tasks = [
            asyncio.create_task(self._listen(), name="hiloop-relay-listen"),
            asyncio.create_task(self._send(), name="hiloop-relay-send"),
        ]
        log.info("sharing changes with other replicas on %s", CHANNEL)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        if self._sender is not None:
            await self._sender.close()
            self._sender = None

    def _local(self, change: Change) -> None:
        if change.relayed:
            return
        payload = {
            "from": self.instance,
            "id": change.interaction_id,
            "status": change.status,
            "deadline_at": _iso(change.deadline_at),
            "remind_at": _iso(change.remind_at),
        }
        self._outgoing.put_nowait(json.dumps(payload))

    def _local_outbox(self) -> None:
        self._outgoing.put_nowait(json.dumps({"from": self.instance, "outbox": True}))

    async def _send(self) -> None:
        while True:
            payload = await self._outgoing.get()
            try:
                if self._sender is None or self._sender.closed:
                    self._sender = await psycopg.AsyncConnection.connect(
                        self.dsn, autocommit=True
                    )
                await self._sender.execute(
                    "SELECT pg_notify(%s, %s)", (CHANNEL, payload)
                )
            except psycopg.Error as error:
                # Other replicas still catch up through their sweep and polls.
                log.warning("could not announce a change to other replicas: %s", error)
                self._sender = None
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.dsn, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    async for notification in connection.notifies():
                        self._relay(notification.payload)
            except psycopg.Error as error:
                log.warning("lost the change channel, reconnecting: %s", error)
                await asyncio.sleep(RECONNECT_SECONDS)

    def _relay(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if message.get("from") == self.instance:
            return
        if message.get("outbox"):
            self.changes.outbox_changed()
            return
        self.changes.interaction_changed(
            Change(
                str(message["id"]),
                message.get("status"),
                _when(message.get("deadline_at")),
                _when(message.get("remind_at")),
                relayed=True,
            )
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
