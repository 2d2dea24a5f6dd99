"""Logging, configured once when a command or the service starts."""

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    logging.getLogger("app").setLevel(level.upper())
    # uvicorn says where it listens, and why it stops, on this logger.
    logging.getLogger("uvicorn.error").setLevel(level.upper())
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
