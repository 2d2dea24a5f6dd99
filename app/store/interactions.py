"""Queries on interactions, including the conditional state transition."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from app.store.models import Interaction


def add(db: Session, interaction: Interaction) -> Interaction:
    # Flushed now: rows that refer to it (its deliveries) must be inserted after.
    db.add(interaction)
    db.flush()
    return interaction


def get(db: Session, interaction_id: str) -> Interaction | None:
    statement = select(Interaction).where(Interaction.id == interaction_id)
    return db.exec(statement).first()


def get_for_agent(
    db: Session, interaction_id: str, agent_id: str
) -> Interaction | None:
    statement = select(Interaction).where(
        Interaction.id == interaction_id, Interaction.agent_id == agent_id
    )
    return db.exec(statement).first()


def by_slack_message(db: Session, channel: str, ts: str) -> Interaction | None:
    statement = select(Interaction).where(
        Interaction.slack_channel == channel, Interaction.slack_ts == ts
    )
    return db.exec(statement).first()


def list_by_session(
    db: Session, agent_id: str, session_id: str
) -> Sequence[Interaction]:
    statement = (
        select(Interaction)
        .where(Interaction.agent_id == agent_id, Interaction.session_id == session_id)
        .order_by(col(Interaction.seq))
    )
    return db.exec(statement).all()


def transition(
    db: Session,
    interaction_id: str,
    from_statuses: Collection[str],
    *,
    deadline_by: datetime | None = None,
    **values: Any,
) -> bool:
    """Change the interaction only if it is still in one of `from_statuses`
    (and, with `deadline_by`, only if its deadline has come by then).

    This single conditional UPDATE is what makes a decision happen once: of two
    clicks, a click and a deadline, or two replicas, only one matches the row.
    """
    statement = update(Interaction).where(
        col(Interaction.id) == interaction_id,
        col(Interaction.status).in_(list(from_statuses)),
    )
    if deadline_by is not None:
        statement = statement.where(col(Interaction.deadline_at) <= deadline_by)
    result = db.exec(
        statement.values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def mark_reminded(db: Session, interaction_id: str, now: datetime) -> bool:
    """Claim the interaction's one reminder; False if it is not pending or had it."""
    result = db.exec(
        update(Interaction)
        .where(
            col(Interaction.id) == interaction_id,
            col(Interaction.status) == "pending",
            col(Interaction.reminded_at).is_(None),
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def overdue(db: Session, now: datetime, limit: int = 500) -> Sequence[str]:
    """Ids of pending interactions whose deadline has passed."""
    statement = (
        select(Interaction.id)
        .where(
            Interaction.status == "pending",
            col(Interaction.deadline_at).is_not(None),
            col(Interaction.deadline_at) <= now,
        )
        .order_by(col(Interaction.deadline_at))
        .limit(limit)
    )
    return db.exec(statement).all()


def reminders_due(db: Session, now: datetime, limit: int = 500) -> Sequence[str]:
    statement = (
        select(Interaction.id)
        .where(
            Interaction.status == "pending",
            col(Interaction.reminded_at).is_(None),
            col(Interaction.remind_at).is_not(None),
            col(Interaction.remind_at) <= now,
        )
        .order_by(col(Interaction.remind_at))
        .limit(limit)
    )
    return db.exec(statement).all()


def with_open_deadlines(db: Session) -> Sequence[Interaction]:
    """Every interaction still waiting on a deadline (pending or answered chat)."""
    statement = select(Interaction).where(
        col(Interaction.status).in_(["pending", "responded"]),
        col(Interaction.deadline_at).is_not(None),
    )
    return db.exec(statement).all()


def set_fields(db: Session, interaction_id: str, **values: Any) -> None:
    db.exec(
        update(Interaction)
        .where(col(Interaction.id) == interaction_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
