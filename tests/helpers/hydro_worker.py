"""A Faust worker running only the hydrology agents (for tests that kill and restart it).

usage: python tests/helpers/hydro_worker.py PRIOR_CRESTS   (settings from AMUR_* variables)
"""

from __future__ import annotations

import sys

from faust.worker import Worker

from gis.hydro.alerts import load_exposures
from gis.hydro.config import load_config
from gis.hydro.numbering import seed_season
from gis.hydro.pipeline import HydroContext
from stream.agents.hydro import install
from stream.runtime.app import build_app
from stream.settings import load_settings

if __name__ == "__main__":
    rt = build_app(load_settings(), agent_modules=[])
    install(rt, HydroContext.build(load_config(), load_exposures()),
            seasons={"heilongjiang": seed_season("heilongjiang", 2024, int(sys.argv[1]))})
    Worker(rt.app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()
