"""A revised crest on the wall (issue 17), in Debian's headless Chromium on the real gateway, broker and projection."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest
from playwright.async_api import async_playwright

from command_ui.server import start_gateway
from command_ui.tokens import issue
from stream import schemas, topics
from stream.embedded.services import free_port
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AGENTS = ["stream.agents.projection"]
CST = timezone(timedelta(hours=8))

if shutil.which(CHROMIUM) is None:  # `make browser` installs it
    pytest.skip("Debian's chromium is not installed (run `make browser`)", allow_module_level=True)


def crest(revision: int, time: datetime, stage: float, previous: tuple[datetime, float] | None = None
          ) -> schemas.CrestDetected:
    return schemas.CrestDetected(
        source="hydro", event_time=time + timedelta(hours=2), gauge_id="hlj-heihe", river="heilongjiang",
        crest_no=5, crest_time=time, stage_m=stage, prominence_m=stage - 6.1, rise_start=time - timedelta(hours=30),
        revision=revision, previous_crest_time=previous[0] if previous else None,
        previous_stage_m=previous[1] if previous else None)


async def test_a_revised_crest_is_told_on_the_wall_with_its_number_stage_and_time(make_settings) -> None:
    settings = make_settings(ws_port=free_port())
    await prepare_topics_async(settings, agent_modules=AGENTS)
    rt = build_app(settings, agent_modules=AGENTS)
    await rt.app.start()
    gateway = await start_gateway(settings)
    errors: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # the wall in Heihe shows China Standard Time
            context = await browser.new_context(timezone_id="Asia/Shanghai", viewport={"width": 1920, "height": 1080})
            page = await context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            jwt = issue(settings.jwt_secret.get_secret_value(), subject="li.na", role=schemas.Role.DUTY_OFFICER,
                        scope="231100", now=datetime.now(timezone.utc), ttl_s=3600)
            await page.goto(f"http://127.0.0.1:{settings.http_port}/#token={jwt}")
            await page.wait_for_selector("#link.up", timeout=30000)
            announced_at = datetime(2024, 8, 6, 9, 0, tzinfo=CST)
            revised_at = datetime(2024, 8, 6, 14, 0, tzinfo=CST)
            topic = rt.topic(topics.CRESTS)
            await topic.send(key=b"hlj-heihe", value=schemas.encode(crest(0, announced_at, 7.42)))
            await topic.send(key=b"hlj-heihe", value=schemas.encode(
                crest(1, revised_at, 7.61, previous=(announced_at, 7.42))))
            # the revision is told (the first announcement is not a revision and has no notice)
            await page.wait_for_selector(".toast:has-text('洪峰修正')", timeout=60000)
            texts = await page.locator(".toast").all_inner_texts()
            assert [text for text in texts if "洪峰" in text] == ["黑河 · 第5号洪峰修正：7.61 米，14:00"]
            await browser.close()
        assert errors == []
    finally:
        await gateway.stop()
        await rt.app.stop()
