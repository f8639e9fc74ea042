"""Run calls at the same moment: each on its own thread, all released together by one barrier."""
from __future__ import annotations

import threading
from typing import Callable


def at_once(*calls: Callable[[], object]) -> list[Exception]:
    """Run every call concurrently; returns the exceptions they raised (empty when all succeeded)."""
    barrier = threading.Barrier(len(calls))
    errors: list[Exception] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except Exception as exc:          # noqa: BLE001 - handed back to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
