"""The simulated fleet over a real loopback socket: snapshots, the control API, truth, server faults."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import aiohttp
import cv2
import numpy as np
import pytest

from gis.registry import load_cameras
from stream.embedded.services import free_port
from tests.helpers.fleet import NOON_HEIHE, serve_fleet, small_fleet, snapshot_url
from vision.fleet.errors import InvalidEventRequest
from vision.fleet.events import CameraPlace, select_cameras

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
