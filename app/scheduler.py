"""Deadlines and reminders, on APScheduler in the service's event loop.

The database stays the source of truth: one job per deadline and reminder
makes them fire on time, the transition they run is conditional (so whichever
replica fires first wins and the others change nothing), and a periodic sweep
catches anything whose job is missing after a restart or on another replica.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.core import states
from app.core.bridge import Bridge
from app.core.changes import Change

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"


def deadline_job(interaction_id: str) -> str:
    return f"deadline:{interaction_id}"


def reminder_job(interaction_id: str) -> str:
    return f"reminder:{interaction_id}"


class Deadlines:
    def __init__(self, bridge: Bridge, *, sweep_seconds: float = 2.0) -> None:
        self.bridge = bridge
        self.sweep_seconds = sweep_seconds
        self.scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={"misfire_grace_time": None, "coalesce": True},
        )

    async def start(self) -> None:
        """Schedule every open deadline from the database and start firing."""
        self.scheduler.start()
        self.bridge.changes.on_interaction(self.changed)
        for interaction in await asyncio.to_thread(self.bridge.open_deadlines):
            self.changed(
                Change(
                    interaction.id,
                    interaction.status,
                    interaction.deadline_at,
                    None if interaction.reminded_at else interaction.remind_at,
                )
            )
        self.scheduler.add_job(
            self.sweep,
            "interval",
            seconds=self.sweep_seconds,
            id=SWEEP_JOB,
            replace_existing=True,
            max_instances=1,
        )
        await self.sweep()
        log.info(
            "deadline scheduler started: %s deadlines and reminders scheduled",
            len(self.scheduler.get_jobs()) - 1,
        )

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def changed(self, change: Change) -> None:
        """Keep the jobs in step with what became of the interaction."""
        if change.status is None or not self.scheduler.running:
            return
        if states.is_final(change.status):
            self._remove(deadline_job(change.interaction_id))
            self._remove(reminder_job(change.interaction_id))
            return
        if change.deadline_at is not None:
            self._at(
                change.deadline_at,
                deadline_job(change.interaction_id),
                self.bridge.expire,
                change.interaction_id,
            )
        if change.status == states.PENDING and change.remind_at is not None:
            self._at(
                change.remind_at,
                reminder_job(change.interaction_id),
                self.bridge.remind,
                change.interaction_id,
            )

    async def sweep(self) -> None:
        """Expire and remind whatever is due, whether or not its job fired."""
        try:
            expired = await asyncio.to_thread(self.bridge.expire_overdue)
            reminded = await asyncio.to_thread(self.bridge.remind_due)
        except Exception:
            log.exception("deadline sweep failed; the next one retries")
            return
        if expired or reminded:
            log.info("sweep expired %s and reminded %s", len(expired), len(reminded))

    def _at(
        self,
        when: datetime,
        job_id: str,
        action: Callable[[str], bool],
        interaction_id: str,
    ) -> None:
        # Replacing keeps one job per row, at its latest time.
        self.scheduler.add_job(
            _in_thread(action),
            "date",
            run_date=when,
            args=[interaction_id],
            id=job_id,
            replace_existing=True,
        )

    def _remove(self, job_id: str) -> None:
        try:
            self.scheduler.remove_job(job_id)
        except JobLookupError:
            pass


def _in_thread(action: Callable[[str], bool]) -> Callable[[str], Awaitable[None]]:
    """Run a blocking core call from a job without blocking the event loop."""

    async def run(interaction_id: str) -> None:
        try:
            await asyncio.to_thread(action, interaction_id)
        except Exception:
            log.exception(
                "job for interaction %s failed; the sweep retries", interaction_id
            )

    return run
