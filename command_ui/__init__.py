"""Amur's command view: the websocket/REST gateway and the wall-display page."""
