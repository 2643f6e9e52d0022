"""The bundled Heihe sample: real county boundaries plus generated (SAMPLE) layers."""
