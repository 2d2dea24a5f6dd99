"""Queries on the messages of an interaction."""

from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.store.models import Message


def add(db: Session, message: Message) -> Message:
    db.add(message)
    db.flush()
    return message


def get(db: Session, message_id: str) -> Message | None:
    return db.exec(select(Message).where(Message.id == message_id)).first()


def list_for(
    db: Session, interaction_id: str, after_seq: int | None = None, limit: int = 200
) -> Sequence[Message]:
    statement = select(Message).where(Message.interaction_id == interaction_id)
    if after_seq is not None:
        statement = statement.where(col(Message.seq) > after_seq)
    return db.exec(statement.order_by(col(Message.seq)).limit(limit)).all()


def by_slack_event_key(db: Session, key: str) -> Message | None:
    return db.exec(select(Message).where(Message.slack_event_key == key)).first()
