"""Amur's stream layer: the wire contract, the pure decisions it applies, and the Faust agents that apply them.

Read top down:

- ``schemas``, ``topics``, ``errors``, ``settings``: the wire events, where they flow,
  the root exception, the one settings object. Any package may import ``schemas``.
- ``ingest``: registry, inventory, validation, dedupe, routing, source health (pure);
  ``ingest.http`` is its HTTP front door (batch POSTs and Open311).
- ``risk``: flood and fire scores per grid cell (pure).
- ``incidents``: evidence → incidents, lifecycle, CAP 1.2, audit chain (pure);
  ``incidents.notify`` delivers to responders.
- ``screens``: the projection of events onto the Redis keys the wall reads (pure).
- ``cameras``: the camera sampler service and its Redis state.
- ``agents``: thin Faust agents: decode, call one of the above, send.
- ``runtime``: the Faust app, transport, topic admin, offsets, recovery, worker, metrics, logs.
- ``embedded``: the broker, Redis and supervisor behind ``amur run``.
- ``sim``, ``drills``, ``bench``, ``cli``: simulators, drills, benchmarks and the ``amur`` command.

Pure packages never import Faust, aiokafka, redis or aiohttp (checked by tests/test_layout.py).
"""
