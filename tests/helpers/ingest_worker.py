"""A worker of `amur worker`'s entry point running only the ingest agents (for fault tests that stop
the broker or kill workers: it starts in seconds, where a full worker takes tens on a busy machine).

usage: python tests/helpers/ingest_worker.py   (settings from AMUR_* variables)
"""

from __future__ import annotations

import sys

from stream.runtime.worker import run
from stream.settings import load_settings

if __name__ == "__main__":
    sys.exit(run(load_settings(), agent_modules=["stream.agents.ingest"]))
