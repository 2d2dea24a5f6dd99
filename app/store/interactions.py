"""Queries on interactions, including the conditional state transition."""

from collections.abc import Collection, Sequence
from typing import Any

from sqlmodel import Session, col, select, update

from app.store.models import Interaction


def add(db: Session, interaction: Interaction) -> Interaction:
    db.add(interaction)
    db.flush()
    return interaction


def get(db: Session, interaction_id: str) -> Interaction | None:
    statement = select(Interaction).where(Interaction.id == interaction_id)
    return db.exec(statement).first()


def get_for_agent(db: Session, interaction_id: str, agent_id: str) -> Interaction | None:
    statement = select(Interaction).where(
        Interaction.id == interaction_id, Interaction.agent_id == agent_id
    )
    return db.exec(statement).first()


def by_slack_message(db: Session, channel: str, ts: str) -> Interaction | None:
    statement = select(Interaction).where(
        Interaction.slack_channel == channel, Interaction.slack_ts == ts
    )
    return db.exec(statement).first()


def list_by_session(db: Session, agent_id: str, session_id: str) -> Sequence[Interaction]:
    statement = (
        select(Interaction)
        .where(Interaction.agent_id == agent_id, Interaction.session_id == session_id)
        .order_by(col(Interaction.seq))
    )
    return db.exec(statement).all()


def transition(
    db: Session, interaction_id: str, from_statuses: Collection[str], **values: Any
) -> bool:
    """Change the interaction only if it is still in one of `from_statuses`.

    This single conditional UPDATE is what makes a decision happen once: of two
    clicks, a click and a deadline, or two replicas, only one matches the row.
    """
    result = db.exec(
        update(Interaction)
        .where(
            col(Interaction.id) == interaction_id,
            col(Interaction.status).in_(list(from_statuses)),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def set_fields(db: Session, interaction_id: str, **values: Any) -> None:
    db.exec(
        update(Interaction)
        .where(col(Interaction.id) == interaction_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
