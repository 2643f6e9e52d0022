"""The wall says why an incident has its colour: an orange flood beside a blue gauge shows the cell's own stage.

A gauge below its warning stage (Wuyuer at Bei'an, 2.90 m against 3.10: blue) already floods the cells
whose own flooding stage is lower (2.29 m in the sample); their modelled risk is orange, and so is the
incident. The incident row shows the evidence that set its colour, in its own words. Real gateway,
Redis and projection; headless Chromium.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, async_playwright

from command_ui.server import start_gateway
from stream import schemas
from stream.agents.projection import RedisProjector
from stream.embedded.services import free_port
from stream.incidents import evidence
from stream.incidents.actions import step
from stream.incidents.places import TablePlaces
from stream.incidents.state import Area, Policy, to_event
from stream.runtime.admin import prepare_topics_async
from stream.screens.projection import Keys, project
from tests.command_ui.test_ui_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Problems,
    open_wall,
    token,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield found
        await found.close()

CELL = "231181001001001"  # a Bei'an cell


def orange_flood_beside_a_blue_gauge(now: datetime) -> schemas.IncidentChanged:
    """The incident the stream makes of the blue gauge and the cell's orange modelled risk."""
    places = TablePlaces(gauges={"wye-beian": (CELL,)})
    gauge = schemas.GaugeState(source="hydro", event_time=now, gauge_id="wye-beian", stage_m=2.90,
                               trend=schemas.TrendState.RISING, rate_m_per_h=0.05, colour=schemas.Colour.BLUE)
    risk = schemas.CellRisk(source="risk", event_time=now, cell_code=CELL, hazard=schemas.Hazard.FLOOD, score=0.72,
                            colour=schemas.Colour.ORANGE, gauge_id="wye-beian",
                            factors={"stage_m": 2.90, "inundation_stage_m": 2.29, "margin_m": 0.61})
    area, published = Area(area_key="231181/flood"), []
    for item in evidence.from_gauge(gauge, places) + evidence.from_cell_risk(risk):
        outcome = step(area, item, places, Policy(drill=True), lambda incident, reason: [])
        area, published = outcome.area, published + list(outcome.changes)
    return to_event(published[-1], "amur.incidents")


async def test_an_orange_flood_beside_a_blue_gauge_shows_the_cells_own_stage(make_settings, browser: Browser) -> None:
    settings = make_settings(ws_port=free_port())
    await prepare_topics_async(settings, agent_modules=[])
    client = aioredis.from_url(settings.redis_url)
    incident = orange_flood_beside_a_blue_gauge(datetime.now(timezone.utc))
    assert incident.colour is schemas.Colour.ORANGE
    assert [e.colour for e in incident.evidence] == [schemas.Colour.BLUE, schemas.Colour.ORANGE]
    keys = Keys(settings.redis_prefix)
    await RedisProjector(client, keys, 1000, 100).apply([project(incident, keys)])
    gateway = await start_gateway(settings)
    problems = Problems()
    try:
        page = await open_wall(browser, settings.http_port, token(settings, "duty_officer", "231100", "li.na"),
                               problems)
        why = page.locator(f".incident[data-id='{incident.incident_id}'] .meta .why")
        await why.wait_for(timeout=10000)
        text = await why.inner_text()
        assert "orange" in text and "stage 2.90 m at wye-beian" in text and "this cell floods at 2.29 m" in text
        assert problems.items == []
    finally:
        await gateway.stop()
        await client.aclose()
