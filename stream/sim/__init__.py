"""Simulators: department feeds (``feeds``), their scenario hooks (``hooks``), scripted scenarios."""
