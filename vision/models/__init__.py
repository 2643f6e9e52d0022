"""The trained fire/smoke classifier (fire_smoke.onnx) and its card (fire_smoke.json), shipped as package data."""
