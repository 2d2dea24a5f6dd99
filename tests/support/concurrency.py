"""Running several calls at the same moment, for race tests."""

import threading
from collections.abc import Callable, Sequence
from typing import Any


def all_at_once(calls: Sequence[Callable[[], Any]], timeout: float = 30) -> list[Any]:
    """Start every call together; each one's result, or the error it raised."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:  # the outcome under test
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
