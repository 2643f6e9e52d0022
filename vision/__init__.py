"""Amur's vision library: pure functions over frames (numpy/OpenCV) and the simulated fleet."""
