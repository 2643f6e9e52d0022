"""``amur vision analyze IMAGE...``: one JSON object per image (fire, smoke, health flags).

Each image is judged on its own (no camera history, so no flicker or baseline).
An image that cannot be read or decoded prints ``{"path": ..., "error": ...}``
and the command exits 1 after the others; it never stops at the first bad file.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from vision.analysis.config import AnalysisConfig
from vision.analysis.decode import read_frame
from vision.analysis.errors import AnalysisError
from vision.analysis.image import DETECTORS, Detector, ImageAnalysis, analyse_image


def report(path: str, result: ImageAnalysis, model: Detector) -> dict[str, object]:
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


@click.command(name="analyze", help=(
    "Analyse each IMAGE for fire, smoke and camera health: one JSON object per image.\n\n"
    "Each image is judged on its own (no camera history, so no flicker or baseline). An image that cannot "
    "be read or decoded prints {\"path\": ..., \"error\": ...} and the command exits 1 after the others."))
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...", type=click.Path())
@click.option("--detector", type=click.Choice(sorted(DETECTORS)), default="network", show_default=True,
              help="the patch network (pretrained backbone) or the 85-feature classifier")
@click.option("--model", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="another ONNX file of the chosen detector (card JSON beside it)")
def command(images: tuple[str, ...], detector: str, model: Path | None) -> int:
    config = AnalysisConfig()
    try:
        classifier: Detector = DETECTORS[detector](*([model] if model else []))
    except AnalysisError as exc:
        click.echo(f"amur vision analyze: {exc}", err=True)
        return 2
    failures = 0
    for path in images:
        try:
            record = report(path, analyse_image(read_frame(path, target_width=config.decode_width), classifier, config),
                            classifier)
        except AnalysisError as exc:
            failures += 1
            record = {"path": path, "error": str(exc)}
        click.echo(json.dumps(record))
    return 1 if failures else 0
