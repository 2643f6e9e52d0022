"""The benches' clocks: the best of repeated calls, and wall and CPU time read together."""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls of ``fn``, in seconds: the one least disturbed by other jobs.

    Garbage collection stays on (``timeit`` turns it off by default), as it is in the stream.
    """
    return min(timeit.repeat(fn, setup="gc.enable()", number=1, repeat=repeat))


@dataclass(frozen=True)
class Span:
    """Time spent: wall clock and this process's CPU (all its threads), in seconds."""

    wall_s: float
    cpu_s: float


class Stopwatch:
    """Started when made; ``elapsed()`` is the wall and CPU time since (CPU holds up better on a shared machine)."""

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def elapsed(self) -> Span:
        return Span(time.perf_counter() - self._wall, time.process_time() - self._cpu)
