"""``amur bench vision``: decode + analysis frames/s against decode alone, one core and two.

Frames are JPEGs rendered by the simulated fleet (natural-looking scenes at
640x360 and 1280x720). Every figure comes from the same run on the same frames:

- ``decode full``: ``cv2.imdecode`` at full resolution (what a naive sampler does);
- ``decode reduced``: :func:`decode_frame` (libjpeg scales by 1/2 or 1/4 in the IDCT);
- ``decode + analysis``: reduced decode then :func:`analyse_frame` (features, classifier,
  health, comparisons with the camera's state), i.e. the whole per-sample cost.

OpenCV is held to one thread per process, so "1 core" is one process and "2 cores"
is two processes (multiprocessing) each running the same loop.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np

from vision.analysis.camera import analyse_frame
from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import decode_frame
from vision.analysis.model import FireSmokeModel
from vision.analysis.state import CameraState

SIZES = ((640, 360), (1280, 720))
MODES = ("decode full", "decode reduced", "decode + analysis")
_START = datetime(2026, 6, 15, 4, 0, tzinfo=timezone.utc)


def fleet_jpegs(width: int, height: int, count: int, seed: int = 1) -> list[bytes]:
    """``count`` fleet frames (scenes and times of day vary) of one size."""
    from vision.fleet.camera import FleetCamera
    from vision.fleet.render import FrameRenderer, encode_jpeg
    from vision.fleet.scene import SceneKind

    renderer = FrameRenderer(seed=seed)
    scenes = list(SceneKind)
    frames = []
    for i in range(count):
        camera = FleetCamera(f"bench-{i}", scenes[i % len(scenes)], width, height, i % 4, 0, 127.5, 50.25, None)
        frames.append(encode_jpeg(renderer.render(camera, _START + timedelta(minutes=37 * i))))
    return frames


def _loop(mode: str, jpegs: list[bytes], seconds: float) -> float:
    """Frames/s of one mode in this process for about ``seconds``."""
    cv2.setNumThreads(1)
    config = AnalysisConfig()
    step: Callable[[bytes, int], None]
    if mode == "decode full":
        def step(data: bytes, i: int) -> None:
            cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    elif mode == "decode reduced":
        def step(data: bytes, i: int) -> None:
            decode_frame(data, target_width=config.decode_width)
    else:
        model = FireSmokeModel.load()
        states = [CameraState() for _ in jpegs]

        def step(data: bytes, i: int) -> None:
            camera = i % len(jpegs)
            now = _START + timedelta(seconds=10 * i)
            _, states[camera] = analyse_frame(decode_frame(data, target_width=config.decode_width), states[camera], now, config, model)
    for i in range(min(len(jpegs), 20)):  # warm-up
        step(jpegs[i % len(jpegs)], i)
    done, begin = 0, time.perf_counter()
    while time.perf_counter() - begin < seconds:
        step(jpegs[done % len(jpegs)], done)
        done += 1
    return done / (time.perf_counter() - begin)


def _worker(args: tuple[str, list[bytes], float]) -> float:
    return _loop(*args)


def measure(mode: str, jpegs: list[bytes], seconds: float, processes: int) -> float:
    """Total frames/s of ``processes`` processes running ``mode`` side by side."""
    if processes == 1:
        return _loop(mode, jpegs, seconds)
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return sum(pool.map(_worker, [(mode, jpegs, seconds)] * processes))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="amur bench vision", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--frames", type=int, default=16, help="distinct frames per size")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    print(f"amur bench vision: {os.cpu_count()} CPUs, OpenCV {cv2.__version__}, {args.seconds:g} s per figure")
    print("| size | processes | decode full (f/s) | decode reduced (f/s) | decode + analysis (f/s) | analysis ms/frame | reduced decode ms/frame | full decode ms/frame |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for width, height in SIZES:
        jpegs = fleet_jpegs(width, height, args.frames)
        for processes in args.processes:
            rates = {mode: measure(mode, jpegs, args.seconds, processes) for mode in MODES}
            per_process = {mode: rate / processes for mode, rate in rates.items()}
            reduced_ms = 1000 / per_process["decode reduced"]
            full_ms = 1000 / per_process["decode full"]
            analysis_ms = 1000 / per_process["decode + analysis"] - reduced_ms
            print(
                f"| {width}x{height} | {processes} | {rates['decode full']:.0f} | {rates['decode reduced']:.0f} | "
                f"{rates['decode + analysis']:.0f} | {analysis_ms:.2f} | {reduced_ms:.2f} | {full_ms:.2f} |"
            )
            if processes == 1:
                verdicts.append((f"{width}x{height}", analysis_ms, reduced_ms, full_ms))
    print()
    for size, analysis_ms, reduced_ms, full_ms in verdicts:
        print(
            f"{size}: analysis {analysis_ms:.2f} ms/frame vs full decode {full_ms:.2f} ms "
            f"({'within' if analysis_ms <= full_ms else 'OVER'} budget), vs reduced decode {reduced_ms:.2f} ms "
            f"({'within' if analysis_ms <= reduced_ms else 'over'})"
        )
    return 0
