"""The HTTP front doors of ingest: `amur ingest` (batch POSTs, metrics) and Open311 GeoReport v2."""
