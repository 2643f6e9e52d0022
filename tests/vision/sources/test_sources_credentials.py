"""Stored camera credentials: the table, and protected snapshot URIs fetched over real loopback HTTP.

The camera here checks HTTP digest (RFC 7616, MD5, qop=auth) with its own hashlib
code, written from the RFC rather than with the client's library, and basic auth.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import cv2
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from stream.cameras.sampler import camera_credentials
from stream.errors import ConfigError
from stream.settings import REPO_ROOT, load_settings
from vision.sources.credentials import Credential, credential_for, parse_credentials
from vision.sources.errors import CredentialsError
from vision.sources.http import SnapshotClient
from vision.sources.outcome import FetchOutcome

USER, PASSWORD, REALM, NONCE = "admin", "s3cret pass", "IP Camera", "5f1c0a9e"
JPEG = cv2.imencode(".jpg", np.full((36, 64, 3), 128, np.uint8))[1].tobytes()


def test_the_table_names_bad_lines_but_never_a_password() -> None:
    table = parse_credentials("# NVRs\n34020000001320000001 admin pass word\n\n10.0.0.7:8080 op Xq7z\n", "creds")
    assert table["34020000001320000001"] == Credential("admin", "pass word")  # the rest of the line
    assert "Xq7z" not in repr(table["10.0.0.7:8080"]) and "Xq7z" not in str(table)
    with pytest.raises(CredentialsError, match=r"creds line 2: expected .* 2 field\(s\) starting 'host'"):
        parse_credentials("# x\nhost onlyuser\n", "creds")
    with pytest.raises(CredentialsError, match="line 2: 'cam' is listed twice"):
        parse_credentials("cam a b\ncam c d", "creds")


def test_a_cameras_own_entry_wins_over_its_hosts() -> None:
    table = {"cam-1": Credential("c", "1"), "10.0.0.7:8080": Credential("p", "2"), "10.0.0.7": Credential("h", "3")}
    assert credential_for(table, "cam-1", "http://10.0.0.7:8080/x.jpg") == Credential("c", "1")
    assert credential_for(table, "cam-2", "http://10.0.0.7:8080/x.jpg") == Credential("p", "2")
    assert credential_for(table, "cam-2", "http://10.0.0.7/x.jpg") == Credential("h", "3")
    assert credential_for(table, "cam-2", "http://10.0.0.8/x.jpg") is None


def test_credentials_come_from_a_file_outside_the_repository_and_the_environment(tmp_path) -> None:
    path = tmp_path / "camera-credentials"
    path.write_text("cam-1 admin one\n", encoding="utf-8")
    table = camera_credentials(load_settings(vision_camera_credentials_file=path,
                                             vision_camera_credentials="cam-2 op two;cam-3 op three"))
    assert table == {"cam-1": Credential("admin", "one"), "cam-2": Credential("op", "two"),
                     "cam-3": Credential("op", "three")}
    with pytest.raises(ConfigError, match="inside the repository"):
        camera_credentials(load_settings(vision_camera_credentials_file=REPO_ROOT / "README.md"))
    with pytest.raises(ConfigError, match="AMUR_VISION_CAMERA_CREDENTIALS line 1"):
        camera_credentials(load_settings(vision_camera_credentials="cam-1"))
    with pytest.raises(ConfigError, match="missing"):
        camera_credentials(load_settings(vision_camera_credentials_file=tmp_path / "missing"))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


@pytest.fixture
async def camera() -> AsyncIterator[tuple[str, list[str]]]:
    """A camera whose /digest snapshot wants digest and /basic wants basic; every Authorization it saw."""
    seen: list[str] = []

    async def digest(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        seen.append(header)
        params = dict(re.findall(r'(\w+)="?([^",]+)"?', header.removeprefix("Digest ")))
        if header.startswith("Digest ") and params.get("username") == USER and params.get("nonce") == NONCE:
            ha1, ha2 = _md5(f"{USER}:{REALM}:{PASSWORD}"), _md5(f"GET:{params['uri']}")
            expected = _md5(f"{ha1}:{NONCE}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
            if params.get("response") == expected:
                return web.Response(body=JPEG, content_type="image/jpeg")
        return web.Response(status=401, headers={
            "WWW-Authenticate": f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'})

    async def basic(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        seen.append(header)
        if header == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode():
            return web.Response(body=JPEG, content_type="image/jpeg")
        return web.Response(status=401, headers={"WWW-Authenticate": f'Basic realm="{REALM}"'})

    app = web.Application()
    app.router.add_get("/digest.jpg", digest)
    app.router.add_get("/basic.jpg", basic)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"http://127.0.0.1:{server.port}", seen
    finally:
        await server.close()


async def test_protected_snapshots_with_digest_or_basic_as_the_camera_asks(camera) -> None:
    base, seen = camera
    client = SnapshotClient(concurrency=4, timeout_s=30.0, credentials={
        "cam-d": Credential(USER, PASSWORD), "cam-b": Credential(USER, PASSWORD), "cam-x": Credential(USER, "wrong")})
    try:
        first = await client.fetch("cam-d", base + "/digest.jpg")
        assert (first.outcome, first.data) == (FetchOutcome.OK, JPEG)
        assert seen[0] == "" and seen[1].startswith("Digest ")  # challenged first, then answered
        seen.clear()
        assert (await client.fetch("cam-d", base + "/digest.jpg")).outcome is FetchOutcome.OK
        assert len(seen) == 1 and seen[0].startswith("Digest ")  # the challenge is kept: no second round trip

        seen.clear()
        assert (await client.fetch("cam-b", base + "/basic.jpg")).outcome is FetchOutcome.OK
        assert seen[0] == "" and seen[-1].startswith("Basic ")  # basic only once the camera asked for it

        refused = await client.fetch("cam-x", base + "/digest.jpg")
        assert (refused.outcome, refused.detail) == (FetchOutcome.HTTP_ERROR, "HTTP 401 (stored credentials refused)")
        anonymous = await client.fetch("cam-none", base + "/digest.jpg")
        assert (anonymous.outcome, anonymous.detail) == (FetchOutcome.HTTP_ERROR, "HTTP 401")
    finally:
        await client.close()
