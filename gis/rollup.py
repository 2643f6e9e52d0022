"""Roll cell colours up the five levels: worst colour and counts per colour for each unit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.errors import ModelInputError
from gis.grid import GridModel
from gis.risk import COLOURS
from stream.schemas import Colour


@dataclass(frozen=True, eq=False)
class LevelRollup:
    level: str
    codes: NDArray[np.str_]
    worst: NDArray[np.int8]
    """Worst colour index (0 green .. 4 red) per unit."""
    counts: NDArray[np.int64]
    """(units, 5): cells per colour, green..red."""

    def summary(self, code: str) -> tuple[Colour, dict[Colour, int]]:
        i = int(np.searchsorted(self.codes, code))
        if i >= len(self.codes) or self.codes[i] != code:
            raise KeyError(f"no {self.level} with code {code!r}")
        return COLOURS[int(self.worst[i])], {c: int(n) for c, n in zip(COLOURS, self.counts[i])}


def rollup(model: GridModel, colour: ArrayLike) -> dict[str, LevelRollup]:
    """Per level (city, county, township, village): worst colour and counts of a whole-grid colouring."""
    col = np.asarray(colour, dtype=np.int64)
    if col.shape != (model.size,):
        raise ModelInputError(f"need one colour per cell ({model.size}), got shape {col.shape}")
    out = {}
    for lv in model.levels:
        n = len(lv.codes)
        counts = np.bincount(lv.of_cell * len(COLOURS) + col, minlength=n * len(COLOURS)).reshape(n, len(COLOURS))
        worst = np.full(n, 0, dtype=np.int64)
        np.maximum.at(worst, lv.of_cell, col)
        out[lv.name] = LevelRollup(lv.name, lv.codes, worst.astype(np.int8), counts)
    return out
