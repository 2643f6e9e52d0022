"""The embedded default behind `amur run`: a Tansu broker and a Redis on loopback, and the supervisor of every part."""
