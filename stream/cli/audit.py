"""`amur audit verify`: check the hash chain of the audit log (stream.incidents.audit) and name the first break."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from stream.incidents.audit import (
    AuditBroken,
    audit_candidates,
    holds_head,
    newest_existing,
    read_lines,
    verify_lines,
)


@click.command(name="verify", help="Check the hash chain of the audit log PATH and name the first broken record. "
                                   "Default: AMUR_AUDIT_LOG if set, else the newer of the latest `amur run`'s log "
                                   "(<run dir>/latest/audit/<app id>.jsonl) and <run dir>/audit/<app id>.jsonl."
                                   "\n\nExit 0 intact, 1 broken, 2 no log.")
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--head", metavar="HASH", help="a head hash recorded earlier: the chain must still contain it")
def verify_command(path: Path | None, head: str | None) -> int:
    if path is None:
        from stream.settings import load_settings

        candidates = audit_candidates(load_settings())
        path = newest_existing(candidates)
        if path is None:
            print(f"amur audit verify: no audit log at {' or '.join(map(str, candidates))}", file=sys.stderr)
            return 2
    if not path.exists():
        print(f"amur audit verify: no audit log at {path}", file=sys.stderr)
        return 2
    try:
        chain = verify_lines(read_lines(path))
        if head and not holds_head(read_lines(path), head):
            raise AuditBroken(chain.count + 1, f"head {head} is not in the chain (the tail was cut or replaced)")
    except AuditBroken as exc:
        print(f"BROKEN {path}: {exc}")
        return 1
    print(f"ok {path}: {chain.count} records, head {chain.head}")
    return 0
