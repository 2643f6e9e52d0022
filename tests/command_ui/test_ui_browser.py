"""The command view in Debian's headless Chromium (Playwright), on the real gateway, Redis, broker and agents."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, Page, async_playwright

from command_ui.server import start_gateway
from command_ui.tokens import issue
from gis.registry import load_gauges
from stream import schemas, topics
from stream.agents.projection import RedisProjector
from stream.dispatch.request import to_event
from stream.embedded.services import free_port
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app
from stream.schemas import RequestAction
from stream.screens.projection import Keys, project
from tests.helpers.dispatch_scenario import acted, call_110, cell_in, morning
from tests.helpers.ui_scenario import load_scenario

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AGENTS = ["stream.agents.incidents", "stream.agents.projection"]
PIPELINE = ["stream.agents.ingest", "stream.agents.hydro", *AGENTS]

if shutil.which(CHROMIUM) is None:  # `make browser` installs it
    pytest.skip("Debian's chromium is not installed (run `make browser`)", allow_module_level=True)


def token(settings, role: str, scope: str, subject: str) -> str:
    return issue(settings.jwt_secret.get_secret_value(), subject=subject, role=schemas.Role(role), scope=scope,
                 now=datetime.now(timezone.utc), ttl_s=3600)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield found
        await found.close()


class Problems:
    """Every failed request and page error a page produced."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.urls: set[str] = set()

    def watch(self, page: Page) -> Page:
        page.on("request", lambda r: self.urls.add(r.url))
        page.on("websocket", lambda ws: self.urls.add(ws.url))
        page.on("requestfailed", lambda r: self.items.append(f"failed {r.url} {r.failure}"))
        page.on("response", lambda r: self.items.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: self.items.append(f"pageerror {e}"))
        return page


async def open_wall(browser: Browser, port: int, jwt: str, problems: Problems, size=(1920, 1080)) -> Page:
    page = problems.watch(await browser.new_page(viewport={"width": size[0], "height": size[1]}))
    await page.goto(f"http://127.0.0.1:{port}/#token={jwt}")
    await page.wait_for_selector("#link.up", timeout=30000)
    return page


async def test_wall_shows_the_city_and_writes_screenshots(make_settings, browser: Browser, artifacts_dir: Path) -> None:
    settings = make_settings(ws_port=free_port(), drill_id=f"shot{uuid.uuid4().hex[:6]}")
    settings = settings.model_copy(update={"drill_id": None})  # a live (not drill) wall for the README
    await prepare_topics_async(settings, agent_modules=[])
    client = aioredis.from_url(settings.redis_url)
    stale = [key async for key in client.scan_iter(match=f"{settings.redis_prefix}*")]
    if stale:
        await client.delete(*stale)
    incidents = await load_scenario(client, Keys(settings.redis_prefix), datetime.now(timezone.utc))
    gateway = await start_gateway(settings)
    problems = Problems()
    try:
        jwt = token(settings, "duty_officer", "231100", "zhang.wei")
        for size in ((1920, 1080), (3840, 2160)):
            page = await open_wall(browser, settings.http_port, jwt, problems, size)
            await page.wait_for_selector(".incident", timeout=10000)
            assert await page.locator(".incident").count() == len(incidents)
            red = incidents[0]
            await page.click(f".incident[data-id='{red.incident_id}']")
            # its linked cameras: live frames, and the two faulty ones show their fault instead of a picture
            await page.wait_for_selector("#video-wall .tile.live img", timeout=10000)
            await page.wait_for_function("document.querySelectorAll('#video-wall .tile.fault').length === 2")
            assert await page.locator("#video-wall .tile.fault img").count() == 0
            assert sorted(await page.locator("#video-wall .tile.fault").evaluate_all(
                "tiles => tiles.map(t => t.dataset.fault)")) == ["frozen", "offline"]
            await page.wait_for_function("document.querySelectorAll('#vitals .vital').length === 6")
            assert await page.locator("#drill-banner").is_hidden()
            assert await page.locator("#hydro-title").inner_text() == "黑河"
            await page.wait_for_timeout(1500)  # let the map and charts settle before the picture
            await page.screenshot(path=str(artifacts_dir / f"wall-{size[0]}x{size[1]}.png"))
            if size == (1920, 1080):  # `make screenshot` copies this one to docs/ for the README
                await page.click("#lang-switch")
                assert await page.locator("#header .title").inner_text() == "Heihe Emergency Command Centre"
                await page.screenshot(path=str(artifacts_dir / "wall-1920x1080-en.png"))
            await page.close()
        assert problems.items == []
        # nothing leaves the machine: no CDN, no web fonts, no tiles
        assert all(u.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "blob:http://127.0.0.1:"))
                   for u in problems.urls), sorted(problems.urls)
    finally:
        await gateway.stop()
        await client.aclose()


