"""Camera sampling falling behind its plan reaches the wall (issue 23), in Debian's headless Chromium.

A sampler's SamplingHealth on the ``vision.sampling`` topic goes through the real
projection agent, Redis and the gateway's KPIs to the header's sampling box, which
shows only while sampling falls short.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from playwright.async_api import Browser, async_playwright

from command_ui.server import start_gateway
from command_ui.tokens import issue
from stream import schemas, topics
from stream.embedded.services import free_port
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
AGENTS = ["stream.agents.projection"]

if shutil.which(CHROMIUM) is None:  # `make browser` installs it
    pytest.skip("Debian's chromium is not installed (run `make browser`)", allow_module_level=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield found
        await found.close()


def health(**figures: float) -> schemas.SamplingHealth:
    values = dict(cameras=5000, claimed=50, planned_fps=99.2, served_fps=99.0, claimed_behind=0, past_max_interval=0,
                  worst_wait_s=54.0, feasible=True) | figures
    return schemas.SamplingHealth(source="sampler", event_time=datetime.now(timezone.utc), worker="worker-1",
                                  **values)  # type: ignore[arg-type]


async def test_the_header_says_when_sampling_falls_behind_and_stops_saying_it(make_settings, browser) -> None:
    settings = make_settings(ws_port=free_port())
    await prepare_topics_async(settings, agent_modules=AGENTS)
    rt = build_app(settings, agent_modules=AGENTS)
    await rt.app.start()
    gateway = await start_gateway(settings)
    errors: list[str] = []

    async def send(event: schemas.SamplingHealth) -> None:
        await rt.topic(topics.SAMPLING).send(key=event.worker.encode(), value=schemas.encode(event))

    try:
        jwt = issue(settings.jwt_secret.get_secret_value(), subject="li.na", role=schemas.Role.DUTY_OFFICER,
                    scope="231100", now=datetime.now(timezone.utc), ttl_s=3600)
        page = await browser.new_page(viewport={"width": 1920, "height": 1080})
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(f"http://127.0.0.1:{settings.http_port}/#token={jwt}")
        await page.wait_for_selector("#link.up", timeout=30000)
        await send(health())  # keeping up: nothing to say
        await send(health(served_fps=40.0, past_max_interval=3056))
        await page.wait_for_selector("#kpi-sampling:not([hidden])", timeout=60000)
        assert await page.locator("#kpi-sampling-served").inner_text() == "40"
        assert await page.locator("#kpi-sampling-planned").inner_text() == "99"
        assert await page.locator("#kpi-sampling-past").inner_text() == "3056"
        assert await page.locator("#kpi-sampling-behind").inner_text() == "0"
        await send(health(cameras=0))  # the sampler stopped: its entry goes, and the box with it
        await page.wait_for_selector("#kpi-sampling[hidden]", state="attached", timeout=60000)
        assert errors == []
    finally:
        await gateway.stop()
        await rt.app.stop()
