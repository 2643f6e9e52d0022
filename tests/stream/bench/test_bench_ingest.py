"""`amur bench ingest`: its options, and its figures printed as plain aligned lines off a terminal.

A real run (broker, worker) takes tens of seconds; the printing is checked on given figures.
"""

import pytest

from stream.bench.ingest import Figures, Rate, print_figures
from stream.cli.main import main as amur


def test_figures_are_aligned_plain_lines_with_the_goal(capsys):
    figures = Figures(readings=200_000, messages=200, rejected=0, raw_single=Rate(378_445, 442_060),
                      raw_batched=Rate(2_054_116, 2_000_000), worker=Rate(141_743, 194_250),
                      intake=Rate(356_435, 360_000))
    print_figures(figures, partitions=4, rounds=3, external=False)
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "amur bench ingest: 200,000 readings in 200 messages, 4 partitions, broker=embedded Tansu, "
        "median of 3 rounds",
        "                                               per wall s      per CPU s",
        "  raw aiokafka consume, 1 reading/msg             378,445        442,060  msgs/s",
        "  raw aiokafka consume, 1,000 per msg           2,054,116      2,000,000  readings/s",
        "  ingest worker (validate+dedupe+route)           141,743        194,250  readings/s",
        "  intake alone, no Kafka                          356,435        360,000  readings/s",
        "  ratio worker / raw 1-reading consume               0.37           0.44",
        "  ratio worker / raw batched consume                0.069          0.097",
        "  rejected in the worker: 0 (expected 0)",
        "  goal >= 100,000 readings/s per worker: met (wall clock on this machine now)",
    ]
    assert captured.err == ""


def test_help_lists_the_options(capsys):
    assert amur(["bench", "ingest", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--readings", "--partitions", "--rounds"))


@pytest.mark.parametrize("args,named", [(["--readings", "0"], "'--readings'"), (["--partitions", "four"],
                                                                                 "'--partitions'")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named):
    assert amur(["bench", "ingest", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
