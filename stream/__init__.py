"""Amur's stream layer: the only package that knows Faust and Kafka."""
