"""`amur bench dispatch`: its options, its percentiles, and its figures printed as plain lines off a terminal.

A real run (broker, Redis, an `amur ingest` process, thousands of requests) takes tens of seconds; the
printing is checked on given figures, the percentile against the nearest-rank definition.
"""

import pytest

from stream.bench.dispatch import Figures, Timed, percentile, print_figures
from stream.cli.main import main as amur


def test_the_cpu_of_a_process_is_read() -> None:
    import os

    from stream.bench.dispatch import process_cpu_s

    assert (process_cpu_s(os.getpid()) or 0) > 0 and process_cpu_s(2**22 + 7) is None


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 99, 100)] == [50.0, 99.0, 100.0]
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) == 0.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def test_figures_are_aligned_plain_lines(capsys) -> None:
    figures = Figures(requests=2000, concurrency=50, produce=Timed((5.0,) * 99 + (20.0,), 6039.0),
                      intake=Timed((60.0,) * 98 + (120.0, 130.0), 786.4, 1250.0), created=6001, on_topic=6001)
    print_figures(figures, partitions=4, rounds=3, external=False)
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "amur bench dispatch: 2,000 Open311 requests, 50 in flight, 4 partitions, broker=embedded Tansu, "
        "median of 3 rounds",
        "                                               p50 ms   p99 ms      per s",
        "  raw produce (acknowledged, one message)         5.0      5.0      6,039  msgs/s",
        "  Open311 intake (201 after acknowledged)        60.0    120.0        786  requests/s",
        "  ratio intake / raw produce                                         0.13",
        "  adapter CPU: 0.80 ms per request (1,250 requests per CPU s of the `amur ingest` process)",
        "  201s: 6,001, on the grid-events topic: 6,001, lost: 0 (expected 0)",
        "  goal: a burst of 1,000 requests in a minute (17/s): met (wall clock on this machine now)",
    ]
    assert captured.err == ""


def test_help_lists_the_options(capsys) -> None:
    assert amur(["bench", "dispatch", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--requests", "--concurrency", "--partitions", "--rounds"))


@pytest.mark.parametrize("args,named", [(["--requests", "0"], "'--requests'"),
                                        (["--concurrency", "many"], "'--concurrency'")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named) -> None:
    assert amur(["bench", "dispatch", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
