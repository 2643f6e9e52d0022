"""Drills: a scenario or a recorded day replayed through the live pipeline as an exercise, and its report."""
