"""Shared fixtures: a real Tansu broker and a real Redis, started once per session.

Nothing here is mocked: the broker is the Kafka-protocol server the embedded
stack runs, Redis is a real ``redis-server`` on a free loopback port.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stream.embedded.services import (
    RunningService,
    free_port,
    start_broker,
    start_redis,
)
from stream.settings import Settings, load_settings

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
SHARED = REPO_ROOT.parent / "shared"
ARTIFACTS = REPO_ROOT / "test-artifacts"
FIRE_SMOKE = SHARED / "datasets" / "fire-smoke"
# The labelled fire/smoke photos are third-party images under their own licences (see their
# README), kept in the shared workspace beside the repository and not copied into it. Where
# that workspace exists (every development machine and CI) the tests that use them run, and a
# missing or broken set fails them; only a checkout with no shared/ beside it skips them.
needs_fire_smoke_dataset = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"no shared workspace at {SHARED}: the licensed image set is not in the repository")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """A command run in-process configures the root logger; undo it so the next test sees pytest's."""
    root = logging.getLogger()
    handlers, level, excepthook = list(root.handlers), root.level, sys.excepthook
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    sys.excepthook = excepthook
    logging.captureWarnings(False)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    log = open(tmp_path_factory.mktemp("broker") / "broker.log", "wb")
    with start_broker(free_port(), log_file=log) as service:
        yield service
    log.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    with start_redis(free_port(), tmp_path_factory.mktemp("redis")) as service:
        yield service


@pytest.fixture
def make_settings(broker: RunningService, redis_server: RunningService, tmp_path: Path) -> Callable[..., Settings]:
    """Settings pointing at the session's broker and Redis, isolated per test.

    Each call gets its own app id (consumer group and table changelogs) and, by
    default, its own drill-style namespace so tests never see each other's topics.
    """

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "broker_url": broker.url,
            "redis_url": redis_server.url + "/0",
            "app_id": f"test-{uuid.uuid4().hex[:8]}",
            "drill_id": f"t{uuid.uuid4().hex[:8]}",
            "worker_web_port": free_port(),
            "http_port": free_port(),
            "run_dir": tmp_path / "run",
            "partitions": 4,
            # tests that want the camera sampler turn it on and start a fleet themselves
            "vision_sampling": False,
        }
        values.update(overrides)
        return load_settings(**values)

    return build


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``AMUR_*`` variables that reproduce ``settings`` in a child process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMUR_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"AMUR_{name.upper()}"] = str(value)
    return env


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
