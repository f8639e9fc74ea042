"""Build ids: Prow's snowflake layout, unique and increasing with time, without a central counter.

    id = (unix_ms - 1288834974657) << 22 | node << 12 | sequence

(`bwmarrin/snowflake`, what plank uses without a `tot` service), rendered as a decimal string. Prow
runs one plank, so it uses node 1; we run many function instances, so each process draws a random
node id (10 bits) and counts its own sequence within a millisecond. Ids of one process strictly
increase; ids of different processes increase with time at millisecond resolution. Two processes can
still draw the same id when they share a node id and a millisecond, so `JobStore.reserve_build_id`
makes a drawn id unique per job name with an insert-if-absent row and draws again on a clash.
"""
from __future__ import annotations

import secrets
import threading
import time
from typing import Callable

EPOCH_MS = 1288834974657
NODE_BITS = 10
SEQUENCE_BITS = 12
_MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1


class Snowflake:
    def __init__(self, node: int | None = None, *, clock_ms: Callable[[], int] | None = None):
        self.node = secrets.randbelow(1 << NODE_BITS) if node is None else node
        if not 0 <= self.node < (1 << NODE_BITS):
            raise ValueError(f"node id {self.node} does not fit in {NODE_BITS} bits")
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._last_ms = 0
        self._sequence = 0

    def next_int(self) -> int:
        with self._lock:
            now = max(self._clock_ms(), self._last_ms)   # a clock stepping back must not reuse ids
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & _MAX_SEQUENCE
                if self._sequence == 0:                   # 4096 ids in one millisecond: borrow the next
                    now += 1
            else:
                self._sequence = 0
            self._last_ms = now
            return ((now - EPOCH_MS) << (NODE_BITS + SEQUENCE_BITS)) | (self.node << SEQUENCE_BITS) | self._sequence

    def next(self) -> str:
        return str(self.next_int())


def timestamp_ms(build_id: str | int) -> int:
    """The unix milliseconds a snowflake id was drawn at."""
    return (int(build_id) >> (NODE_BITS + SEQUENCE_BITS)) + EPOCH_MS


_default = Snowflake()


def new_build_id() -> str:
    return _default.next()
