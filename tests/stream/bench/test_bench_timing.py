"""The benches' clocks."""

import gc

from stream.bench.timing import Stopwatch, best_time


def test_best_time_is_the_fastest_call_with_garbage_collection_on():
    calls, collecting = [], []

    def fn() -> None:
        calls.append(1)
        collecting.append(gc.isenabled())
        sum(range(1000 * len(calls)))

    assert 0 < best_time(fn, 3) < 1 and len(calls) == 3 and all(collecting)


def test_stopwatch_reads_wall_and_cpu_together():
    watch = Stopwatch()
    sum(range(100_000))
    spent = watch.elapsed()
    assert spent.wall_s > 0 and spent.cpu_s >= 0
