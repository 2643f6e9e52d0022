"""`make run` as a newcomer sees it: `amur run` freshly started (a subprocess, as the Makefile does), then Chromium.

Within its first minutes the wall must show a hydrograph with two days of history,
all six vital-sign panels with connected sources, an incident the pipeline
raised from the simulated evidence, labelled as a demonstration, and the
demonstration's 110 calls on the grid-events panel. Waits are bounded
but generous (the stack shares the machine); what is asserted is what the page
shows. The 1920x1080 picture it takes is the README's (`make screenshot`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from stream.embedded.services import free_port

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.timeout(900)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PATIENCE_MS = 420_000
"""Bound of each wait: the stack starts and digests its 48 hours of history on a shared machine."""

if shutil.which(CHROMIUM) is None:  # `make browser` installs it
    pytest.skip("Debian's chromium is not installed (run `make browser`)", allow_module_level=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield found
        await found.close()


@pytest.fixture
def amur_run(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`amur run` with its defaults but ports, run directory and frame budget; (login URL, its output file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMUR_")}
    env.update(AMUR_EMBEDDED_BROKER_PORT=str(free_port()), AMUR_EMBEDDED_REDIS_PORT=str(free_port()),
               AMUR_HTTP_PORT=str(free_port()), AMUR_WS_PORT=str(free_port()), AMUR_WORKER_WEB_PORT=str(free_port()),
               AMUR_INGEST_HTTP_PORT=str(free_port()), AMUR_SIM_CAMERAS_PORT=str(free_port()),
               AMUR_RUN_DIR=str(tmp_path / "run"), AMUR_VISION_EVIDENCE_DIR=str(tmp_path / "evidence"),
               # the sampler at a fifth of its frame budget: nothing asserted here needs more, and CI has two cores
               AMUR_VISION_FRAME_BUDGET_FPS="20")
    output = tmp_path / "amur-run.out"
    with output.open("wb") as out:
        run = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "run"], env=env, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        login = None
        while login is None and time.monotonic() < deadline and run.poll() is None:
            login = re.search(r"duty officer login \(whole city\): (\S+)", output.read_text(errors="replace"))
            time.sleep(0.5)
        assert login is not None, output.read_text(errors="replace")
        yield login.group(1), output
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == 0, output.read_text(errors="replace")


HISTORY_HOURS = """() => {
  const chart = echarts.getInstanceByDom(document.getElementById("hydrograph"));
  const observed = chart && chart.getOption().series[0].data;
  if (!observed || observed.length < 2) return 0;
  return (Date.parse(observed.at(-1)[0]) - Date.parse(observed[0][0])) / 3600e3;
}"""

VITALS = """() => [...document.querySelectorAll("#vitals .vital")].map((box) => ({
  dimension: box.dataset.dimension, live: Number(box.querySelector("b.ok").textContent)}))"""


async def test_make_run_shows_history_connected_sources_and_a_demonstration_incident(
        amur_run: tuple[str, Path], browser: Browser, artifacts_dir: Path) -> None:
    login, output = amur_run
    assert "demonstration:" in output.read_text()
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for _ in range(60):  # the gateway answers a few seconds after the login line
        try:
            await page.goto(login)
            break
        except Exception:  # noqa: BLE001 - connection refused while the gateway starts
            await page.wait_for_timeout(1000)
    await page.wait_for_selector("#link.up", timeout=PATIENCE_MS)
    # a demonstration says so: the banner stays, in words that are not a drill's
    assert await page.locator("#drill-banner").is_visible()
    assert "演示" in await page.locator("#drill-banner").inner_text()

    # the hydrograph of the gauge the wall opens on: two days of history, not an empty chart
    await page.wait_for_function(f"({HISTORY_HOURS})() >= 46.5", timeout=PATIENCE_MS, polling=1000)
    hours = await page.evaluate(HISTORY_HOURS)
    assert 46.5 <= hours <= 49, hours  # from 47-48 h before the start (the backfill), then the live levels

    # all six dimensions have connected (live) sources
    await page.wait_for_function(f"({VITALS})().length === 6 && ({VITALS})().every((v) => v.live > 0)",
                                 timeout=PATIENCE_MS, polling=1000)
    vitals = await page.evaluate(VITALS)
    assert len({v["dimension"] for v in vitals}) == 6 and all(v["live"] > 0 for v in vitals), vitals
    live_total = int(await page.locator("#kpi-sources-live").inner_text())
    assert live_total > 1000, "the generated registry categories are fed, not only the 7 sample feeds"

    # the demonstration gauge crosses its warning stage: a flood incident, raised by the pipeline, labelled
    flood = ".incident[data-id*='-flood-']"
    await page.wait_for_selector(flood, timeout=PATIENCE_MS)
    assert await page.locator(f"{flood}.drill").count() == await page.locator(flood).count() >= 1
    # read in one script: the list re-renders on every update, and a replaced row has no computed style
    labels = await page.evaluate(f"""() => [...document.querySelectorAll("{flood} .head")].map(
        (head) => getComputedStyle(head, "::before").content)""")
    assert labels and all("演示" in label for label in labels), labels
    assert await page.locator(".incident:not(.drill)").count() == 0, "every incident of a demonstration is an exercise"

    # the two 110 calls on the grid-events panel: the cold flat routed to a department, the other in the queue
    await page.wait_for_selector(".request.queued[data-id^='110-demo-']", timeout=PATIENCE_MS)
    await page.wait_for_selector(".request:not(.queued)[data-id^='110-demo-']", timeout=PATIENCE_MS)

    await page.wait_for_timeout(1500)  # let the map and charts settle before the picture
    await page.screenshot(path=str(artifacts_dir / "make-run-1920x1080.png"))
    assert errors == []
