"""The simulated fleet over a real loopback socket: snapshots, the control API, truth, server faults."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta

import aiohttp
import cv2
import numpy as np
import pytest

from gis.registry import load_cameras
from stream.cli.main import main as amur
from stream.embedded.services import free_port
from tests.helpers.fleet import NOON_HEIHE, serve_fleet, small_fleet, snapshot_url
from vision.fleet.errors import InvalidEventRequest
from vision.fleet.events import CameraPlace, select_cameras
from vision.fleet.server import Fleet, VirtualClock

pytestmark = pytest.mark.integration


async def test_snapshot_is_a_jpeg_of_the_cameras_size() -> None:
    cameras = small_fleet(8)
    async with serve_fleet(cameras) as (_, base), aiohttp.ClientSession() as http:
        for camera in cameras.values():
            async with http.get(snapshot_url(base, camera.camera_id)) as response:
                assert response.status == 200 and response.content_type == "image/jpeg"
                pixels = cv2.imdecode(np.frombuffer(await response.read(), np.uint8), cv2.IMREAD_COLOR)
            assert pixels.shape == (camera.height, camera.width, 3)
        async with http.get(snapshot_url(base, "nope")) as response:
            assert response.status == 404


async def test_events_by_cell_are_listed_true_for_their_cameras_and_removable() -> None:
    cameras = small_fleet(20)
    async with serve_fleet(cameras) as (_, base), aiohttp.ClientSession() as http:
        async with http.post(f"{base}/control/events", json={"kind": "black", "cells": ["cell3"],
                                                             "duration_s": 3600}) as response:
            assert response.status == 201
            created = await response.json()
        assert created["camera_ids"] == ["cam0003", "cam0013"]
        async with http.get(f"{base}/control/truth", params={"camera_id": "cam0013"}) as response:
            assert [e["kind"] for e in (await response.json())["events"]] == ["black"]
        later = (NOON_HEIHE + timedelta(hours=2)).isoformat()
        async with http.get(f"{base}/control/truth", params={"camera_id": "cam0013", "at": later}) as response:
            assert (await response.json())["events"] == []  # the event has ended by then
        async with http.get(snapshot_url(base, "cam0013")) as response:
            dark = cv2.imdecode(np.frombuffer(await response.read(), np.uint8), cv2.IMREAD_COLOR)
        assert dark.mean() < 8
        async with http.delete(f"{base}/control/events/{created['event_id']}") as response:
            assert response.status == 200
        async with http.get(f"{base}/control/events") as response:
            assert await response.json() == []
        async with http.post(f"{base}/control/events", json={"kind": "lava", "camera_ids": ["cam0001"]}) as response:
            assert response.status == 400 and "kind" in (await response.json())["error"]


async def test_server_faults_reset_fail_and_freeze() -> None:
    cameras = small_fleet(4)
    async with serve_fleet(cameras, speed=60.0) as (fleet, base), aiohttp.ClientSession() as http:
        fleet.add_event({"kind": "offline", "camera_ids": ["cam0000"]})
        fleet.add_event({"kind": "http_500", "camera_ids": ["cam0001"]})
        fleet.add_event({"kind": "frozen", "camera_ids": ["cam0002"]})
        with pytest.raises(aiohttp.ClientError):
            async with http.get(snapshot_url(base, "cam0000")) as response:
                await response.read()
        async with http.get(snapshot_url(base, "cam0001")) as response:
            assert response.status == 500
        frames = []
        for _ in range(2):  # 60x speed: the second request is seconds of virtual time later
            async with http.get(snapshot_url(base, "cam0002")) as response:
                frames.append(await response.read())
            async with http.get(snapshot_url(base, "cam0003")) as response:
                frames.append(await response.read())
            fleet.clock.set(fleet.clock.now() + timedelta(seconds=5), fleet.clock.speed)
        assert frames[0] == frames[2]  # frozen: the very same bytes again
        assert frames[1] != frames[3]  # a healthy camera's image moves on


def test_area_selection_by_bbox_and_unknown_ids() -> None:
    places = [CameraPlace("a", 127.5, 50.2, "x"), CameraPlace("b", 126.0, 48.0, "y")]
    assert select_cameras(places, bbox=(127.0, 50.0, 128.0, 51.0)) == {"a"}
    with pytest.raises(InvalidEventRequest, match="unknown camera"):
        select_cameras(places, camera_ids=["zz"])


def test_amur_sim_cameras_serves_the_registry_fleet() -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "sim", "cameras", "--port", str(port),
                               "--start", NOON_HEIHE.isoformat()], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert "5000 cameras" in banner
        camera_id = load_cameras()[-1].camera_id
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/cameras/{camera_id}/snapshot.jpg") as reply:
                    data = reply.read()
                break
            except OSError:  # listening a moment after the banner
                time.sleep(0.1)
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize("argv, options", [(["sim", "cameras"], ("--port", "--host", "--seed", "--speed", "--start",
                                                                  "--log-level", "AMUR_SIM_CAMERAS_PORT"))])
def test_help_lists_the_options(argv: list[str], options: tuple[str, ...], capsys) -> None:
    assert amur([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in options)


@pytest.mark.parametrize("argv, option, says", [
    (["--start", "2026-06-21T04:00:00"], "'--start'", "needs a time zone"),
    (["--start", "noon"], "'--start'", "is not an ISO 8601 time"),
    (["--speed", "0"], "'--speed'", "x>0"),
])
def test_a_bad_flag_is_a_one_line_usage_error(argv: list[str], option: str, says: str, capsys) -> None:
    assert amur(["sim", "cameras", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and says in lines[0]
    assert lines[0].startswith("amur sim cameras: error:")


@pytest.fixture
def fleet_calls(monkeypatch) -> list[dict]:
    """What `amur sim cameras` passes to run_fleet (nothing is served), settings from AMUR_SIM_*."""
    calls: list[dict] = []
    monkeypatch.setattr("vision.fleet.server.run_fleet", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr("stream.runtime.logs.configure", lambda level: None)  # keep pytest's logging
    monkeypatch.setenv("AMUR_SIM_CAMERAS_PORT", "8123")
    monkeypatch.setenv("AMUR_SIM_SEED", "11")
    monkeypatch.setenv("AMUR_SIM_SPEED", "2.5")
    return calls


def test_sim_cameras_defaults_come_from_settings(fleet_calls: list[dict]) -> None:
    before = datetime.now().astimezone()
    assert amur(["sim", "cameras"]) == 0
    (call,) = fleet_calls
    assert (call["host"], call["port"], call["seed"], call["speed"]) == ("127.0.0.1", 8123, 11, 2.5)
    assert call["start"] >= before and call["start"].tzinfo is not None


def test_sim_cameras_explicit_flags_win(fleet_calls: list[dict]) -> None:
    assert amur(["sim", "cameras", "--port", "9001", "--host", "0.0.0.0", "--seed", "3", "--speed", "60",
                 "--start", NOON_HEIHE.isoformat()]) == 0
    assert fleet_calls == [{"host": "0.0.0.0", "port": 9001, "seed": 3, "speed": 60.0, "start": NOON_HEIHE}]


def test_sim_cameras_on_a_taken_port_is_a_one_line_error(monkeypatch, capsys) -> None:
    monkeypatch.setattr("vision.fleet.server.load_fleet", lambda seed, speed, start: Fleet(
        small_fleet(2, seed=seed), seed=seed, clock=VirtualClock(start, speed)))
    monkeypatch.setattr("stream.runtime.logs.configure", lambda level: None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert amur(["sim", "cameras", "--port", str(port), "--start", NOON_HEIHE.isoformat()]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"amur sim cameras: cannot listen on 127.0.0.1:{port}")
    assert "AMUR_SIM_CAMERAS_PORT" in lines[0]
