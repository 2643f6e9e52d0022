"""The `amur` command line (``main``) and the commands that read topics for a person (``alerts``)."""