def report(report_id: str, cell: str, service: str) -> schemas.GridEvent:
    return schemas.GridEvent(source="open311", event_time=datetime.now(timezone.utc), report_id=report_id,
                             service_code=service, description="browser test", lon=127.5, lat=50.2, cell_code=cell)


async def incident_row(page: Page, hazard: str, timeout_ms: float) -> str:
    """Wait until a row for ``hazard`` shows; its incident id."""
    selector = f".incident:has(.head:text-matches('^{hazard}'))"
    await page.wait_for_selector(selector, timeout=timeout_ms)
    return await page.locator(selector).first.get_attribute("data-id")


async def test_pipeline_incident_reaches_every_screen_and_commands_go_through_the_stream(
        make_settings, browser: Browser, artifacts_dir: Path) -> None:
    settings = make_settings(ws_port=free_port(), partitions=2, incident_tick_s=60.0, ingest_clock="wall")
    await prepare_topics_async(settings, agent_modules=PIPELINE)
    rt = build_app(settings, agent_modules=PIPELINE)
    await rt.app.start()
    gateway = await start_gateway(settings)
    problems = Problems()

    async def send(event: schemas.GridEvent) -> None:
        await rt.topic(topics.GRID_EVENTS).send(key=event.cell_code.encode(), value=schemas.encode(event))

    try:
        officer = await open_wall(browser, settings.http_port, token(settings, "duty_officer", "231100", "li.na"),
                                  problems)
        county = await open_wall(browser, settings.http_port, token(settings, "duty_officer", "231102", "wang.qiang"),
                                 problems)
        viewer = await open_wall(browser, settings.http_port, token(settings, "viewer", "231100", "guest"), problems)
        # warm-up: the first event waits for the consumer groups to settle
        await send(report("warm-up", "231123001001001", "flood_report"))
        await incident_row(officer, "洪水", 60000)
        # a grid report in Aihui becomes a fire incident on every screen (how fast: `amur bench screen`;
        # the wait is generous, as this machine may be busy)
        sent = time.monotonic()
        await send(report(f"r-{uuid.uuid4().hex[:6]}", "231102001001002", "fire_report"))
        fire_id = await incident_row(officer, "火险", 60000)
        assert await incident_row(county, "火险", 60000) == fire_id
        assert await incident_row(viewer, "火险", 60000) == fire_id
        print(f"grid report -> incident on three screens: {time.monotonic() - sent:.3f} s")
        assert await officer.locator("#drill-banner").is_visible()  # the test stack is a drill namespace
        # the county officer sees Aihui's incident only, not Xunke's
        assert await county.locator(".incident").count() == 1
        # a viewer's acknowledgement is refused at the gateway and changes nothing
        await viewer.click(f".incident[data-id='{fire_id}'] button[data-action='acknowledge']")
        await viewer.wait_for_selector(".toast.refused", timeout=5000)
        assert "viewer" in await viewer.locator(".toast.refused").first.inner_text()
        # the duty officer acknowledges: through the COMMANDS topic and the incident agent to every screen
        await officer.click(f".incident[data-id='{fire_id}'] button[data-action='acknowledge']")
        for page in (county, viewer, officer):
            await page.wait_for_selector(f".incident[data-id='{fire_id}'][data-state='acknowledged']", timeout=10000)
        await officer.screenshot(path=str(artifacts_dir / "wall-acknowledged.png"))
        # assign to a department, then resolve: each result shows on the other screens
        row = f".incident[data-id='{fire_id}']"
        await county.select_option(f"{row} select", "fire-rescue")
        await county.click(f"{row} button[data-action='assign']")
        await officer.wait_for_selector(f"{row}[data-state='assigned'] .meta:has-text('fire-rescue')", timeout=10000)
        await officer.click(f"{row} button[data-action='resolve']")
        for page in (county, viewer):
            await page.wait_for_selector(f"{row}[data-state='resolved']", timeout=10000)
        assert await county.locator(f"{row} .actions").count() == 0
        # a gauge reading above the warning level, sent as a department feed sends it, is on screen within 2 s
        floods = officer.locator(".incident:has(.head:text-matches('^洪水'))")
        before = await floods.count()
        heihe = next(g for g in load_gauges() if g.gauge_id == "hlj-heihe")
        now = datetime.now(timezone.utc).replace(microsecond=0)
        levels = [schemas.WaterLevel(source="hydrology.river-gauges", event_time=now - timedelta(minutes=10 * k),
                                     gauge_id=heihe.gauge_id, stage_m=heihe.warning_m + 0.2) for k in (2, 1, 0)]
        sent = time.monotonic()
        await rt.topic(topics.RAW_INGEST).send(key=b"hydrology.river-gauges", value=schemas.encode(levels))
        for _ in range(40):
            if await floods.count() > before:
                break
            await asyncio.sleep(0.05)
        assert await floods.count() == before + 1, "the reading's flood incident is on screen within 2 s"
        print(f"gauge reading -> incident on screen: {time.monotonic() - sent:.3f} s")
        assert problems.items == []
    finally:
        await gateway.stop()
        await rt.app.stop()


