"""`amur worker`: its help and its usage errors (a running worker is exercised by the supervisor and drill tests)."""

from __future__ import annotations

import pytest

from stream.cli.main import main as amur


@pytest.mark.parametrize("argv", [["worker"]])
def test_help_describes_the_command(argv: list[str], capsys) -> None:
    assert amur([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: amur worker" in out and "AMUR_WORKER_WEB_PORT" in out


def test_an_unknown_option_is_a_one_line_usage_error(capsys) -> None:
    assert amur(["worker", "--workers", "2"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--workers" in lines[0] and lines[0].startswith("amur worker: error:")
