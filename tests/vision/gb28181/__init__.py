"""Tests of vision.gb28181."""
