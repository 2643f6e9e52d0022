"""`amur topics` on the embedded broker: every topic created, printed with its partition count."""

from __future__ import annotations

import pytest

from stream.cli.main import main as amur
from stream.runtime.app import build_app, expected_topics
from tests.conftest import settings_env


@pytest.mark.parametrize("argv", [["topics"]])
def test_help_describes_the_command(argv: list[str], capsys) -> None:
    assert amur([*argv, "--help"]) == 0
    assert "Usage: amur topics" in capsys.readouterr().out


def test_an_unknown_option_is_a_one_line_usage_error(capsys) -> None:
    assert amur(["topics", "--partitions", "3"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--partitions" in lines[0] and lines[0].startswith("amur topics: error:")


@pytest.mark.integration
def test_amur_topics_creates_and_prints_every_topic_with_its_count(make_settings, monkeypatch, capsys) -> None:
    settings = make_settings(partitions=3)
    for variable, value in settings_env(settings).items():
        if variable.startswith("AMUR_"):
            monkeypatch.setenv(variable, value)
    assert amur(["topics"]) == 0
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert {name: int(count) for name, count in printed.items()} == expected_topics(build_app(settings))
