"""The root of Amur's exceptions: every rejection names the field and the value."""

from __future__ import annotations

import re


class AmurError(Exception):
    """Root of every error Amur raises on purpose."""


class ConfigError(AmurError):
    """Configuration that cannot work (a taken port, a missing binary, a bad value)."""


class InvalidEvent(AmurError):
    """Input refused by validation; carries the field path and the value received."""

    def __init__(self, reason: str, *, field: str | None, value: object | None) -> None:
        self.reason = reason
        self.field = field
        self.value = None if value is None else str(value)[:200]
        super().__init__(reason)

    _PATH = re.compile(r"at `\$(?P<path>[^`]*)`")

    @classmethod
    def from_validation(cls, message: str, payload: bytes | str) -> "InvalidEvent":
        """Build from a msgspec message such as "Expected `float`, got `str` - at `$.value`"."""
        match = cls._PATH.search(message)
        path = match.group("path").lstrip(".") if match else None
        value = _value_at(payload, path) if path else None
        reason = message if value is None else f"{message} (received {value!r})"
        return cls(reason, field=path or None, value=value)


def _value_at(payload: bytes | str, path: str) -> object | None:
    """Best effort: the value at a msgspec path like ``readings[3].value``."""
    import orjson

    try:
        node: object = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            if part.startswith("["):
                node = node[int(part[1:-1])]  # type: ignore[index]
            else:
                node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
    return node