async def project_all(settings, events: list[schemas.Event]) -> None:
    """Through the real projection into the test's Redis, as the projection agent writes it."""
    client = aioredis.from_url(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    try:
        await RedisProjector(client, keys, 10000, 100).apply(project(e, keys) for e in events)
    finally:
        await client.aclose()


async def stat(page: Page, status: str) -> int:
    return int(await page.locator(f"#request-statuses .req-stat[data-status='{status}'] b").inner_text())


async def test_grid_events_panel_counts_marks_overdue_queues_and_scopes(make_settings, browser: Browser,
                                                                        artifacts_dir: Path) -> None:
    """Requests decided by the real dispatch rules, projected into Redis, on three walls of three scopes."""
    settings = make_settings(ws_port=free_port())
    await prepare_topics_async(settings, agent_modules=[])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    scenario = morning(now)
    await project_all(settings, scenario.changes)
    gateway = await start_gateway(settings)
    problems = Problems()
    try:
        city = await open_wall(browser, settings.http_port, token(settings, "duty_officer", "231100", "li.na"), problems)
        aihui = await open_wall(browser, settings.http_port, token(settings, "duty_officer", "231102", "wang.qiang"),
                                problems)
        xunke = await open_wall(browser, settings.http_port, token(settings, "viewer", "231123", "zhao.min"), problems)
        open_ids = {r.request_id for r in scenario.latest.values() if r.status is not schemas.RequestStatus.CLOSED}
        for page, expected in ((city, open_ids), (aihui, {i for i in open_ids if i != "311-xunke"}),
                               (xunke, {"311-xunke"})):
            await page.wait_for_function(f"document.querySelectorAll('#request-list .request').length === {len(expected)}",
                                         timeout=10000)
            shown = await page.locator("#request-list .request").evaluate_all("rows => rows.map(r => r.dataset.id)")
            assert set(shown) == expected
        # counts by status and department (the closed Sunwu request has left the wall)
        assert await city.locator("#request-count").inner_text() == "6"
        assert [await stat(city, s) for s in ("received", "accepted", "rejected", "overdue", "queue")] == [4, 1, 1, 1, 2]
        heating = city.locator("#request-departments .req-dept[data-department='heating']")
        assert (await heating.get_attribute("data-open"), await heating.get_attribute("data-overdue")) == ("2", "1")
        assert "热力公司" in await heating.inner_text()
        assert await city.locator(".req-dept[data-department='public-security']").get_attribute("data-open") == "1"
        assert await aihui.locator(".req-dept[data-department='public-security']").count() == 0
        # the overdue one (escalated twice) is red, in the list and on the map
        late = city.locator("#request-list .request.overdue")
        assert await late.count() == 1 and await late.get_attribute("data-id") == "311-ignored"
        assert await late.locator(".bar").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 59, 59)"
        assert "↑2" in await late.locator(".state").inner_text()
        markers = await city.evaluate("""() => Object.fromEntries(amur.map.chart.getOption().series
            .find(s => s.id === 'requests').data.map(d => [d.id, d.itemStyle.color]))""")
        assert set(markers) == open_ids and markers["311-ignored"] == "#ff3b3b"
        # the dispatcher queue leads the list: the unmapped 110 call and the rejected report
        queued = await city.locator("#request-list .request.queued").evaluate_all("rows => rows.map(r => r.dataset.id)")
        assert set(queued) == {"110-20260110-0815-0042", "311-vending"}
        call = city.locator("#request-list .request[data-id='110-20260110-0815-0042']")
        assert "110转办" in await call.inner_text() and "邻居家狗叫" in await call.inner_text()
        assert "未匹配权责事项" in await call.inner_text()
        vending = await city.locator("#request-list .request[data-id='311-vending'] .why").inner_text()
        assert vending == "城市管理综合执法局: a licensed night market, not street vending"  # who rejected it, and why
        # live: a new unmapped call in Xunke reaches the city and Xunke walls, not Aihui's; a closed request leaves
        barking = call_110("20260110-0920-0107", "江边有人放鞭炮", cell_in("231123", 2), now)
        resolved = acted(scenario.requests["311-manhole"], RequestAction.RESOLVE, "urban-management", now)
        closing = acted(resolved, RequestAction.CLOSE, "grid-office", now)
        await project_all(settings, [to_event(barking), to_event(closing)])
        for page in (city, xunke):
            await page.wait_for_selector("#request-list .request.queued[data-id='110-20260110-0920-0107']",
                                         timeout=10000)
        await city.wait_for_function("!document.querySelector(\"#request-list .request[data-id='311-manhole']\")",
                                     timeout=10000)
        assert await stat(city, "queue") == 3 and await stat(xunke, "queue") == 1
        assert await aihui.locator("#request-list .request[data-id='110-20260110-0920-0107']").count() == 0
        # English on the switch
        await city.click("#lang-switch")
        assert await city.locator("#requests-panel h2 span").first.inner_text() == "Grid events"
        assert "Overdue" in await city.locator(".req-stat[data-status='overdue']").inner_text()
        # the panel fits the wall: nothing pushes the page past the screen
        for page in (city, aihui):
            size = await page.evaluate("[document.documentElement.scrollHeight, innerHeight]")
            assert size[0] <= size[1]
        await city.screenshot(path=str(artifacts_dir / "wall-grid-events-en.png"))
        assert problems.items == []
    finally:
        await gateway.stop()


