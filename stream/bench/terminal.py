"""What a bench shows on a terminal: its progress (stderr, transient) and its rows as a table.

Off a terminal none of it appears: no progress, and rows are the plain lines the
benches always printed, each as it comes (docs/PERFORMANCE.md quotes them, and
scripts parse them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table


class _Progress(Progress):
    """A progress display with a renderable (a table filling up) above its bar."""

    def __init__(self, above: RenderableType | None, *args: object, **kwargs: object) -> None:
        self.above = above  # before Progress.__init__, which renders once
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def get_renderables(self) -> Iterable[RenderableType]:
        if self.above is not None:
            yield self.above
        yield from super().get_renderables()


class Steps:
    """A bench's progress through its phases, one ``start`` per phase; silent unless stderr is a terminal.

    ``above`` is shown over the bar while the bench runs (``Rows.live``). What the
    bench prints meanwhile goes above the display when stdout is the same terminal.
    """

    def __init__(self, total: int, *, above: RenderableType | None = None) -> None:
        stderr = Console(stderr=True)
        self._progress = _Progress(
            above, SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=stderr, transient=True, disable=not stderr.is_terminal,
            redirect_stdout=Console().is_terminal)
        self._task = self._progress.add_task("", total=total)
        self._begun = False

    def __enter__(self) -> Steps:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def start(self, description: str) -> None:
        """Begin the next phase; the one before it is done."""
        self._progress.update(self._task, advance=1 if self._begun else 0, description=description)
        self._begun = True


class Rows:
    """Rows of one shape: a rich table on a terminal, printed by ``show``; plain lines otherwise, as they come.

    Columns named by a string are figures, right-aligned, but the first; pass a
    ``Column`` to choose. ``header`` is the plain form of the table's header,
    printed before the first plain line.
    """

    def __init__(self, *headers: str | Column, title: str | None = None, header: str | None = None) -> None:
        self._console = Console()
        self._header = header
        columns = [Column(h, justify="right" if k else "left", overflow="fold") if isinstance(h, str) else h
                   for k, h in enumerate(headers)]
        self.table = Table(*columns, title=title, title_justify="left")

    @property
    def live(self) -> Table | None:
        """The table to show while it fills up (for ``Steps(above=...)``); None off a terminal."""
        return self.table if self._console.is_terminal else None

    def add(self, cells: Sequence[str], line: str) -> None:
        """One row: ``cells`` for the table, ``line`` its plain form."""
        if self._console.is_terminal:
            self.table.add_row(*cells)
        else:
            if self._header is not None:
                print(self._header, flush=True)
                self._header = None
            print(line, flush=True)

    def show(self) -> None:
        """Print the table (on a terminal; the plain lines are already out)."""
        if self._console.is_terminal:
            self._console.print(self.table)
