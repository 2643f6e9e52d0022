"""`amur run`: the plan, the back-off, the one-line errors, and a real start/stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stream.cli.main import main as amur
from stream.embedded.services import free_port
from stream.embedded.supervisor import plan_parts, restart_delay
from stream.settings import load_settings
from tests.conftest import REPO_ROOT

REPO = REPO_ROOT


def test_backoff_doubles_up_to_the_cap_and_resets_after_a_stable_run() -> None:
    assert [restart_delay(n, ran_for_s=1.0) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert restart_delay(6, ran_for_s=120.0) == 1


def test_plan_starts_each_worker_on_its_own_web_port() -> None:
    settings = load_settings(workers=3, worker_web_port=7000)
    parts = plan_parts(settings, simulators=False)
    workers = [p for p in parts if p.name.startswith("worker-")]
    assert [p.ports for p in workers] == [((7000 + i, "AMUR_WORKER_WEB_PORT"),) for i in range(3)]
    assert [dict(p.env)["AMUR_WORKER_WEB_PORT"] for p in workers] == ["7000", "7001", "7002"]
    assert [p.name for p in parts][-2:] == ["ingest", "gateway"]
    assert [variable for _, variable in parts[-1].ports] == ["AMUR_HTTP_PORT", "AMUR_WS_PORT"]
    with_sims = [p.name for p in plan_parts(settings, simulators=True)]
    assert {"sim-feeds", "sim-cameras"} <= set(with_sims)


@pytest.mark.parametrize("argv, options", [(["run"], ("--workers", "--no-simulators"))])
def test_help_lists_the_options(argv: list[str], options: tuple[str, ...], capsys) -> None:
    assert amur([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in options)


def test_a_worker_count_out_of_range_is_a_one_line_usage_error(capsys) -> None:
    assert amur(["run", "--workers", "0"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "'--workers'" in lines[0] and lines[0].startswith("amur run: error:")


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMUR_")}
    env.update(values)
    return env


def test_a_taken_port_is_a_one_line_error_that_says_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "stream.cli.main", "run", "--no-simulators"],
            env=_env(AMUR_EMBEDDED_BROKER_PORT=str(port), AMUR_RUN_DIR=str(tmp_path)),
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and "AMUR_EMBEDDED_BROKER_PORT" in lines[0]


def _wait_for(predicate, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _state(run_dir: Path) -> dict[str, dict]:
    import json

    try:
        return {row["name"]: row for row in json.loads((run_dir / "latest" / "state.json").read_text())}
    except (FileNotFoundError, ValueError):
        return {}


def _descendants(root: int) -> set[int]:
    """``root`` and every process under it, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def _listening(pids: set[int]) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state owned by ``pids`` (from /proc/net/tcp and tcp6)."""
    inodes: set[str] = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            address, port = cols[1].split(":")
            if cols[3] != "0A" or cols[9] not in inodes:  # 0A = LISTEN
                continue
            raw = bytes.fromhex(address)
            words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))  # each 32-bit word is host order
            found.append((socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words), int(port, 16)))
    return found


@pytest.mark.integration
def test_amur_run_serves_the_page_restarts_a_killed_worker_and_stops_cleanly(tmp_path: Path) -> None:
    import urllib.request

    http_port = free_port()
    env = _env(AMUR_EMBEDDED_BROKER_PORT=str(free_port()), AMUR_EMBEDDED_REDIS_PORT=str(free_port()),
               AMUR_HTTP_PORT=str(http_port), AMUR_WORKER_WEB_PORT=str(free_port()),
               AMUR_INGEST_HTTP_PORT=str(free_port()), AMUR_WS_PORT=str(free_port()), AMUR_RUN_DIR=str(tmp_path))
    run = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "run", "--no-simulators"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        def page_answers() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{http_port}/", timeout=2).status == 200
            except OSError:
                return False

        _wait_for(page_answers, 60, "the command view to answer within 60 s")
        worker = _wait_for(lambda: _state(tmp_path).get("worker-1"), 10, "worker state")
        os.kill(worker["pid"], signal.SIGKILL)
        restarted = _wait_for(lambda: (s := _state(tmp_path).get("worker-1")) and s["restarts"] == 1
                              and s["status"] == "running" and s, 30, "the worker to be restarted")
        assert restarted["pid"] != worker["pid"]
        pids = [row["pid"] for row in _state(tmp_path).values()]
        # every listener of the embedded shape (broker, Redis, workers, ingest, gateway) is on loopback
        listening = _listening(_descendants(run.pid))
        assert {http_port, int(env["AMUR_WS_PORT"]), int(env["AMUR_INGEST_HTTP_PORT"]),
                int(env["AMUR_EMBEDDED_BROKER_PORT"]), int(env["AMUR_EMBEDDED_REDIS_PORT"])} <= {
            port for _, port in listening}, listening
        assert all(address in ("127.0.0.1", "::1") for address, _ in listening), listening
    finally:
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
    assert run.returncode == 0, output
    assert "exited with -9" in output and "stopped" in output
    assert f"http://127.0.0.1:{http_port}/#token=" in output
    # tokens are signed with this installation's own key, made on first start, not the repository's
    import jwt

    from stream.settings import DEVELOPMENT_JWT_SECRET

    secret_file = tmp_path / "jwt-secret"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    printed = output.split("#token=", 1)[1].split()[0]
    jwt.decode(printed, secret_file.read_text().strip(), algorithms=["HS256"], options={"verify_exp": False})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(printed, DEVELOPMENT_JWT_SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids), "a part outlived amur run"
    assert not page_answers()


@pytest.mark.integration
@pytest.mark.timeout(600)
def test_after_amur_run_raised_an_incident_amur_audit_verify_finds_and_checks_its_log(tmp_path: Path) -> None:
    """The documented commands, as a user runs them: `amur run`, a flood report, stop, `amur audit verify`."""
    import json
    import urllib.parse
    import urllib.request

    ingest_port = free_port()
    env = _env(AMUR_EMBEDDED_BROKER_PORT=str(free_port()), AMUR_EMBEDDED_REDIS_PORT=str(free_port()),
               AMUR_HTTP_PORT=str(free_port()), AMUR_WORKER_WEB_PORT=str(free_port()),
               AMUR_INGEST_HTTP_PORT=str(ingest_port), AMUR_WS_PORT=str(free_port()), AMUR_RUN_DIR=str(tmp_path),
               AMUR_OPEN311_API_KEYS="test-key")
    run = subprocess.Popen([sys.executable, "-m", "stream.cli.main", "run", "--no-simulators"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    log = tmp_path / "latest" / "audit" / "amur.jsonl"
    try:
        report = urllib.parse.urlencode({"api_key": "test-key", "service_code": "flood_report", "lat": "50.2611",
                                         "long": "127.4773", "description": "江水漫过堤顶"}).encode()

        def posted() -> bool:
            try:
                url = f"http://127.0.0.1:{ingest_port}/open311/v2/requests.json"
                return urllib.request.urlopen(url, data=report, timeout=30).status == 201
            except OSError:
                return False

        _wait_for(posted, 120, "the Open311 report to be accepted")

        def raised() -> bool:
            lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
            return any(json.loads(line)["data"]["change"] == "raised" for line in lines)

        _wait_for(raised, 300, f"the raised incident in {log}")
    finally:
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
    assert run.returncode == 0, output
    verify = subprocess.run([sys.executable, "-m", "stream.cli.main", "audit", "verify"], cwd=tmp_path,
                            env=_env(AMUR_RUN_DIR=str(tmp_path)), capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith(f"ok {log}: ") and " records, head " in verify.stdout
