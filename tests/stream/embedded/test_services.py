"""`amur broker` and `amur redis`: their help, and a taken port refused in one line before anything starts."""

from __future__ import annotations

import socket

import pytest

from stream.cli.main import main as amur


@pytest.mark.parametrize("name", ["broker", "redis"])
def test_help_describes_the_command(name: str, capsys) -> None:
    assert amur([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"Usage: amur {name}" in out and "--help" in out


@pytest.mark.parametrize("name", ["broker", "redis"])
def test_an_unknown_option_is_a_one_line_usage_error(name: str, capsys) -> None:
    assert amur([name, "--port", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--port" in lines[0] and lines[0].startswith(f"amur {name}: error:")


@pytest.mark.parametrize("name, variable", [("broker", "AMUR_EMBEDDED_BROKER_PORT"),
                                            ("redis", "AMUR_EMBEDDED_REDIS_PORT")])
def test_a_taken_port_is_a_one_line_error_that_names_the_variable(name: str, variable: str, monkeypatch,
                                                                   capfd) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv(variable, str(port))
        assert amur([name]) == 2
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"amur {name}: port {port}") and variable in lines[0]
