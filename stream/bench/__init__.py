"""Benchmark commands (``amur bench ...``): each prints its figure and the limit it compares with."""
