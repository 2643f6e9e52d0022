"""Hydrology: crest detection, Muskingum routing, rating curves, downstream
forecasts and flood alerts. Pure functions over small frozen dataclasses; the
stream keeps their state in Faust tables (see ``stream/agents/hydro.py``)."""
