"""`amur bench fleet`: end-to-end sampling of the simulated 5,000-camera fleet on loopback.

In one run, on the embedded broker and Redis (started here on free ports):

1. the fleet server (`amur sim cameras`, a child process) alone: snapshots/s a
   plain HTTP loop pulls without decoding - the ceiling the sampler lives under
   on this machine, where the fleet shares the two cores with the sampler;
2. a real Faust worker with ``stream.agents.vision`` owning every camera,
   stepped through frame budgets (frames/s over the 5,000 cameras, i.e. one
   frame per camera every 5,000/budget seconds); for each step it reports the
   rate published, lateness against the schedule, frame age at the end of
   analysis (p50/p99) and drops, measured after one unmeasured interval
   (at most 15 s) so the schedule's first round is not counted, and the
   resident memory of the worker, the fleet and the broker at its end
   (repeat one budget to watch memory over a long run).

A budget is *sustained* when the published rate is >= 95 % of it, nothing was
dropped and no sample was dispatched more than one interval after it was due.
The largest sustained budget is printed next to the Heihe design point (500/s).
The run stops by itself (about half a minute per step).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp

from stream.embedded.services import free_port, start_broker, start_redis
from stream.runtime.admin import prepare_topics_async
from stream.runtime.app import build_app
from stream.settings import Settings, load_settings
from vision.schedule import SchedulePolicy, Scheduler

AGENTS = ["stream.agents.vision"]
DESIGN_POINT_FPS = 500.0
WARM_UP_MAX_S = 15.0
"""Each step first runs one sampling interval (at most this long) unmeasured."""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def raw_fetch_rate(base: str, camera_ids: list[str], seconds: float, concurrency: int = 64) -> float:
    """Snapshots/s a bare aiohttp loop gets from the fleet (no decode, no analysis)."""
    done = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def worker(k: int) -> None:
            nonlocal done
            i = k
            while time.monotonic() < deadline:
                async with http.get(f"{base}/cameras/{camera_ids[i % len(camera_ids)]}/snapshot.jpg") as r:
                    await r.read()
                done += 1
                i += concurrency

        started = time.monotonic()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done / (time.monotonic() - started)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_steps(settings: Settings, budgets: list[float], step_s: float, base: str,
                    fleet_pid: int, broker_pid: int) -> list[dict[str, Any]]:
    await prepare_topics_async(settings, agent_modules=AGENTS)
    rt = build_app(settings, agent_modules=AGENTS)
    sampler = rt.vision_sampler
    raw = await raw_fetch_rate(base, sorted(sampler.targets), 5.0)
    print(f"fleet alone (plain HTTP GET loop, no decode): {raw:.0f} snapshots/s", flush=True)
    await rt.app.start()
    rows: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 60
        while len(sampler.owned) < len(sampler.targets) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        print(f"worker owns {len(sampler.owned)} cameras", flush=True)
        for budget in budgets:
            policy = SchedulePolicy(budget, max_interval_s=max(settings.vision_max_interval_s,
                                                               1.2 * len(sampler.owned) / budget))
            sampler.scheduler = Scheduler(policy)
            await sampler.assign(sampler.owned, time.time())
            # warm-up, not measured: the new schedule's first round and the previous step's in-flight work
            await asyncio.sleep(min(WARM_UP_MAX_S, len(sampler.owned) / budget))
            stats = sampler.stats
            stats.frame_age_s.clear()
            stats.lateness_s.clear()
            published0, late0 = stats.published, stats.late_over_interval
            dropped0 = _dropped(rt)
            started = time.monotonic()
            cpu0, fleet_cpu0 = time.process_time(), cpu_seconds(fleet_pid)
            await asyncio.sleep(step_s)
            elapsed = time.monotonic() - started
            frames = max(1, stats.published - published0)
            sampler_cpu_ms = 1000 * (time.process_time() - cpu0) / frames
            fleet_cpu_ms = 1000 * (cpu_seconds(fleet_pid) - fleet_cpu0) / frames
            ages, lateness = list(stats.frame_age_s), list(stats.lateness_s)
            rows.append({
                "budget_fps": budget,
                "interval_s": len(sampler.owned) / budget,
                "published_fps": (stats.published - published0) / elapsed,
                "sampler_cpu_ms": sampler_cpu_ms,
                "fleet_cpu_ms": fleet_cpu_ms,
                "age_p50_ms": 1000 * percentile(ages, 0.5),
                "age_p99_ms": 1000 * percentile(ages, 0.99),
                "late_p99_ms": 1000 * percentile(lateness, 0.99),
                "late_max_ms": 1000 * max(lateness, default=float("nan")),
                "late_over_interval": stats.late_over_interval - late0,
                "dropped": _dropped(rt) - dropped0,
                "statuses": dict(stats.by_status),
                "rss_mb": {"worker": rss_mb(os.getpid()), "fleet": rss_mb(fleet_pid), "broker": rss_mb(broker_pid)},
            })
            print(_row(rows[-1]), flush=True)
    finally:
        await rt.app.stop()
    return rows


def _dropped(rt: Any) -> float:
    return sum(m.value for metric in rt.metrics.dropped.collect() for m in metric.samples
               if m.name.endswith("_total") and str(m.labels.get("queue", "")).startswith("vision"))


def _row(r: dict[str, Any]) -> str:
    return (f"budget {r['budget_fps']:6.0f}/s  interval {r['interval_s']:5.1f} s  published {r['published_fps']:6.1f}/s"
            f"  age p50 {r['age_p50_ms']:6.1f} ms p99 {r['age_p99_ms']:7.1f} ms  lateness p99 {r['late_p99_ms']:7.1f} max {r['late_max_ms']:7.1f} ms"
            f"  late>interval {r['late_over_interval']}  dropped {r['dropped']:.0f}"
            f"  cpu/frame sampler {r['sampler_cpu_ms']:.2f} ms fleet {r['fleet_cpu_ms']:.2f} ms"
            f"  rss MiB worker {r['rss_mb']['worker']:.0f} fleet {r['rss_mb']['fleet']:.0f}"
            f" broker {r['rss_mb']['broker']:.0f}")


def sustained(row: dict[str, Any]) -> bool:
    return row["published_fps"] >= 0.95 * row["budget_fps"] and row["dropped"] == 0 and row["late_over_interval"] == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amur bench fleet", description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="50,100,200,300,400,500", help="frame budgets to step through")
    parser.add_argument("--step-seconds", type=float, default=20.0, help="measured seconds per step")
    args = parser.parse_args(argv)
    budgets = [float(b) for b in args.budgets.split(",")]
    with TemporaryDirectory(prefix="amur-bench-fleet-") as tmp:
        tmp_path = Path(tmp)
        fleet_port = free_port()
        fleet = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "sim", "cameras", "--port", str(fleet_port)],
                                 stdout=subprocess.PIPE, text=True)
        with start_broker(free_port()) as broker, start_redis(free_port(), tmp_path / "redis") as redis:
            try:
                assert fleet.stdout is not None
                print(fleet.stdout.readline().strip(), flush=True)
                base = f"http://127.0.0.1:{fleet_port}"
                settings = load_settings(
                    broker_url=broker.url, redis_url=redis.url + "/0", app_id="bench-fleet",
                    worker_web_port=free_port(), partitions=4, vision_snapshot_url=base + "/cameras/{camera_id}/snapshot.jpg",
                    vision_evidence_dir=tmp_path / "evidence", run_dir=tmp_path / "run",
                    vision_frame_budget_fps=budgets[0],
                )
                rows = asyncio.run(run_steps(settings, budgets, args.step_seconds, base, fleet.pid,
                                             broker.process.pid))
            finally:
                fleet.terminate()
                fleet.wait(10)
    best = max((r["budget_fps"] for r in rows if sustained(r)), default=0.0)
    ok = [r for r in rows if sustained(r)] or rows
    per_frame = statistics.median(r["sampler_cpu_ms"] for r in ok)
    print(f"sampler CPU per frame (worker process: fetch, decode, analysis, publish): {per_frame:.2f} ms "
          f"-> {2000 / per_frame:.0f} frames/s on 2 cores with the cameras elsewhere; fleet CPU per frame "
          f"{statistics.median(r['fleet_cpu_ms'] for r in ok):.2f} ms")
    print(f"largest sustained fleet rate: {best:.0f} frames/s (design point {DESIGN_POINT_FPS:.0f} frames/s: "
          f"{'met' if best >= DESIGN_POINT_FPS else 'not met'} on this machine)")
    return 0
