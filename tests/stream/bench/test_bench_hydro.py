"""`amur bench hydro` replays the crest-5 scenario through the pure pipeline (no timing assertions)."""

import json

import pytest

from stream.cli.main import main as amur


def test_bench_hydro_prints_its_figures_and_the_design_point(capsys):
    assert amur(["bench", "hydro"]) == 0
    captured = capsys.readouterr()
    figures = json.loads(captured.out)
    # the count of forecasts is the pipeline's (tests/gis/hydro); revisions re-issue them, so it is not pinned here
    assert figures["readings"] == 34_584 and figures["forecasts_published"] > 0
    assert figures["detector_readings_per_s"] > 0 and figures["pipeline_readings_per_s"] > 0
    assert figures["design_point_readings_per_s"] == 0.2 and figures["pipeline_headroom_x"] > 1
    assert captured.err == ""  # no progress off a terminal


def test_help_lists_the_options(capsys):
    assert amur(["bench", "hydro", "--help"]) == 0
    assert "--seed" in capsys.readouterr().out


@pytest.mark.parametrize("args,named", [(["--seed", "seven"], "'--seed'"), (["--seeds", "7"], "--seeds")])
def test_usage_error_is_one_line_naming_the_option(capsys, args, named):
    assert amur(["bench", "hydro", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1 and named in captured.err
