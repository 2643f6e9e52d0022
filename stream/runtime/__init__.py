"""Faust plumbing: the app and its transport, topic admin, true end offsets, table recovery, the worker, metrics and logs."""
