"""Thin Faust agents: decode, call a pure function, send. One module per concern."""
