"""Muskingum routing against published textbook tables (tests/data/hydro/*.csv cite them)."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.hydro.errors import UnstableRouting
from gis.hydro.muskingum import (
    MuskingumCoefficients,
    coefficients,
    route,
    route_reach,
    route_with,
    subreaches_needed,
)
from tests.conftest import TESTS

DATA = TESTS / "data" / "hydro"


def _table(name: str) -> tuple[list[float], list[float]]:
    with (DATA / name).open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [float(r["inflow"]) for r in rows], [float(r["outflow"]) for r in rows]


def test_chow_example_coefficients_match_the_printed_four_decimals() -> None:
    # Chow, Maidment & Mays (1988) Example 8.4: C1 = 0.0631, C2 = 0.3442, C3 = 0.5927.
    c = coefficients(2.3, 0.15, 1.0)
    assert (round(c.c0, 4), round(c.c1, 4), round(c.c2, 4)) == (0.0631, 0.3442, 0.5927)


def test_chow_example_outflow_reproduced_to_the_printed_unit() -> None:
    inflow, printed = _table("chow_1988_example_8_4.csv")
    # The book routes with its printed (4-decimal) coefficients.
    book = route_with(MuskingumCoefficients(0.0631, 0.3442, 0.5927), inflow, o0=85)
    assert [round(q) for q in book] == printed
    # Exact coefficients differ from the printed ones in the 5th decimal; the outflow then stays
    # within about half a cfs of the printed units (max 0.504 at 4 h: 159.50 vs 159).
    exact = route(inflow, 2.3, 0.15, 1.0, o0=85)
    assert max(abs(a - b) for a, b in zip(exact, printed)) <= 0.51


def test_subramanya_example_coefficients_and_outflow() -> None:
    c = coefficients(12.0, 0.20, 6.0)
    # The book prints C0 = 0.048, C1 = 0.429 and takes C2 = 1 - C0 - C1 = 0.523 (exactly 0.5238).
    assert (round(c.c0, 3), round(c.c1, 3)) == (0.048, 0.429)
    assert round(1 - round(c.c0, 3) - round(c.c1, 3), 3) == 0.523
    assert c.c2 == pytest.approx(0.5238, abs=5e-5)
    inflow, printed = _table("subramanya_muskingum_example.csv")
    book = route_with(MuskingumCoefficients(0.048, 0.429, 0.523), inflow, o0=10.0)
    # The book rounds every product to 2 decimals by hand (e.g. 0.523 x 46.93 printed 24.55), so
    # its last digit drifts by up to 0.02 from an unrounded computation.
    assert [round(q, 2) for q in book[:7]] == printed[:7]
    assert max(abs(a - b) for a, b in zip(book, printed)) <= 0.02
    exact = route(inflow, 12.0, 0.20, 6.0, o0=10.0)
    assert max(abs(a - b) for a, b in zip(exact, printed)) <= 0.05


@pytest.mark.parametrize(
    ("k", "x", "dt", "bound"),
    [(2.3, 0.5, 1.0, "2KX"), (0.3, 0.1, 1.0, "2K(1-X)"), (12.0, 0.2, 4.0, "2KX"), (12.0, 0.2, 20.0, "2K(1-X)")],
)
def test_unstable_parameters_are_refused_naming_the_bound(k: float, x: float, dt: float, bound: str) -> None:
    with pytest.raises(UnstableRouting) as err:
        coefficients(k, x, dt)
    assert f" {bound}=" in str(err.value)
    assert f"k={k:g}" in str(err.value) and f"x={x:g}" in str(err.value)


@pytest.mark.parametrize(("k", "x", "dt"), [(-1.0, 0.2, 1.0), (2.0, 0.7, 1.0), (2.0, -0.1, 1.0), (2.0, 0.2, 0.0)])
def test_nonsense_parameters_are_refused(k: float, x: float, dt: float) -> None:
    with pytest.raises(UnstableRouting):
        coefficients(k, x, dt)


def test_edges_of_the_stable_range_are_allowed() -> None:
    assert coefficients(2.0, 0.25, 1.0).c0 == pytest.approx(0.0)  # dt == 2KX
    assert coefficients(1.0, 0.5, 1.0).c2 == pytest.approx(0.0)  # dt == 2K(1-X) == 2KX


def test_subreaches_make_a_long_reach_routable() -> None:
    assert subreaches_needed(40.0, 0.2, 1.0) == 16
    with pytest.raises(UnstableRouting):
        coefficients(40.0, 0.2, 1.0)
    wave = [100.0] * 5 + [100.0 + 50 * i for i in range(10)] + [550.0 - 50 * i for i in range(10)] + [100.0] * 150
    out = route_reach(wave, 40.0, 0.2, 1.0)
    peak_in, peak_out = wave.index(max(wave)), out.index(max(out))
    assert max(out) < max(wave)  # attenuated
    # A cascade of linear reservoirs delays the centroid by K (within the 1-h discretisation).
    centroid = lambda q: sum(i * (v - 100) for i, v in enumerate(q)) / sum(v - 100 for v in q)  # noqa: E731
    assert centroid(out) - centroid(wave) == pytest.approx(40.0, abs=1.0)
    assert peak_out > peak_in


@settings(max_examples=60, deadline=None)
@given(
    k=st.floats(0.5, 30.0),
    x=st.floats(0.0, 0.5),
    inflow=st.lists(st.floats(0.0, 1e4), min_size=2, max_size=60),
)
def test_stable_routing_keeps_volume_and_stays_within_the_inflow_range(k: float, x: float, inflow: list[float]) -> None:
    dt = max(2 * k * x, 0.5)
    if dt > 2 * k * (1 - x):
        return
    out = route(inflow, k, x, dt)
    c = coefficients(k, x, dt)
    assert c.c0 + c.c1 + c.c2 == pytest.approx(1.0)
    assert min(c.c0, c.c1, c.c2) >= -1e-12
    # Non-negative coefficients summing to 1: outflow never leaves the range of what came in.
    assert min(inflow) - 1e-6 <= min(out) and max(out) <= max(inflow) + 1e-6
    # Continuity: storage change equals (mean inflow - mean outflow) dt, summed over the series.
    s = lambda i, o: k * (x * i + (1 - x) * o)  # noqa: E731
    stored = s(inflow[-1], out[-1]) - s(inflow[0], out[0])
    balance = sum(((inflow[j] + inflow[j + 1]) - (out[j] + out[j + 1])) / 2 * dt for j in range(len(inflow) - 1))
    assert stored == pytest.approx(balance, rel=1e-9, abs=1e-6 * max(1.0, max(inflow)) * len(inflow) * (dt + k))
