"""The database engine and sessions."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.store import models  # noqa: F401 (registers the tables on the metadata)

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine tuned for the bridge's short, write-heavy transactions."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    # One connection per process: SQLite takes one writer at a time anyway, and
    # a pool of one avoids busy-waiting between our own threads.
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        options["poolclass"] = StaticPool
    else:
        options.update(pool_size=1, max_overflow=0, pool_timeout=30)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def make_cli_engine(url: str) -> Engine:
    """An engine for short-lived commands, which must not hold a pool open."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, poolclass=NullPool)


def create_schema(engine: Engine) -> None:
    """Create every table and index that does not exist yet."""
    SQLModel.metadata.create_all(engine)
    log.debug("schema ready on %s", engine.url.render_as_string(hide_password=True))


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
