"""``amur vision analyze IMAGE...``: one JSON object per image (fire, smoke, health flags).

Each image is judged on its own (no camera history, so no flicker or baseline).
An image that cannot be read or decoded prints ``{"path": ..., "error": ...}``
and the command exits 1 after the others; it never stops at the first bad file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import read_frame
from vision.analysis.errors import AnalysisError
from vision.analysis.image import ImageAnalysis, analyse_image
from vision.analysis.model import DEFAULT_MODEL_PATH, FireSmokeModel


def report(path: str, result: ImageAnalysis, model: FireSmokeModel) -> dict[str, object]:
    """The printed record of one analysed image."""
    card = model.card
    return {
        "path": path,
        "fire": result.fire_probability >= card.fire_threshold,
        "fire_score": round(result.fire_probability, 4),
        "fire_region": result.fire_region,
        "smoke": result.smoke_probability >= card.smoke_threshold,
        "smoke_score": round(result.smoke_probability, 4),
        "smoke_region": result.smoke_region,
        "dark": result.flags.dark,
        "overexposed": result.flags.overexposed,
        "blurred": result.flags.blurred,
        "covered": result.flags.covered,
        "fire_colour_share": round(result.fire_colour_share, 4),
        "sharpness": round(result.health.sharpness, 4),
        "luma_mean": round(result.health.luma_mean, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="amur vision analyze", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="ONNX classifier (card JSON beside it)")
    args = parser.parse_args(argv)
    config = AnalysisConfig()
    try:
        model = FireSmokeModel.load(args.model)
    except AnalysisError as exc:
        print(f"amur vision analyze: {exc}", file=sys.stderr)
        return 2
    failures = 0
    for path in args.images:
        try:
            record = report(path, analyse_image(read_frame(path, target_width=config.decode_width), model, config), model)
        except AnalysisError as exc:
            failures += 1
            record = {"path": path, "error": str(exc)}
        print(json.dumps(record), flush=True)
    return 1 if failures else 0
