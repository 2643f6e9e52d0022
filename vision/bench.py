"""``amur bench vision``: decode + analysis frames/s against decode alone, one core and two.

Frames are JPEGs rendered by the simulated fleet (``--source fleet``) or real
photos of the labelled set re-encoded at each size (``--source photos``), at
640x360, 960x540 and 1280x720. Every figure comes from the same run on the same frames:

- ``decode full``: ``cv2.imdecode`` at full resolution (what a naive sampler does);
- ``decode reduced``: :func:`decode_frame` (libjpeg scales by 1/2 or 1/4 in the IDCT);
- ``decode + analysis``: reduced decode then :func:`analyse_frame` (masks, health,
  comparisons with the camera's state; features and classifier only when flicker or drift
  could make a finding), i.e. the whole per-sample cost;
- ``decode + analysis, classifier always``: the same with ``classifier_cascade=False``, the
  cost of a sample whose flicker or drift calls for the detector (the upper bound);
- ``network alone``: the patch network's own inferences/s on decoded frames (resize, blob,
  ``cv2.dnn`` forward), without decode or analysis.

The detector is the shipped one (the patch network, ``fire_smoke_net.onnx``). The share of the
cascade's frames that reached the network is printed beside the rates.

Each bench camera alternates between two frames (its scene 10 s apart, so sensor noise
and light differ), as a live camera's samples do; the cascade's skips here are those of
a camera whose samples show no flicker or drift above the thresholds.

OpenCV is held to one thread per process, so "1 core" is one process and "2 cores"
is two processes (multiprocessing) each running the same loop.

On a terminal the command shows its progress on stderr and prints the figures as a
table; piped, it prints them as Markdown rows as each is measured (the form
docs/PERFORMANCE.md quotes). The verdict lines follow either way.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import click
import cv2
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vision.analysis.camera import analyse_frame
from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import decode_frame
from vision.analysis.network import PatchNetwork
from vision.analysis.state import CameraState

SIZES = ((640, 360), (960, 540), (1280, 720))
"""The simulated fleet's frame sizes (70 %, 20 % and 10 % of its cameras)."""
MODES = ("decode full", "decode reduced", "decode + analysis", "decode + analysis, classifier always", "network alone")
COLUMNS = ("size", "processes", "decode full (f/s)", "decode reduced (f/s)", "decode + analysis (f/s)",
           "same, classifier always (f/s)", "network alone (inferences/s)", "share reaching the network",
           "analysis ms/frame", "analysis ms/frame, classifier always", "reduced decode ms/frame", "full decode ms/frame")
SHARE = "share reaching the network"
_START = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)


def fleet_jpegs(width: int, height: int, count: int, seed: int = 1) -> list[bytes]:
    """``count`` fleet frames of one size: ``count // 2`` cameras (scenes and times of day vary), each
    rendered twice 10 s apart (frames ``2c`` and ``2c + 1`` are camera ``c``'s)."""
    from vision.fleet.camera import FleetCamera
    from vision.fleet.render import FrameRenderer, encode_jpeg
    from vision.fleet.scene import SceneKind

    renderer = FrameRenderer(seed=seed)
    scenes = list(SceneKind)
    frames = []
    for i in range(count):
        c = i // 2
        camera = FleetCamera(f"bench-{c}", scenes[c % len(scenes)], width, height, c % 4, 0, 127.5, 50.25, None)
        frames.append(encode_jpeg(renderer.render(camera, _START + timedelta(minutes=37 * c, seconds=10 * (i % 2)))))
    return frames


