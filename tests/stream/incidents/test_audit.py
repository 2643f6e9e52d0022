"""The hash-chained audit log: any edit, removal or reordering is detected and named."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream.cli.main import main as amur
from stream.incidents.audit import (
    GENESIS,
    AuditBroken,
    AuditLog,
    chain_record,
    record_hash,
    verify_lines,
)

T0 = datetime(2026, 7, 12, tzinfo=timezone.utc)


def write(path: Path, n: int) -> list[str]:
    log = AuditLog(path)
    for i in range(n):
        log.append("incident", f"231102-fire-abc#{i + 1}#raised#", T0 + timedelta(seconds=i),
                   {"incident_id": "231102-fire-abc", "revision": i + 1, "note": "水位 rising"})
    return path.read_text(encoding="utf-8").splitlines()


def test_hash_is_sha256_of_canonical_json_without_the_hash() -> None:
    record = chain_record(GENESIS, 0, "incident", "k", T0, {"b": 1, "a": "é"})
    import hashlib

    body = '{"data":{"a":"é","b":1},"key":"k","kind":"incident","prev":"' + GENESIS + \
        '","seq":0,"time":"2026-07-12T00:00:00+00:00"}'
    assert record["hash"] == hashlib.sha256(body.encode("utf-8")).hexdigest() == record_hash(record)


def test_a_written_log_verifies_and_repeated_keys_are_not_appended(tmp_path: Path) -> None:
    lines = write(tmp_path / "audit.jsonl", 5)
    head = verify_lines(lines)
    assert head.count == 5 and head.head == json.loads(lines[-1])["hash"]
    assert AuditLog(tmp_path / "audit.jsonl").append("incident", "231102-fire-abc#3#raised#", T0, {}) is False
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 5


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_edit_remove_or_reorder_is_detected_at_the_right_record(tmp_path: Path, data: st.DataObject) -> None:
    lines = write(tmp_path / f"a{data.draw(st.integers(0, 10**9))}.jsonl", 6)
    kind = data.draw(st.sampled_from(["edit", "edit_and_rehash", "remove", "swap"]))
    i = data.draw(st.integers(0, 4))  # removing the very last record is caught by --head (test below)
    tampered = list(lines)
    if kind.startswith("edit"):
        record = json.loads(tampered[i])
        record["data"]["note"] = "nothing happened"
        if kind == "edit_and_rehash":
            record["hash"] = record_hash(record)  # a careful forger: then the next record's prev breaks
        tampered[i] = json.dumps(record)
        expected = i + 1 if kind == "edit" else i + 2
    elif kind == "remove":
        del tampered[i]
        expected = i + 1
    else:
        tampered[i], tampered[i + 1] = tampered[i + 1], tampered[i]
        expected = i + 1
    with pytest.raises(AuditBroken) as caught:
        verify_lines(tampered)
    assert caught.value.line == expected


def test_cli_names_the_first_broken_record_and_checks_the_head(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "audit.jsonl"
    lines = write(path, 4)
    head = json.loads(lines[-1])["hash"]
    assert amur(["audit", "verify", str(path), "--head", head]) == 0
    assert f"4 records, head {head}" in capsys.readouterr().out
    path.write_text("\n".join(lines[:-1]) + "\n")  # tail cut: the chain itself is still consistent
    assert amur(["audit", "verify", str(path)]) == 0
    capsys.readouterr()
    assert amur(["audit", "verify", str(path), "--head", head]) == 1
    assert "not in the chain" in capsys.readouterr().out
    path.write_text("\n".join([lines[0], lines[2], lines[3]]) + "\n")
    assert amur(["audit", "verify", str(path)]) == 1
    assert "record 2 is broken" in capsys.readouterr().out


def test_cli_refuses_a_missing_log_and_a_bare_head(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert amur(["audit", "verify", str(tmp_path / "none.jsonl")]) == 2
    assert "no audit log at" in capsys.readouterr().err
    assert amur(["audit", "verify", str(tmp_path / "none.jsonl"), "--head"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("amur audit verify: error:") and "'--head' requires an argument" in line
    assert amur(["audit", "verify", "--tail", "5c1e"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("amur audit verify: error:") and "--tail" in line


def test_without_a_path_the_cli_checks_the_latest_run_of_amur_run(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`amur run` writes <run dir>/<UTC time>/audit/amur.jsonl and points <run dir>/latest at that run."""
    from stream.embedded.supervisor import new_run_dir

    for name in ("AMUR_AUDIT_LOG", "AMUR_DRILL_ID", "AMUR_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AMUR_RUN_DIR", str(tmp_path))
    assert amur(["audit", "verify"]) == 2
    message = capsys.readouterr().err
    assert str(tmp_path / "latest" / "audit" / "amur.jsonl") in message and str(tmp_path / "audit") in message
    run = new_run_dir(tmp_path)
    write(run / "audit" / "amur.jsonl", 3)
    assert amur(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith(f"ok {tmp_path / 'latest' / 'audit' / 'amur.jsonl'}: 3 records")


def test_cli_help_lists_its_argument_and_options(capsys: pytest.CaptureFixture) -> None:
    assert amur(["audit", "verify", "--help"]) == 0
    out = capsys.readouterr().out
    assert "[PATH]" in out and "--head HASH" in out


def _append_many(path: str, prefix: str) -> None:
    log = AuditLog(Path(path))
    for i in range(40):
        log.append("incident", f"{prefix}#{i}", T0, {"i": i})


def test_two_processes_share_one_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(path), p)) for p in ("w1", "w2")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    head = verify_lines(path.read_text().splitlines())
    assert head.count == 80