async def test_requests_reach_the_wall_through_the_dispatch_and_projection_agents(make_settings,
                                                                                  browser: Browser) -> None:
    """Grid events on the topic → the dispatch worker → dispatch.requests → the projection agent → Redis → the
    gateway → the page; a request ignored for ten event hours turns red as it climbs (a drill: the event clock)."""
    agents = ["stream.agents.dispatch", "stream.agents.projection"]
    settings = make_settings(ws_port=free_port(), partitions=2, dispatch_tick_s=0.3, notify_attempts=1)
    await prepare_topics_async(settings, agent_modules=agents)
    rt = build_app(settings, agent_modules=agents)
    await rt.app.start()
    gateway = await start_gateway(settings)
    problems = Problems()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    aihui, xunke = cell_in("231102", 4), cell_in("231123", 4)

    def event(report_id: str, service: str, cell: str, at: datetime) -> schemas.GridEvent:
        return schemas.GridEvent(source="open311", event_time=at, report_id=report_id, service_code=service,
                                 cell_code=cell, description="pipeline test")

    try:
        city = await open_wall(browser, settings.http_port, token(settings, "duty_officer", "231100", "li.na"), problems)
        county = await open_wall(browser, settings.http_port, token(settings, "viewer", "231123", "zhao.min"),
                                 problems)
        for report in (event("311-p-cold", "heating_cold", aihui, now - timedelta(hours=10)),
                       event("311-p-xunke", "manhole_cover", xunke, now)):  # the second moves the event clock on
            await rt.topic(topics.GRID_EVENTS).send(key=report.report_id.encode(), value=schemas.encode(report))
        # generous bounds for a busy machine; each wait ends as soon as the row shows
        await city.wait_for_selector("#request-list .request.overdue[data-id='311-p-cold']", timeout=90000)
        await city.wait_for_function(
            "document.querySelector(\"#request-list .request[data-id='311-p-cold'] .state\").textContent.includes('↑4')",
            timeout=90000)  # climbed cell → village → street → Aihui → the city
        await city.wait_for_selector("#request-list .request[data-id='311-p-xunke']", timeout=90000)
        assert await stat(city, "overdue") == 1 and await stat(city, "received") == 2
        await county.wait_for_selector("#request-list .request[data-id='311-p-xunke']", timeout=90000)
        assert await county.locator("#request-list .request").count() == 1  # Aihui's cold flat is not Xunke's
        assert problems.items == []
    finally:
        await gateway.stop()
        await rt.app.stop()
