"""Per-camera analysis state: small, frozen and serialisable (a stream table value).

The previous sample's luma thumbnail is stored as float16 and its flame/smoke
densities as uint8 (:data:`~vision.analysis.scene.THUMB_SIZE`); the baseline's
thumbnails as float32 (:data:`~vision.analysis.scene.BASELINE_SIZE`), since a
slow EMA moves them by less than float16 can resolve. One camera's state is
about 28 kB as JSON. ``history`` holds, per finding
kind, the last samples as bits (bit 0 = the latest sample) for k-of-n confirmation.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from stream.schemas import FindingKind
from vision.analysis.errors import AnalysisError
from vision.analysis.scene import BASELINE_SIZE, THUMB_SIZE

_EMPTY = b""


def pack(thumb: np.ndarray) -> bytes:
    """A previous-sample luma thumbnail as float16 bytes."""
    return thumb.astype(np.float16).tobytes()


def unpack(data: bytes) -> np.ndarray | None:
    """The float32 luma thumbnail stored by :func:`pack`, or None when nothing is stored."""
    if not data:
        return None
    return np.frombuffer(data, dtype=np.float16).astype(np.float32).reshape(THUMB_SIZE[1], THUMB_SIZE[0])


def pack_share(density: np.ndarray) -> bytes:
    """A 0..1 density thumbnail (share of flame- or smoke-coloured pixels) as uint8 bytes."""
    return np.rint(np.clip(density, 0.0, 1.0) * 255).astype(np.uint8).tobytes()


def unpack_share(data: bytes) -> np.ndarray | None:
    if not data:
        return None
    return np.frombuffer(data, dtype=np.uint8).astype(np.float32).reshape(THUMB_SIZE[1], THUMB_SIZE[0]) / 255.0


def pack_exact(thumb: np.ndarray) -> bytes:
    """A baseline thumbnail as float32 bytes."""
    return np.asarray(thumb, dtype=np.float32).tobytes()


def unpack_exact(data: bytes, channels: int = 1) -> np.ndarray | None:
    """A baseline thumbnail (``channels`` 1: luma or edges, 3: BGR colour), or None when nothing is stored.

    A read-only view of the stored bytes: the baseline changes only through a new state.
    """
    if not data:
        return None
    shape = (BASELINE_SIZE[1], BASELINE_SIZE[0]) + ((channels,) if channels > 1 else ())
    return np.frombuffer(data, dtype=np.float32).reshape(shape)


@dataclass(frozen=True)
class Baseline:
    """What the camera normally sees, learnt slowly (EMA) from healthy daylight samples."""

    samples: int
    gray: bytes
    edges: bytes
    sharpness: float
    edge_mean: float
    held: int = 0
    """Samples in a row not learnt because something was detected (re-learnt past a limit)."""
    colour: bytes = _EMPTY
    """BGR colour thumbnail (for the water region)."""


@dataclass(frozen=True)
class CameraState:
    seen_at: datetime | None = None
    """Time of the previous sample."""
    gray: bytes = _EMPTY
    """Previous sample's luma thumbnail."""
    fire: bytes = _EMPTY
    """Previous sample's flame-colour density thumbnail."""
    smoke: bytes = _EMPTY
    """Previous sample's smoke-colour density thumbnail."""
    baseline: Baseline | None = None
    history: tuple[tuple[FindingKind, int], ...] = ()
    luma: float | None = None
    """Previous sample's mean luma."""
    dark_since: datetime | None = None
    """Start of the current run of dark samples (None when lit)."""
    dark_sudden: bool = False
    """The current dark run began with a lit sample just before (lights off, not dusk)."""

    def bits(self, kind: FindingKind) -> int:
        return dict(self.history).get(kind, 0)


def push_history(
    history: tuple[tuple[FindingKind, int], ...], observed: dict[FindingKind, bool], n: dict[FindingKind, int]
) -> tuple[tuple[FindingKind, int], ...]:
    """Shift each observed kind's bits by one sample; kinds not observed keep theirs."""
    current = dict(history)
    for kind, seen in observed.items():
        current[kind] = ((current.get(kind, 0) << 1) | int(seen)) & ((1 << n[kind]) - 1)
    return tuple(sorted(((k, b) for k, b in current.items() if b), key=lambda item: item[0].value))


def seen_count(bits: int) -> int:
    return bin(bits).count("1")


def state_to_json(state: CameraState) -> bytes:
    """Serialise a state (e.g. for a Faust table); :func:`state_from_json` reverses it."""
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    baseline = state.baseline
    document = {
        "seen_at": state.seen_at.isoformat() if state.seen_at else None,
        "gray": b64(state.gray),
        "fire": b64(state.fire),
        "smoke": b64(state.smoke),
        "baseline": None
        if baseline is None
        else {**baseline.__dict__, "gray": b64(baseline.gray), "edges": b64(baseline.edges), "colour": b64(baseline.colour)},
        "history": [[kind.value, bits] for kind, bits in state.history],
        "luma": state.luma,
        "dark_since": state.dark_since.isoformat() if state.dark_since else None,
        "dark_sudden": state.dark_sudden,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def state_from_json(data: bytes) -> CameraState:
    try:
        doc = json.loads(data)
        raw_baseline = doc["baseline"]
        baseline = None
        if raw_baseline is not None:
            baseline = Baseline(
                **{
                    **raw_baseline,
                    **{name: base64.b64decode(raw_baseline[name]) for name in ("gray", "edges", "colour")},
                }
            )
        state = CameraState(
            seen_at=datetime.fromisoformat(doc["seen_at"]) if doc["seen_at"] else None,
            gray=base64.b64decode(doc["gray"]),
            fire=base64.b64decode(doc["fire"]),
            smoke=base64.b64decode(doc["smoke"]),
            baseline=baseline,
            history=tuple((FindingKind(kind), int(bits)) for kind, bits in doc["history"]),
            luma=None if doc["luma"] is None else float(doc["luma"]),
            dark_since=datetime.fromisoformat(doc["dark_since"]) if doc["dark_since"] else None,
            dark_sudden=bool(doc["dark_sudden"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AnalysisError(f"camera state does not decode: {exc!r} in {data[:80]!r}") from exc
    _check_sizes(state)
    return state


def _check_sizes(state: CameraState) -> None:
    """A state written with other thumbnail sizes (another version) decodes but cannot be compared."""
    thumb, base = THUMB_SIZE[0] * THUMB_SIZE[1], BASELINE_SIZE[0] * BASELINE_SIZE[1]
    expected = {"gray": 2 * thumb, "fire": thumb, "smoke": thumb}  # float16, uint8, uint8
    fields = {name: getattr(state, name) for name in expected}
    if state.baseline is not None:
        expected |= {"baseline.gray": 4 * base, "baseline.edges": 4 * base, "baseline.colour": 12 * base}
        fields |= {f"baseline.{name}": getattr(state.baseline, name) for name in ("gray", "edges", "colour")}
    for name, data in fields.items():
        if data and len(data) != expected[name]:
            raise AnalysisError(f"camera state field {name}: {len(data)} bytes, expected {expected[name]}"
                                f" (thumbnails {THUMB_SIZE}, baseline {BASELINE_SIZE})")

