"""The OpenAPI 3.1 description of the gateway's REST endpoints (served at /openapi.json)."""

from __future__ import annotations

from typing import Any


def _op(summary: str, *, auth: bool = False, params: tuple[tuple[str, str, str], ...] = (),
        content: str = "application/json", errors: tuple[int, ...] = ()) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [{"name": n, "in": where, "required": where == "path", "schema": {"type": "string"},
                        "description": d} for n, where, d in params],
        "responses": {"200": {"description": "OK", "content": {content: {}}}},
    }
    if auth:
        operation["security"] = [{"bearer": []}]
        operation["responses"]["401"] = {"description": "missing, invalid or expired token"}
    for status in errors:
        operation["responses"][str(status)] = {"description": "see the JSON body's code and detail"}
    return {"get": operation}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Amur command view gateway", "version": "1",
             "description": "REST beside the websocket at ws://host:ws_port/ (see docs/command-view.md)."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    "paths": {
        "/": _op("the command-view page", content="text/html"),
        "/config.json": _op("where the page finds the websocket"),
        "/api/health": _op("Redis reachable, connected clients, sequence per channel", errors=(503,)),
        "/metrics": _op("Prometheus metrics", content="text/plain"),
        "/openapi.json": _op("this description"),
        "/api/map": _op("simplified WGS84 layers: city, counties, townships, rivers, cell points"),
        "/api/cameras": _op("known cameras: [id, scene, county, lon, lat]"),
        "/api/gauges": _op("river gauges with warning, guaranteed and record stages"),
        "/api/departments": _op("departments incidents can be assigned to"),
        "/api/gauges/{gauge_id}/series": _op(
            "observed stage series, detected crests and the latest forecast of a gauge",
            params=(("gauge_id", "path", "gauge id"),), errors=(400,)),
        "/api/incidents": _op(
            "incidents in the token's scope, newest first", auth=True,
            params=(("state", "query", "open or an incident state"), ("colour", "query", "warning colour"),
                    ("hazard", "query", "hazard"), ("limit", "query", "at most this many (<= 1000)")),
            errors=(400,)),
        "/api/requests": _op(
            "open dispatched grid requests in the token's scope, newest first", auth=True,
            params=(("status", "query", "a request status (received, accepted, ... rejected)"),
                    ("department", "query", "the responsible department id"),
                    ("overdue", "query", "true: overdue only; false: in time only"),
                    ("queue", "query", "dispatcher: only requests waiting in the dispatcher queue"),
                    ("limit", "query", "at most this many (<= 1000)")),
            errors=(400,)),
        "/api/cap": _op("Atom feed of the latest CAP 1.2 alert of each active incident in scope", auth=True,
                        content="application/atom+xml"),
        "/api/cameras/{camera_id}/thumbnail": _op(
            "latest JPEG of a known camera (204: no recent frame; 409: the camera is faulty, detail = fault)",
            auth=True, params=(("camera_id", "path", "camera id"),), content="image/jpeg",
            errors=(204, 403, 404, 409)),
        "/api/cameras/{camera_id}/live": _op(
            "live view: the camera's sampled JPEGs as MJPEG (multipart/x-mixed-replace), at most gateway_live_fps; "
            "a fault ends the stream with an application/json part {\"fault\": kind}; 403 outside the scope, "
            "503 when gateway_live_max_streams are open",
            auth=True, params=(("camera_id", "path", "camera id"),), content="multipart/x-mixed-replace",
            errors=(403, 404, 503)),
    },
}
