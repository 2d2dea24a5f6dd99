"""The tests' Slack Web API double in a process of its own, for the benchmarks.

Usage: python bench/_slack_double.py BOT_TOKEN

It serves on 127.0.0.1 (an OS-chosen port) and reads one JSON command per line
on stdin, answering one JSON line on stdout:

    {"do": "url"}                                      -> {"url": "http://…/api/"}
    {"do": "fail", "seconds": 5}                       -> {}   (all methods, HTTP 500)
    {"do": "count", "method": "chat.postMessage", "failed": false}
                                                       -> {"count": n}
    {"do": "stop"}                                     -> {} and exit

End of stdin stops it too, so it never outlives the benchmark that started it.
A process of its own keeps its threads off the load generator's GIL.
"""

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.slack_double import SlackDouble  # noqa: E402 (after the path)


def answer(double: SlackDouble, command: dict[str, Any]) -> dict[str, Any]:
    what = command.get("do")
    if what == "url":
        return {"url": double.url}
    if what == "fail":
        double.fail(seconds=float(command["seconds"]))
        return {}
    if what == "count":
        calls = double.calls_to(str(command["method"]))
        failed = command.get("failed")
        if failed is not None:
            calls = [call for call in calls if call.failed == bool(failed)]
        return {"count": len(calls)}
    return {"error": f"unknown command {what!r}"}


def main() -> int:
    double = SlackDouble(token=sys.argv[1])
    double.start()
    try:
        for line in sys.stdin:
            command = json.loads(line)
            if command.get("do") == "stop":
                print("{}", flush=True)
                break
            print(json.dumps(answer(double, command)), flush=True)
    finally:
        double.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
