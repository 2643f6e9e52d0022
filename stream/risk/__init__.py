"""Flood and fire risk per grid cell as pure functions: stored inputs (``inputs``), per-source state (``state``), whole-grid scores (``score``)."""
