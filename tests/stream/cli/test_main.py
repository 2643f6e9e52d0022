"""The `amur` command tree: every group and command answers --help; errors are one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from stream.cli.main import COMMANDS, Group, Tree, command_path, main, resolve


def paths(tree: Tree, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, entry in tree.items():
        yield (*prefix, name)
        if isinstance(entry, Group):
            yield from paths(entry.commands, (*prefix, name))


@pytest.mark.parametrize("path", list(paths(COMMANDS)), ids=" ".join)
def test_every_group_and_command_answers_help(path: tuple[str, ...], capsys: pytest.CaptureFixture) -> None:
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: amur {' '.join(path)} ")
    entry = resolve(path)
    if entry is None:  # a group lists its commands
        group = COMMANDS[path[0]]
        assert isinstance(group, Group)
        assert all(name in out for name in group.commands)


def test_the_top_level_lists_every_command_and_group(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in COMMANDS)


@pytest.mark.parametrize(("argv", "where", "what"), [
    (["bogus"], "amur", "No such command 'bogus'"),
    (["hydro", "bogus"], "amur hydro", "No such command 'bogus'"),
    (["alerts", "cap"], "amur alerts cap", "Missing argument 'INCIDENT_ID'"),
    (["hydro", "crests", "--prominence", "high", "x.csv"], "amur hydro crests", "'high' is not a valid float"),
    (["audit", "verify", "--head"], "amur audit verify", "'--head' requires an argument"),
])
def test_a_usage_error_is_one_line_naming_the_command_and_exits_2(argv: list[str], where: str, what: str,
                                                                  capsys: pytest.CaptureFixture) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith(f"{where}: error: ") and what in line, line
    assert captured.out == ""


def test_resolve_and_command_path_follow_the_table() -> None:
    assert resolve(["hydro", "crests", "a.csv"]) == ("gis.hydro.cli:crests_command", ["a.csv"])
    assert resolve(["hydro"]) is None and resolve(["nothing"]) is None
    assert command_path(["hydro", "crests", "--x"]) == "amur hydro crests"
    assert command_path(["--help"]) == "amur"


def test_a_command_imports_only_what_it_needs() -> None:
    """`amur fwi` must not pay for Faust, Kafka or OpenCV (a fresh interpreter, so nothing is preloaded)."""
    probe = ("import sys; from stream.cli.main import main; main(['fwi', '--help']); "
             "print(sorted(m for m in ('faust', 'aiokafka', 'cv2', 'redis') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