def photo_jpegs(width: int, height: int, count: int) -> list[bytes]:
    """``count`` frames from ``count // 2`` real photos of the labelled set, resized to one size, each
    re-encoded twice (quality 80) with different sensor noise (sigma 2 grey levels), as two samples.

    Real pictures carry more detail and noise than rendered scenes, so they decode slower.
    """
    from vision.analysis.dataset import load_all

    images = load_all()
    cameras = max(1, count // 2)
    picked = images[:: max(1, len(images) // cameras)][:cameras]
    rng = np.random.default_rng(1)
    frames = []
    for i in range(count):
        image = picked[(i // 2) % len(picked)]
        pixels = cv2.resize(cv2.imread(str(image.path), cv2.IMREAD_COLOR), (width, height),
                            interpolation=cv2.INTER_AREA)
        noisy = np.clip(pixels + rng.normal(0.0, 2.0, pixels.shape), 0, 255).astype(np.uint8)
        frames.append(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return frames


class _CountedNetwork(PatchNetwork):
    """The shipped network, counting its inferences (the cascade's share that reached it)."""

    calls: int = 0

    def cell_logits(self, pixels: np.ndarray) -> np.ndarray:
        self.calls += 1
        return super().cell_logits(pixels)


def _steps(jpegs: list[bytes]) -> tuple[dict[str, Callable[[int], None]], _CountedNetwork, PatchNetwork]:
    """One call per mode that processes frame ``i`` (cycling through ``jpegs``), the cascade's network."""
    config = AnalysisConfig()
    always = AnalysisConfig(classifier_cascade=False)
    shipped = PatchNetwork.load()
    counted = _CountedNetwork.load()
    states = {name: [CameraState() for _ in jpegs] for name in ("cascade", "always")}
    decoded = [decode_frame(j, target_width=config.decode_width).pixels for j in jpegs]

    def full(i: int) -> None:
        cv2.imdecode(np.frombuffer(jpegs[i % len(jpegs)], np.uint8), cv2.IMREAD_COLOR)

    def reduced(i: int) -> None:
        decode_frame(jpegs[i % len(jpegs)], target_width=config.decode_width)

    def analysed(i: int, name: str = "cascade", settings: AnalysisConfig = config) -> None:
        camera = (i % len(jpegs)) // 2  # frames 2c and 2c + 1 are camera c's two samples
        frame = decode_frame(jpegs[i % len(jpegs)], target_width=config.decode_width)
        now = _START + timedelta(seconds=10 * i)
        model = counted if name == "cascade" else shipped
        _, states[name][camera] = analyse_frame(frame, states[name][camera], now, settings, model)

    def classified(i: int) -> None:
        analysed(i, "always", always)

    def network(i: int) -> None:
        shipped.cell_logits(decoded[i % len(decoded)])

    return dict(zip(MODES, (full, reduced, analysed, classified, network))), counted, shipped


def _interleaved(jpegs: list[bytes], seconds: float) -> dict[str, float]:
    """Frames/s of every mode in this process, measured in alternating slices of 0.2 s.

    Alternating spreads any load from other processes evenly over the modes, so the
    ratios stay fair on a shared machine even when the absolute figures move.
    """
    cv2.setNumThreads(1)
    steps, counted, _ = _steps(jpegs)
    for step in steps.values():  # warm-up
        for i in range(len(jpegs)):
            step(i)
    counted.calls = 0
    done = dict.fromkeys(MODES, 0)
    spent = dict.fromkeys(MODES, 0.0)
    while min(spent.values()) < seconds:
        for mode, step in steps.items():
            begin = time.perf_counter()
            while time.perf_counter() - begin < 0.2:
                step(done[mode])
                done[mode] += 1
            spent[mode] += time.perf_counter() - begin
    rates = {mode: done[mode] / spent[mode] for mode in MODES}
    rates[SHARE] = counted.calls / max(1, done["decode + analysis"])
    return rates


def _worker(args: tuple[list[bytes], float]) -> dict[str, float]:
    return _interleaved(*args)


def measure(jpegs: list[bytes], seconds: float, processes: int) -> dict[str, float]:
    """Total frames/s per mode of ``processes`` processes running side by side."""
    if processes == 1:
        return _interleaved(jpegs, seconds)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_worker, [(jpegs, seconds)] * processes)
    total = {mode: sum(r[mode] for r in results) for mode in MODES}
    total[SHARE] = sum(r[SHARE] for r in results) / len(results)
    return total


@dataclass(frozen=True)
class Figures:
    """One measurement: frames/s per mode of ``processes`` processes on frames of one ``size``."""

    size: str
    processes: int
    rates: dict[str, float]

    def ms(self, mode: str) -> float:
        """Milliseconds of one core per frame in ``mode``."""
        return 1000 * self.processes / self.rates[mode]

    @property
    def analysis_ms(self) -> float:
        return self.ms("decode + analysis") - self.ms("decode reduced")

    @property
    def always_ms(self) -> float:
        return self.ms("decode + analysis, classifier always") - self.ms("decode reduced")

    def cells(self) -> list[str]:
        """The row's figures, in the order of :data:`COLUMNS`."""
        rates = [f"{self.rates[mode]:.0f}" for mode in MODES]
        costs = (self.analysis_ms, self.always_ms, self.ms("decode reduced"), self.ms("decode full"))
        return [self.size, str(self.processes), *rates, f"{self.rates[SHARE]:.3f}", *(f"{ms:.2f}" for ms in costs)]

    def verdict(self) -> str:
        analysis, always = self.analysis_ms, self.always_ms
        reduced, full = self.ms("decode reduced"), self.ms("decode full")
        return (
            f"{self.size}: analysis {analysis:.2f} ms/frame ({always:.2f} with the classifier on every frame) "
            f"vs full decode {full:.2f} ms ({'within' if analysis <= full else 'OVER'} budget), "
            f"vs reduced decode {reduced:.2f} ms ({'within' if analysis <= reduced else 'over'}; "
            f"classifier always: {'within' if always <= reduced else 'over'}); "
            f"{self.rates['decode + analysis']:.0f} frames/s with the cascade (goal 1,000 on two cores), "
            f"network alone {self.rates['network alone']:.0f} inferences/s (goal 200 on two cores), "
            f"{100 * self.rates[SHARE]:.1f} % of frames reached the network"
        )


def markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(rows: list[Figures]) -> Table:
    grid = Table(COLUMNS[0])
    for name in COLUMNS[1:]:
        grid.add_column(name, justify="right")
    for row in rows:
        grid.add_row(*row.cells())
    return grid


@click.command(name="vision", help=(
    "Decode + analysis frames/s against decode alone, one core and two, at 640x360, 960x540 and 1280x720.\n\n"
    "Four modes alternate in 0.2 s slices on the same frames: full decode, reduced decode, decode + analysis "
    "(with the classifier cascade) and decode + analysis with the classifier on every frame. Then one verdict "
    "per size (one process): analysis against the full and the reduced decode."))
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True,
              help="per measurement")
@click.option("--frames", type=click.IntRange(min=1), default=16, show_default=True, help="distinct frames per size")
@click.option("--processes", type=click.IntRange(min=1), multiple=True, default=(1, 2), show_default=True,
              help="processes side by side, one measurement each (repeat the option: --processes 1 --processes 2)")
@click.option("--source", type=click.Choice(("fleet", "photos", "both")), default="fleet", show_default=True,
              help="rendered fleet frames, real photos of the labelled sets (needs ../shared/datasets), or both in turn")
@click.option("--sizes", type=click.Choice(("all", "640x360")), default="all", show_default=True,
              help="the fleet's three frame sizes, or 640x360 only")
def command(seconds: float, frames: int, processes: tuple[int, ...], source: str, sizes: str) -> int:
    out, err = Console(), Console(stderr=True)
    click.echo(f"amur bench vision: {source} frames, {os.cpu_count()} CPUs, OpenCV {cv2.__version__}, "
               f"{seconds:g} s per figure")
    measured = SIZES if sizes == "all" else SIZES[:1]
    for kind in (("fleet", "photos") if source == "both" else (source,)):
        _bench(kind, measured, seconds, frames, processes, out, err)
    return 0


def _bench(source: str, sizes: tuple[tuple[int, int], ...], seconds: float, frames: int, processes: tuple[int, ...],
           out: Console, err: Console) -> None:
    make_jpegs = fleet_jpegs if source == "fleet" else photo_jpegs
    click.echo(f"\n{source} frames:")
    if not out.is_terminal:
        click.echo(markdown_row(list(COLUMNS)))
        click.echo("|---" + "|---:" * (len(COLUMNS) - 1) + "|")
    rows: list[Figures] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, redirect_stdout=False, disable=not err.is_terminal) as progress:
        task = progress.add_task("bench vision", total=len(sizes) * (1 + len(processes)))
        for width, height in sizes:
            progress.update(task, description=f"{width}x{height}: {frames} {source} frames")
            jpegs = make_jpegs(width, height, frames)
            progress.advance(task)
            for count in processes:
                progress.update(task, description=f"{width}x{height}: {count} process(es), {len(MODES)} modes")
                rows.append(Figures(f"{width}x{height}", count, measure(jpegs, seconds, count)))
                progress.advance(task)
                if not out.is_terminal:
                    click.echo(markdown_row(rows[-1].cells()))
    if out.is_terminal:
        out.print(table(rows))
    click.echo()
    for row in rows:
        click.echo(f"{source}, {row.processes} process(es), {row.verdict()}")
