"""The drill report in Debian's headless Chromium (Playwright): opened from a file with no network, its charts
are drawn (canvases with pixels), its headline figures are there, and a hostile title is text, not script."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from stream.drills.report import ECHARTS, write
from stream.drills.report_data import build
from tests.stream.drills.report_sample import COUNTIES, HOSTILE, STAGES, TRUTH, record

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

if shutil.which(CHROMIUM) is None:  # `make browser` installs it
    pytest.skip("Debian's chromium is not installed (run `make browser`)", allow_module_level=True)
if not ECHARTS.is_file():
    pytest.skip("ECharts is not installed (run `make web`)", allow_module_level=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield found
        await found.close()


INKED = """els => els.map(el => {
  const canvas = el.querySelector('canvas');
  if (!canvas || !canvas.width || !canvas.height) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
  return inked;
})"""


async def test_the_report_opens_offline_with_its_charts_drawn_and_headline_figures(browser: Browser,
                                                                                   tmp_path: Path) -> None:
    report = build(record(), TRUTH, STAGES, COUNTIES)
    page_path, _ = write(report, tmp_path)
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    urls: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror {e}"))
    page.on("request", lambda r: urls.append(r.url))
    await page.goto(page_path.as_uri())
    await page.wait_for_selector("body[data-charts=drawn]", timeout=60_000)

    charts = await page.query_selector_all(".chart")
    assert len(charts) == 3  # incidents over time, risk by county, one hydrograph
    inked = await page.eval_on_selector_all(".chart", INKED)
    assert all(n > 1000 for n in inked), inked  # every canvas has a chart drawn on it
    assert problems == []
    assert [u for u in urls if not u.startswith(("file:", "data:"))] == []  # nothing fetched: it opens offline

    async def card(cid: str) -> str:
        return (await page.inner_text(f"#card-{cid} .value")).strip()

    assert await card("incidents") == "3"
    assert await card("recall") == "67%" and await card("precision") == "100%"
    assert await card("missed") == "1 / 1"  # Bei'an missed; Xunke's fire raised an hour late
    assert await card("lead") == "+28.0 h"  # raised 2 h in, crest detected at Heihe 30 h in
    assert await card("ack") == "1 h 30 min"
    assert await card("faults") == "1 (1 cameras)"
    assert "演练报告" in await page.inner_text("h1")
    assert HOSTILE in await page.inner_text("body")  # shown as text
    assert await page.evaluate("window.pwned") is None
