"""The simulated camera fleet: synthetic scenes, scripted events and faults, served over HTTP."""
