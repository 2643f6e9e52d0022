"""`amur sampler`: its help and its usage errors (the sampling itself is tested in the other sampler modules)."""

from __future__ import annotations

import pytest

from stream.cli.main import main as amur


@pytest.mark.parametrize("argv", [["sampler"]])
def test_help_describes_the_command(argv: list[str], capsys) -> None:
    assert amur([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: amur sampler" in out and "-sampler" in out


def test_an_unknown_option_is_a_one_line_usage_error(capsys) -> None:
    assert amur(["sampler", "--budget", "500"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--budget" in lines[0] and lines[0].startswith("amur sampler: error:")
