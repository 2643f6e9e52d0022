"""``amur vision analyze`` (vision/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from stream.cli.main import main as amur

KEYS = {"path", "fire", "fire_score", "smoke", "smoke_score", "dark", "overexposed", "blurred"}


def _write(path: Path, image: np.ndarray) -> str:
    cv2.imwrite(str(path), image)
    return str(path)


def test_one_json_object_per_image_and_errors_do_not_stop_the_run(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    scene = cv2.resize(rng.integers(30, 220, (45, 80, 3), dtype=np.uint8), (1280, 720), interpolation=cv2.INTER_CUBIC)
    scene = np.clip(scene + rng.normal(0, 12, scene.shape), 0, 255).astype(np.uint8)
    good = _write(tmp_path / "scene.jpg", scene)
    black = _write(tmp_path / "black.jpg", np.zeros((360, 640, 3), np.uint8))
    white = _write(tmp_path / "white.png", np.full((360, 640, 3), 255, np.uint8))
    blurred = _write(tmp_path / "blurred.jpg", cv2.GaussianBlur(scene, (0, 0), 14))
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(500))
    missing = str(tmp_path / "missing.jpg")

    code = amur(["vision", "analyze", good, str(corrupt), black, missing, white, blurred])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert code == 1
    assert [line["path"] for line in lines] == [good, str(corrupt), black, missing, white, blurred]
    by_path = {line["path"]: line for line in lines}
    assert set(by_path[str(corrupt)]) == {"path", "error"} and "does not decode" in by_path[str(corrupt)]["error"]
    assert "missing.jpg" in by_path[missing]["error"]
    for path in (good, black, white, blurred):
        assert KEYS <= set(by_path[path])
        assert 0.0 <= by_path[path]["fire_score"] <= 1.0 and 0.0 <= by_path[path]["smoke_score"] <= 1.0
    assert not any(by_path[good][flag] for flag in ("dark", "overexposed", "blurred"))
    assert by_path[black]["dark"] and by_path[white]["overexposed"] and by_path[blurred]["blurred"]


def test_all_readable_images_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["vision", "analyze", _write(tmp_path / "a.jpg", np.full((100, 100, 3), 90, np.uint8))]) == 0
    assert json.loads(capsys.readouterr().out)["path"].endswith("a.jpg")


def test_missing_model_is_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["vision", "analyze", "--model", str(tmp_path / "none.onnx"), "x.jpg"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "'--model'" in lines[0] and "none.onnx" in lines[0]


def test_a_model_without_its_card_is_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bare.onnx").write_bytes(b"")
    assert amur(["vision", "analyze", "--model", str(tmp_path / "bare.onnx"), "x.jpg"]) == 2
    assert capsys.readouterr().err.startswith("amur vision analyze: ")


def test_help_lists_the_argument_and_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["vision", "analyze", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: amur vision analyze [OPTIONS] IMAGE..." in out and "--model" in out


def test_no_image_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["vision", "analyze"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amur vision analyze: error:") and "IMAGE" in lines[0]


@pytest.mark.parametrize("detector", ["network", "classifier"])
def test_each_detector_gives_its_own_models_scores(detector: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from vision.analysis.config import AnalysisConfig
    from vision.analysis.decode import read_frame
    from vision.analysis.image import DETECTORS, analyse_image

    rng = np.random.default_rng(5)
    path = _write(tmp_path / "scene.jpg", rng.integers(0, 255, (360, 640, 3), dtype=np.uint8))
    assert amur(["vision", "analyze", "--detector", detector, path]) == 0
    printed = json.loads(capsys.readouterr().out)
    config = AnalysisConfig()
    expected = analyse_image(read_frame(path, target_width=config.decode_width), DETECTORS[detector](), config)
    assert printed["fire_score"] == round(expected.fire_probability, 4)
    assert printed["smoke_score"] == round(expected.smoke_probability, 4)


def test_an_unknown_detector_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["vision", "analyze", "--detector", "yolo", "x.jpg"]) == 2
    assert "yolo" in capsys.readouterr().err
