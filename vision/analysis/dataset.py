"""The labelled fire/smoke image set and its held-out split by source and scene.

Frames from one video are near-duplicates, so images are grouped into scenes
(one video, a run of nearby frame numbers, or one web photo and its numbered
siblings) and whole scenes go to either the training or the held-out side. The
split is stratified by source and label and depends only on the scene names (a
hash), never on a training seed: every model is judged on the same held-out scenes.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from vision.analysis.errors import DatasetError

#: repo root / .. / shared / datasets / fire-smoke (the team's shared data beside the repository).
DEFAULT_DATASET_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "fire-smoke"
DEFAULT_MORE_DIR = DEFAULT_DATASET_DIR.parent / "fire-smoke-more"
HELD_OUT_SHARE = 0.3
#: Short names of the sources (the file-name prefixes of fire-smoke-more; the owners' names otherwise).
SOURCE_NAMES = {
    "Abonia1/YOLOv8-Fire-and-Smoke-Detection": "abonia",
    "cair/Fire-Detection-Image-Dataset": "cair",
    "talalahmad27/Image-Classification-Using-Pretrained-models": "mwd",
    "Roarhun/WildfireSmoke-Detection-yolo11": "afm",
    "BIPLABMAHAPATRA1951/forest_fire_detection_": "bip",
    "liuzifan/fire_smoke_datasets": "lz",
    "kunge98/MATLAB_fireDetect": "kun",
    "Carla-de-Beer/convolutional-neural-network-landscape-classifier": "cdb",
    "ilknurpehlivan/Haze-Detection-and-Removal-with-CNN-and-DCP": "hzd",
    "mirkozaff/sky-segmentation": "mzs",
    "z3qi/ECE176_Final_Project": "dfa",
}
_LABELS = {"fire": (True, False), "smoke": (False, True), "fire_smoke": (True, True), "normal": (False, False)}
_ABONIA_RUN = 25
"""Abonia1 ``img_NNN`` frames within the same run of 25 numbers count as one scene."""


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    label: str
    source: str
    scene: str
    fire: bool
    smoke: bool
    licence: str = ""

    @property
    def short_source(self) -> str:
        """The source's short name (``afm``, ``cair`` ...), the unit of leave-one-source-out."""
        return SOURCE_NAMES.get(self.source, self.source.split("/")[0].lower())


def scene_of(file_name: str, source: str) -> str:
    """The scene (video or photo family) an image belongs to, from its file name."""
    stem = Path(file_name).stem
    if source.startswith("Abonia1"):
        video = re.match(r"(.+?)_mp4-", stem)
        if video:
            return f"video:{video.group(1)}"
        number = re.match(r"img_(\d+)", stem)
        if number:
            return f"run:{int(number.group(1)) // _ABONIA_RUN}"
        return f"frame:{stem}"
    family = re.sub(r"[\d_\-.()]+$", "", stem)
    if source.startswith("cair") and len(family) > len("cair_"):
        return f"photo:{family}"
    return f"photo:{stem}"


def load_dataset(root: Path = DEFAULT_DATASET_DIR) -> list[LabelledImage]:
    """Every image of the set with its label, source and scene (MANIFEST.csv order)."""
    manifest = root / "MANIFEST.csv"
    if not manifest.is_file():
        raise DatasetError(f"no MANIFEST.csv in dataset dir {str(root)!r}")
    images = []
    with manifest.open(newline="") as handle:
        for row in csv.DictReader(handle):
            label = row["label"]
            if label not in _LABELS:
                raise DatasetError(f"unknown label {label!r} for path {row['path']!r}")
            fire, smoke = _LABELS[label]
            source = row["source_repo"]
            images.append(
                LabelledImage(root / row["path"], label, source, scene_of(row["path"], source), fire, smoke,
                              row.get("licence", ""))
            )
    return images


def load_all(roots: tuple[Path, ...] = (DEFAULT_DATASET_DIR, DEFAULT_MORE_DIR)) -> list[LabelledImage]:
    """Every image of several labelled sets (``fire-smoke`` and ``fire-smoke-more`` by default)."""
    return [image for root in roots for image in load_dataset(root)]


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def split_held_out(
    images: list[LabelledImage], share: float = HELD_OUT_SHARE
) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(training, held-out): whole scenes, about ``share`` of each (source, label) stratum held out."""
    scenes: dict[tuple[str, str], list[LabelledImage]] = defaultdict(list)
    for image in images:
        scenes[(image.source, image.scene)].append(image)
    strata: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for key, members in scenes.items():
        majority = max(sorted({m.label for m in members}), key=lambda lab: sum(m.label == lab for m in members))
        strata[(key[0], majority)].append(key)
    held: set[tuple[str, str]] = set()
    for stratum_keys in strata.values():
        total = sum(len(scenes[k]) for k in stratum_keys)
        taken = 0
        for key in sorted(stratum_keys, key=lambda k: _hash("/".join(k))):
            if taken >= share * total:
                break
            held.add(key)
            taken += len(scenes[key])
    training = [i for i in images if (i.source, i.scene) not in held]
    held_out = [i for i in images if (i.source, i.scene) in held]
    return training, held_out
