"""A real loopback HTTP receiver for notification tests: records every POST, answers as the test says."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

#: (path name, how many POSTs it has had, this one included) -> the answer.
Answer = Callable[[str, int], web.Response]


def ok(name: str, calls: int) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok"})


@asynccontextmanager
async def receiver(answer: Answer = ok) -> AsyncIterator[TestServer]:
    """A server on 127.0.0.1 taking ``POST /{name}``; ``.received[name]`` = [(JSON body, headers), ...]."""
    received: dict[str, list[tuple[dict[str, Any], dict[str, str]]]] = defaultdict(list)

    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        received[name].append((await request.json(), dict(request.headers)))
        return answer(name, len(received[name]))

    app = web.Application()
    app.router.add_post("/{name}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    server.received = received  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        await server.close()
