"""The one settings object: built once at start-up from ``AMUR_*`` variables.

Nothing else in Amur reads ``os.environ``; parts receive a :class:`Settings`
(or the few values they need) from their ``main``. Each area owns one section
of flat fields named after it (``vision_*``, ``gis_*`` ...), so an operator
sets e.g. ``AMUR_VISION_FRAME_BUDGET_FPS=500``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Effective configuration of one Amur process (prefix ``AMUR_``)."""

    model_config = SettingsConfigDict(env_prefix="AMUR_", frozen=True, extra="ignore")

    # --- backbone: broker, Redis, processes -------------------------------
    broker_url: str | None = Field(
        None,
        description="kafka://host:port of an external Kafka; unset = start the embedded Tansu broker",
    )
    embedded_broker_port: int = Field(19092, ge=1, le=65535, description="port of the embedded broker")
    redis_url: str | None = Field(
        None, description="redis://host:port/db of an external Redis; unset = start one on loopback"
    )
    embedded_redis_port: int = Field(16379, ge=1, le=65535, description="port of the embedded Redis")
    run_dir: Path = Field(REPO_ROOT / ".amur" / "run", description="logs and state of `amur run`")
    workers: int = Field(1, ge=1, le=64, description="Faust worker processes started by `amur run`")
    worker_web_port: int = Field(6066, ge=1, le=65535, description="first worker's HTTP port (ingest, /metrics)")
    partitions: int = Field(8, ge=1, le=256, description="partitions of every keyed topic")
    app_id: str = Field("amur", description="Faust app id (consumer group); drills append their run id")
    drill_id: str | None = Field(None, description="run id of a drill: isolates topics, group, tables, Redis keys")
    fetch_max_wait_ms: int = Field(10, ge=0, le=5000, description="consumer fetch wait (Tansu holds ~half)")
    session_timeout_s: float = Field(6.0, gt=0, description="consumer-group session timeout")
    request_timeout_s: float = Field(30.0, gt=0, description="broker request timeout (>= session timeout)")
    log_level: str = Field("INFO", description="root log level")

    # --- ingest -------------------------------------------------------------
    ingest_max_future_s: float = Field(300.0, ge=0, description="readings later than now+this are rejected")
    ingest_max_past_s: float = Field(7 * 86400.0, ge=0, description="readings older than now-this are rejected")
    stale_cadence_factor: float = Field(3.0, gt=1, description="a source silent for this x cadence is stale")

    # --- simulators ---------------------------------------------------------
    sim_speed: float = Field(1.0, gt=0, description="simulated seconds per wall second")
    sim_seed: int = Field(7, description="seed of the feed and camera simulators")
    sim_cameras_port: int = Field(8090, ge=1, le=65535, description="port of the simulated camera fleet")

    # --- gis ------------------------------------------------------------------
    gis_manifest: Path | None = Field(None, description="layer-set manifest; unset = bundled Heihe sample")

    # --- vision ---------------------------------------------------------------
    vision_frame_budget_fps: float = Field(500.0, gt=0, description="global frames/s the sampler may fetch")
    vision_max_interval_s: float = Field(60.0, gt=0, description="every camera is sampled at least this often")
    vision_concurrency: int = Field(200, ge=1, description="concurrent camera fetches")
    vision_fetch_timeout_s: float = Field(3.0, gt=0, description="per-request timeout")
    vision_thumbnail_ttl_s: int = Field(300, ge=1, description="TTL of the latest thumbnail in Redis")
    vision_evidence_dir: Path = Field(REPO_ROOT / ".amur" / "evidence", description="evidence frames")
    vision_evidence_max_mb: int = Field(512, ge=1, description="retention limit of evidence frames")

    # --- gateway --------------------------------------------------------------
    http_host: str = Field("127.0.0.1", description="gateway bind address")
    http_port: int = Field(8080, ge=1, le=65535, description="gateway port (page, websocket, REST)")
    jwt_secret: SecretStr = Field(
        SecretStr("amur-development-secret-change-me"), description="HMAC key for operator tokens"
    )
    allowed_origins: str = Field("", description="comma-separated extra allowed websocket origins")

    # --- notifications --------------------------------------------------------
    notify_contacts: Path | None = Field(None, description="contacts file; unset = bundled sample")

    @property
    def effective_app_id(self) -> str:
        return f"{self.app_id}-drill-{self.drill_id}" if self.drill_id else self.app_id

    @property
    def redis_prefix(self) -> str:
        return f"amur:drill:{self.drill_id}:" if self.drill_id else "amur:"

    def masked(self) -> dict[str, Any]:
        """Effective configuration as JSON-able values, secrets masked."""
        return json.loads(self.model_dump_json())


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment, with explicit overrides on top."""
    return Settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    """`amur config`: print the effective configuration, secrets masked."""
    print(json.dumps(load_settings().masked(), indent=2, ensure_ascii=False, default=str))
    return 0
