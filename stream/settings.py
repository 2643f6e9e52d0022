"""The one settings object: built once at start-up from ``AMUR_*`` variables.

Nothing else in Amur reads ``os.environ``; parts receive a :class:`Settings`
(or the few values they need) from the command that starts them. Each area owns
one section of flat fields named after it (``vision_*``, ``gis_*`` ...), so an
operator sets e.g. ``AMUR_VISION_FRAME_BUDGET_FPS=500``. `amur config` prints the
effective values; ``--markdown`` the reference in docs/configuration.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_JWT_SECRET = "amur-development-secret-change-me"
"""The repository's operator-token key: anyone can read it, so production refuses it (`amur run` makes its own)."""


class Settings(BaseSettings):
    """Effective configuration of one Amur process (prefix ``AMUR_``)."""

    model_config = SettingsConfigDict(env_prefix="AMUR_", frozen=True, extra="ignore")

    # --- backbone: broker, Redis, processes -------------------------------
    broker_url: str | None = Field(
        None,
        description="kafka://host:port of an external Kafka; unset = start the embedded Tansu broker",
    )
    embedded_broker_port: int = Field(19092, ge=1, le=65535, description="port of the embedded broker")
    kafka_sasl_mechanism: str | None = Field(
        None, pattern="^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$",
        description="SASL mechanism of the external Kafka (over SASL_PLAINTEXT); unset = no authentication")
    kafka_sasl_username: str | None = Field(None, description="SASL user of the workers, adapter and gateway")
    kafka_sasl_password: SecretStr = Field(SecretStr(""), description="SASL password of that user")
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
    demonstration: bool = Field(
        False, description="every incident is an exercise (CAP status Exercise) and the wall says the city is a "
                           "demonstration; `amur run` sets it for its parts while its demonstration runs")
    fetch_max_wait_ms: int = Field(10, ge=0, le=5000, description="consumer fetch wait (Tansu holds ~half)")
    session_timeout_s: float = Field(6.0, gt=0, description="consumer-group session timeout")
    request_timeout_s: float = Field(30.0, gt=0, description="broker request timeout (>= session timeout)")
    log_level: str = Field("INFO", description="root log level")
    broker_watch_s: float = Field(
        5.0, gt=0, description="how often a worker checks that the broker still has its topics (a memory-only "
                               "broker restarted empty has none: the worker re-creates them and exits to restart)")

    # --- ingest -------------------------------------------------------------
    ingest_max_future_s: float = Field(300.0, ge=0, description="readings later than now+this are rejected")
    ingest_max_past_s: float = Field(7 * 86400.0, ge=0, description="readings older than now-this are rejected")
    stale_cadence_factor: float = Field(3.0, gt=1, description="a source silent for this x cadence is stale")
    ingest_registry: Path | None = Field(None, description="source registry CSV; unset = bundled sample")
    ingest_clock: str = Field("auto", pattern="^(auto|wall|event)$",
                              description="time checks and source staleness against the wall clock or the stream's "
                                          "event time; auto = event in a drill, wall otherwise")
    ingest_dedupe_window_s: float = Field(
        900.0, gt=0, description="exact duplicates within this event time are dropped")
    ingest_dedupe_max_keys: int = Field(400_000, ge=1000, description="bound of the dedupe window per partition")
    ingest_health_interval_s: float = Field(5.0, gt=0, description="how often source health is evaluated")
    ingest_http_port: int = Field(8070, ge=1, le=65535, description="port of `amur ingest` (HTTP batch ingest)")
    ingest_http_max_items: int = Field(10_000, ge=1, description="most readings accepted in one HTTP call")
    ingest_http_write_timeout_s: float = Field(
        10.0, gt=0, description="a call whose writes the broker has not taken in this time is answered 503")
    ingest_api_keys: SecretStr = Field(
        SecretStr(""), description="comma-separated API keys for POST /ingest (header X-Api-Key); empty = refuse all")
    open311_api_keys: SecretStr = Field(
        SecretStr(""), description="comma-separated API keys for Open311 POST requests; empty = refuse all posts"
    )
    open311_max_media_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="largest photo an Open311 POST may carry (bytes); larger is refused")
    open311_media_dir: Path = Field(REPO_ROOT / ".amur" / "open311-media", description="accepted Open311 photos")

    # --- dispatch: responsibility list, 110 feed, deadlines and escalation ---
    dispatch_list: Path | None = Field(
        None, description="responsibility list CSV (docs/dispatch.md); unset = bundled Heihe sample, 225 items")
    dispatch_keywords: Path | None = Field(None, description="110 category keyword table CSV; unset = bundled")
    dispatch_api_keys: SecretStr = Field(
        SecretStr(""), description="comma-separated department:key pairs for request actions (grid-office is the "
                                   "dispatcher); empty = refuse all actions")
    feed110_api_keys: SecretStr = Field(
        SecretStr(""), description="comma-separated API keys of the 110 non-emergency feed; empty = refuse all calls")
    dispatch_clock: str = Field("auto", pattern="^(auto|wall|event)$",
                                description="deadlines and escalation by the wall clock or the stream's event time "
                                            "(the latest request time seen); auto = event in a drill, wall otherwise")
    dispatch_tick_s: float = Field(5.0, gt=0, description="deadline and escalation clock tick of the leader worker")
    dispatch_retain_closed_s: float = Field(
        7 * 86400.0, gt=0, description="closed requests stay in the worker's table this long")

    # --- simulators ---------------------------------------------------------
    sim_speed: float = Field(1.0, gt=0, description="simulated seconds per wall second")
    sim_seed: int = Field(7, description="seed of the feed and camera simulators")
    sim_cameras_port: int = Field(8090, ge=1, le=65535, description="port of the simulated camera fleet")
    sim_backfill_h: float = Field(
        48.0, ge=0, le=168, description="hours of history a live `amur sim feeds` sends first (gauges, weather "
                                        "stations, sensors); 0 = none")
    sim_demo: bool = Field(
        True, description="`amur run` plays the demonstration scenario (docs/demonstration.md) when it runs the "
                          "simulators on its own broker and Redis")

    # --- gis ------------------------------------------------------------------
    gis_manifest: Path | None = Field(None, description="layer-set manifest; unset = bundled Heihe sample")
    gis_rescore_interval_s: float = Field(5.0, gt=0, description="the grid is rescored at most this often (debounce)")
    gis_risk_min_change: float = Field(
        0.05, gt=0, description="a cell's risk is republished when its score moves this much")
    gis_risk_blue: float = Field(0.15, gt=0, description="lowest risk score coloured blue (below: green)")
    gis_risk_yellow: float = Field(0.35, gt=0, description="lowest risk score coloured yellow")
    gis_risk_orange: float = Field(0.6, gt=0, description="lowest risk score coloured orange")
    gis_risk_red: float = Field(0.9, gt=0, description="lowest risk score coloured red")
    gis_fwi_timezone: str = Field("Asia/Shanghai", description="local standard time of the daily noon FWI observation")

    # --- vision ---------------------------------------------------------------
    vision_frame_budget_fps: float = Field(
        100.0, gt=0,
        description="global frames/s the sampler may fetch (Heihe design point: 500 on a production cluster)",
    )
    vision_max_interval_s: float = Field(60.0, gt=0, description="every camera is sampled at least this often")
    vision_concurrency: int = Field(200, ge=1, description="concurrent camera fetches")
    vision_fetch_timeout_s: float = Field(3.0, gt=0, description="per-request timeout")
    vision_thumbnail_ttl_s: int = Field(300, ge=1, description="TTL of the latest thumbnail in Redis")
    vision_state_ttl_s: int = Field(
        86_400, ge=60, description="TTL of a camera's analysis state in Redis (read back by the worker taking it over)"
    )
    vision_state_save_interval_s: float = Field(
        60.0, gt=0, description="a camera's analysis state is written at least this often (every sample while a "
        "finding is being confirmed)"
    )
    vision_evidence_dir: Path = Field(REPO_ROOT / ".amur" / "evidence", description="evidence frames")
    vision_evidence_max_mb: int = Field(512, ge=1, description="retention limit of evidence frames")
    vision_min_interval_s: float = Field(1.0, gt=0, description="no camera is sampled more often than this")
    vision_sampling: bool = Field(True, description="run the camera sampler in workers that load stream.agents.vision")
    vision_simulated_fleet: bool = Field(
        True, description="fetch every camera as an HTTP snapshot from `amur sim cameras`, whatever its protocol"
    )
    vision_snapshot_url: str | None = Field(
        None, description="snapshot URL template with {camera_id}; unset = the simulated fleet on sim_cameras_port"
    )
    vision_rtsp_url: str = Field("rtsp://127.0.0.1:8554/{camera_id}", description="RTSP URL template")
    vision_recordings_dir: Path = Field(REPO_ROOT / ".amur" / "recordings", description="{camera_id}.mp4 for drills")
    vision_retries: int = Field(1, ge=0, le=5, description="retries of a failed fetch (reset, HTTP 5xx)")
    vision_queue_size: int = Field(64, ge=1, description="fetched frames waiting for analysis (drops counted)")
    vision_analysis_threads: int = Field(2, ge=1, le=32, description="threads decoding and analysing frames")
    vision_rtsp_threads: int = Field(4, ge=1, le=64, description="threads grabbing RTSP/file keyframes")
    vision_detector: Literal["classifier", "network"] = Field(
        "classifier", description="fire/smoke detector of the live stream: `classifier` (85 colour/texture features, "
        "about 1 ms a frame, fits the design frame budget) or `network` (the pretrained patch network: better fire "
        "and smoke recall, about 18 ms an inference on the frames the cascade lets through; docs/vision-analysis.md)")
    vision_camera_credentials_file: Path | None = Field(
        None, description="camera credentials for protected snapshot URIs: '<camera id|host[:port]> <user> "
                          "<password>' lines, in a file outside the repository (docs/cameras.md)")
    vision_camera_credentials: SecretStr = Field(
        SecretStr(""), description="the same lines from the environment, separated by ';' or newlines")
    vision_inventory_refresh_s: float = Field(
        10.0, ge=0, description="how often a sampler checks the camera inventory for new channels (0 = at start only)")

    # --- real cameras: GB/T 28181 and ONVIF (docs/cameras.md) --------------------
    gb28181_host: str = Field("127.0.0.1", description="address the GB/T 28181 SIP server listens on (UDP and TCP)")
    gb28181_port: int = Field(5060, ge=0, le=65535, description="SIP port of the GB/T 28181 upper platform")
    gb28181_platform_id: str = Field("23110000002000000001", pattern=r"^[0-9]{20}$",
                                     description="Amur's own 20-digit SIP id (centre code of Heihe, type 200)")
    gb28181_realm: str = Field("2311000000", min_length=1, max_length=64, description="SIP domain (digest realm)")
    gb28181_password: SecretStr = Field(SecretStr("amur-gb28181-change-me"),
                                        description="digest password devices register with (one for the domain)")
    gb28181_device_passwords: SecretStr = Field(
        SecretStr(""), description="comma-separated device_id:password pairs overriding the domain password")
    gb28181_keepalive_interval_s: float = Field(60.0, gt=0, description="devices' keepalive interval (§9.6: 60 s)")
    gb28181_keepalive_missed: int = Field(3, ge=1, le=10, description="keepalives missed in a row -> device offline")
    gb28181_guard: bool = Field(True, description="send the guard (SetGuard) command after a device registers")
    gb28181_departments: dict[str, str] = Field(
        default_factory=dict, description="device_id -> department of its channels (JSON); others: the default")
    gb28181_default_department: str = Field("police", description="department of a device's channels by default")
    gb28181_snapshot_url: str = Field(
        "http://{host}/snapshot/{channel_id}.jpg",
        description="snapshot URL template of a channel: {host} = the device's address, {channel_id}")
    gb28181_snapshot_urls: dict[str, str] = Field(
        default_factory=dict, description="device_id -> snapshot URL template overriding the default (JSON)")
    gb28181_metrics_port: int = Field(0, ge=0, le=65535,
                                      description="Prometheus /metrics of `amur cameras gb28181` (0 = not served)")
    gb28181_alarm_kinds: dict[str, str] = Field(
        default_factory=dict, description='extra "method/type" -> finding kind for device alarms (JSON)')
    onvif_timeout_s: float = Field(5.0, gt=0, description="per-request timeout of ONVIF SOAP calls")
    onvif_devices_file: Path | None = Field(
        None, description="ONVIF devices whose events `amur cameras onvif-events` follows: '<camera id> <host> "
                          "<port>' lines")
    onvif_events_interval_s: float = Field(5.0, gt=0, description="how often each ONVIF device's events are pulled")
    onvif_max_clock_offset_s: float = Field(
        5.0, gt=0, description="an ONVIF device whose clock is off by more than this is a camera fault")

    # --- gateway --------------------------------------------------------------
    http_host: str = Field("127.0.0.1", description="gateway bind address")
    http_port: int = Field(8080, ge=1, le=65535, description="gateway port (page, websocket, REST)")
    jwt_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_JWT_SECRET), description="HMAC key for operator tokens and the commands the gateway "
                                                       "signs; `amur run` makes its own, production refuses this one"
    )
    production: bool = Field(
        False, description="production mode: refuse to start while AMUR_JWT_SECRET is the development value or "
                           "shorter than 32 characters")
    allowed_origins: str = Field("", description="comma-separated extra allowed websocket origins")
    ws_port: int | None = Field(None, ge=1, le=65535, description="websocket port; unset = http_port + 1")
    public_ws_url: str = Field("", description="websocket URL the page opens behind a TLS proxy "
                                                "(wss://host/ws); empty = ws://<page host>:<websocket port>/")
    gateway_client_queue: int = Field(10000, ge=100, description="updates queued per client before coalescing")
    gateway_max_message_bytes: int = Field(16384, ge=256, description="largest message a client may send")
    gateway_commands_per_minute: float = Field(30.0, gt=0, description="sustained command rate per operator")
    gateway_command_burst: int = Field(10, ge=1, description="commands an operator may send at once")
    gateway_live_fps: float = Field(2.0, gt=0, le=10, description="frames/s of a camera's live view on the wall")
    gateway_live_max_streams: int = Field(
        16, ge=1, le=256, description="live views open at once (each claims its camera at the sampler's top priority)")
    gateway_token_ttl_s: int = Field(12 * 3600, ge=60, description="default lifetime of an issued token")
    projection_stream_maxlen: int = Field(10000, ge=100, description="updates kept per stream for resume")
    projection_series_maxlen: int = Field(2000, ge=10, description="stage readings kept per gauge")
    camera_fault_hold_s: float = Field(180.0, gt=0, description="a camera fault counts this long after its finding")

    # --- incidents, CAP and audit ---------------------------------------------
    incident_places: Path | None = Field(
        None, description="JSON gauges/cameras/cells index for the fusion; unset = the GIS layer set")
    incident_merge_window_s: float = Field(3600.0, gt=0, description="evidence this close to an incident joins it")
    incident_downgrade_hold_s: float = Field(900.0, ge=0, description="evidence must stay lower this long to downgrade")
    incident_ack_red_s: float = Field(300.0, gt=0, description="unacknowledged red escalates after this")
    incident_ack_orange_s: float = Field(900.0, gt=0, description="unacknowledged orange escalates after this")
    incident_ack_yellow_s: float = Field(1800.0, gt=0, description="unacknowledged yellow escalates after this")
    incident_ack_blue_s: float = Field(3600.0, gt=0, description="unacknowledged blue escalates after this")
    incident_expire_after_s: float = Field(86400.0, gt=0, description="no evidence or action this long: expired")
    incident_retain_closed_s: float = Field(
        6 * 3600.0, gt=0, description="closed incidents kept in state this long; older evidence raises nothing")
    incident_auto_resolve: bool = Field(True, description="resolve automatically when all evidence clears")
    incident_tick_s: float = Field(5.0, gt=0, description="escalation/expiry clock tick of the leader worker")
    incident_clock: str = Field("auto", pattern="^(auto|wall|event)$",
                                description="escalation and expiry by the wall clock or the stream's event time "
                                            "(the latest evidence time seen); auto = event in a drill, wall otherwise")
    incident_max_cameras: int = Field(8, ge=0, le=64, description="cameras listed per incident")
    incident_risk_raise_colour: Literal["blue", "yellow", "orange", "red"] = Field(
        "orange", description="a cell risk raises an incident from this colour; below it only joins one")
    cap_sender: str = Field("amur@heihe.local", description="CAP <sender> of every message")
    cap_timezone: str = Field("Asia/Shanghai", description="zone of CAP times (+08:00 for Heihe)")
    audit_log: Path | None = Field(None, description="hash-chained audit log; unset = <run_dir>/audit/<app id>.jsonl")

    # --- notifications --------------------------------------------------------
    notify_contacts: Path | None = Field(None, description="contacts file; unset = bundled sample")
    notify_attempts: int = Field(3, ge=1, le=20, description="delivery attempts per notification")
    notify_backoff_s: float = Field(1.0, ge=0, description="wait before the 2nd attempt; doubles each time")
    notify_timeout_s: float = Field(5.0, gt=0, description="per-request timeout of a notifier")

    # --- drills: the recorder (docs/drills.md) ---------------------------------
    record: bool = Field(False, description="`amur run` also starts `amur record` (archives the live input)")
    record_dir: Path = Field(REPO_ROOT / ".amur" / "archive", description="archive directory of `amur record`")
    record_max_mb: int = Field(2048, ge=1, description="archive size limit (segments and images); oldest go first")
    record_max_age_s: float = Field(7 * 86400.0, gt=0, description="segments sealed longer ago than this are deleted")
    record_segment_s: float = Field(60.0, gt=0, description="a segment is sealed (checksummed, committed) this often")
    record_segment_mb: int = Field(16, ge=1, description="... or when it reaches this size (compressed)")

    @model_validator(mode="after")
    def _no_development_secret_in_production(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        if self.production and (secret == DEVELOPMENT_JWT_SECRET or len(secret) < 32):
            raise ValueError("AMUR_JWT_SECRET is the development value or shorter than 32 characters, and "
                             "AMUR_PRODUCTION is on: set it to a long random string (openssl rand -hex 32)")
        return self

    @model_validator(mode="after")
    def _sasl_needs_a_user_and_a_password(self) -> Settings:
        if self.kafka_sasl_mechanism and not (self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()):
            raise ValueError(f"AMUR_KAFKA_SASL_MECHANISM is {self.kafka_sasl_mechanism!r} but AMUR_KAFKA_SASL_USERNAME "
                             "or AMUR_KAFKA_SASL_PASSWORD is empty: set both")
        return self

    @property
    def effective_app_id(self) -> str:
        return f"{self.app_id}-drill-{self.drill_id}" if self.drill_id else self.app_id

    @property
    def redis_prefix(self) -> str:
        return f"amur:drill:{self.drill_id}:" if self.drill_id else "amur:"

    def masked(self) -> dict[str, Any]:
        """Effective configuration as JSON-able values, secrets (and URL passwords) masked."""
        values = json.loads(self.model_dump_json())
        return {k: mask_url_password(v) if isinstance(v, str) and "://" in v else v for k, v in values.items()}


def mask_url_password(url: str) -> str:
    """``redis://:secret@host`` -> ``redis://:****@host``."""
    return re.sub(r"(://[^:/@]*:)[^@/]+@", r"\1****@", url)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment, with explicit overrides on top."""
    return Settings(**overrides)


def reference_markdown() -> str:
    """Every setting as a Markdown table (docs/configuration.md is generated from it)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, info in Settings.model_fields.items():
        default = info.default
        if isinstance(default, SecretStr):
            default = "(development value; set in production)"
        elif isinstance(default, Path):
            default = default.relative_to(REPO_ROOT) if default.is_relative_to(REPO_ROOT) else default
        rows.append(f"| `AMUR_{name.upper()}` | `{default}` | {info.description or ''} |")
    return "\n".join(rows) + "\n"


@click.command(name="config", help="Print the effective configuration as JSON, secrets and URL passwords masked.")
@click.option("--markdown", is_flag=True,
              help="print the reference of every setting as a Markdown table instead (docs/configuration.md)")
def command(markdown: bool) -> int:
    if markdown:
        click.echo(reference_markdown(), nl=False)
    else:
        click.echo(json.dumps(load_settings().masked(), indent=2, ensure_ascii=False, default=str))
    return 0
