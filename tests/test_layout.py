"""The dependency rule of docs/architecture.md, checked on every import statement in the tree.

- Pure packages (domain decisions) import no I/O client: no Faust, aiokafka,
  redis, aiohttp or websockets, and none of stream's own I/O packages. Each names
  its I/O edges (the modules a reader looks at for the network) explicitly.
- ``gis/`` and ``vision/`` import nothing of ``stream`` but its wire schemas.
- Nothing but ``command_ui`` imports ``command_ui``.

Imports are read with ``ast`` (function-level imports included), so a lazy import
cannot hide a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

IO_CLIENTS = ("faust", "mode", "aiokafka", "redis", "aiohttp", "websockets")
STREAM_IO = ("stream.runtime", "stream.embedded.services", "stream.cameras", "stream.agents", "stream.cli.main",
             "stream.ingest.http", "stream.sim", "stream.drills", "stream.bench")
PURE = ("stream.schemas", "stream.topics", "stream.errors", "stream.ingest", "stream.risk", "stream.incidents",
        "stream.screens", "stream.dispatch", "gis", "vision")
EDGES = ("stream.ingest.http", "stream.incidents.notify.delivery", "vision.sources", "vision.fleet.server")
PACKAGES = ("stream", "gis", "vision", "command_ui")


def within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool) -> Iterator[str]:
    """Every module ``source`` imports, relative imports resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def violations(module: str, imported: Iterable[str]) -> list[str]:
    """What ``module`` must not import, by the rule above."""
    found = []
    for target in set(imported):
        if within(module, PURE) and not within(module, EDGES):
            if within(target, IO_CLIENTS):
                found.append(f"{module} is pure but imports the I/O client {target}")
            if within(target, STREAM_IO):
                found.append(f"{module} is pure but imports stream's I/O package {target}")
        if within(module, ("gis", "vision")) and within(target, ("stream",)) \
                and not within(target, ("stream.schemas",)) and target != "stream":
            found.append(f"{module} imports {target}: gis/ and vision/ may use only stream.schemas")
        if within(target, ("command_ui",)) and not within(module, ("command_ui",)):
            found.append(f"{module} imports {target}: only command_ui knows command_ui")
    return sorted(found)


def tree() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            if "node_modules" not in path.parts:
                yield module_name(path, REPO_ROOT), path


def test_every_module_keeps_the_dependency_rule() -> None:
    found = []
    for module, path in tree():
        found += violations(module, imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"))
    assert found == []


def test_every_package_says_what_it_is() -> None:
    missing = [m for m, p in tree() if p.name == "__init__.py" and not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("stream.risk.score", "import redis.asyncio as r", "imports the I/O client redis.asyncio"),
    ("stream.ingest.intake", "def f():\n    from aiokafka import AIOKafkaProducer", "I/O client aiokafka"),
    ("stream.incidents.fusion", "from stream.runtime.metrics import Metrics", "stream's I/O package stream.runtime"),
    ("stream.incidents.fusion", "from ..runtime import app", "stream's I/O package stream.runtime"),
    ("gis.fire", "from stream.incidents import grid", "gis/ and vision/ may use only stream.schemas"),
    ("vision.analysis.camera", "import faust", "I/O client faust"),
    ("stream.agents.risk", "from command_ui import hub", "only command_ui knows command_ui"),
])
def test_the_rule_catches_what_it_forbids(module: str, source: str, expected: str) -> None:
    found = violations(module, imports_of(source, module, is_package=False))
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(("module", "source"), [
    ("stream.ingest.http.server", "from aiohttp import web"),
    ("stream.incidents.notify.delivery", "import aiohttp"),
    ("stream.agents.risk", "import faust\nfrom stream.risk import score"),
    ("gis.fire", "from stream.schemas import Colour"),
    ("stream.risk.score", "from gis.fire import cell_fwi"),
])
def test_the_rule_allows_the_named_edges_and_the_downward_imports(module: str, source: str) -> None:
    assert violations(module, imports_of(source, module, is_package=False)) == []
