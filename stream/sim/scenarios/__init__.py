"""Scripted, seeded scenarios: pure generators of wire events, sorted by arrival.

Each module exposes ``readings(start, seed)``; drills and tests replay them.
"""

#: scenario name -> module
SCENARIOS: dict[str, str] = {
    "heilongjiang-crest-5": "stream.sim.scenarios.heilongjiang_crest_5",
    "demonstration": "stream.sim.scenarios.demonstration",
    "event-surge": "stream.sim.scenarios.event_surge",
    "forest-fire": "stream.sim.scenarios.forest_fire",
}
