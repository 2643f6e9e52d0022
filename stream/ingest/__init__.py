"""Ingest as pure decisions: the source registry, the inventory, validation, dedupe, routing (intake) and source health.

The HTTP front doors (batch ingest and Open311) are the one I/O edge, in ``stream.ingest.http``.
"""
