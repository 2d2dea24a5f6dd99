"""Queries on agents and their API keys."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select, update

from app.store.models import Agent, ApiKey


def add(db: Session, agent: Agent) -> Agent:
    db.add(agent)
    db.flush()
    return agent


def get(db: Session, agent_id: str) -> Agent | None:
    return db.get(Agent, agent_id)


def get_by_name(db: Session, name: str) -> Agent | None:
    return db.exec(select(Agent).where(Agent.name == name)).first()


def list_all(db: Session) -> Sequence[Agent]:
    return db.exec(select(Agent).order_by(col(Agent.created_at))).all()


def add_key(db: Session, key: ApiKey) -> ApiKey:
    db.add(key)
    db.flush()
    return key


def revoke_keys(db: Session, agent_id: str, at: datetime) -> int:
    """Revoke every live key of the agent; returns how many were live."""
    result = db.exec(
        update(ApiKey)
        .where(col(ApiKey.agent_id) == agent_id, col(ApiKey.revoked_at).is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount


def by_key_hash(db: Session, key_hash: str) -> Agent | None:
    """The live agent owning this live key, if any."""
    statement = (
        select(Agent)
        .join(ApiKey, col(ApiKey.agent_id) == col(Agent.id))
        .where(
            ApiKey.key_hash == key_hash,
            col(ApiKey.revoked_at).is_(None),
            col(Agent.revoked_at).is_(None),
        )
    )
    return db.exec(statement).first()


def live_key_count(db: Session, agent_id: str) -> int:
    statement = select(ApiKey).where(
        ApiKey.agent_id == agent_id, col(ApiKey.revoked_at).is_(None)
    )
    return len(db.exec(statement).all())
