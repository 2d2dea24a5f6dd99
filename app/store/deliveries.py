"""Queries on the Slack outbox."""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select, update
from sqlmodel.sql.expression import SelectOfScalar

from app.store.models import Delivery
from app.store.types import UTCDateTime


def add(db: Session, interaction_id: str, kind: str, **payload: Any) -> Delivery:
    """Queue a write; it is flushed with the transaction that caused it."""
    delivery = Delivery(interaction_id=interaction_id, kind=kind, payload=payload)
    db.add(delivery)
    return delivery


@cache
def _due_statement() -> SelectOfScalar[Delivery]:
    # Built once: the statement is the same on every pass, only `now` changes.
    older = aliased(Delivery)
    oldest_id = (
        select(func.min(older.id))
        .where(
            older.interaction_id == Delivery.interaction_id, older.status == "queued"
        )
        .scalar_subquery()
    )
    now = bindparam("now", type_=UTCDateTime())
    return (
        select(Delivery)
        .where(
            Delivery.status == "queued",
            col(Delivery.id) == oldest_id,
            col(Delivery.next_attempt_at) <= now,
            or_(
                col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now
            ),
        )
        .order_by(col(Delivery.id))
        .limit(bindparam("limit"))
    )


def due(db: Session, now: datetime, limit: int = 50) -> Sequence[Delivery]:
    """Queued rows whose time has come, at most one per interaction.

    Only the oldest queued row of each interaction is offered, so the writes to
    one Slack message go out in the order they were made.
    """
    return db.exec(_due_statement(), params={"now": now, "limit": limit}).all()


def next_attempt_at(db: Session) -> datetime | None:
    statement = select(func.min(Delivery.next_attempt_at)).where(
        Delivery.status == "queued"
    )
    return db.exec(statement).first()


def claim(db: Session, delivery_id: int, now: datetime, until: datetime) -> bool:
    """Take the row for one attempt; False when another worker holds it."""
    result = db.exec(
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.status) == "queued",
            or_(
                col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now
            ),
        )
        .values(claimed_until=until, maybe_sent=True, attempted_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish(db: Session, delivery_id: int, status: str, **values: Any) -> None:
    db.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status=status, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )


def hurry_retries(db: Session, now: datetime) -> int:
    """Make every backed-off row due now (Slack answers again)."""
    result = db.exec(
        update(Delivery)
        .where(
            col(Delivery.status) == "queued",
            col(Delivery.attempts) > 0,
            col(Delivery.next_attempt_at) > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def count_by_status(db: Session, interaction_id: str | None = None) -> dict[str, int]:
    statement = select(Delivery.status, func.count()).group_by(Delivery.status)
    if interaction_id is not None:
        statement = statement.where(Delivery.interaction_id == interaction_id)
    return {status: count for status, count in db.exec(statement).all()}
