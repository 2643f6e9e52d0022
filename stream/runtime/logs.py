"""JSON log lines: one object per record, with time, level, logger and message.

Module loggers use lazy ``%s`` arguments with ``key=value`` pairs; the
formatter renders the final message, never the settings' secrets.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the one seen at configuration.

    A command run in-process (tests, or one command calling another) may have
    ``sys.stderr`` swapped and later closed under it; a handler bound to the old
    object would then fail on every record.
    """

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that writes JSON lines to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stderr": {"()": f"{__name__}.CurrentStderrHandler", "formatter": "json"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }


def configure(level: str = "INFO") -> None:
    """JSON logging for processes that are not Faust workers."""
    import logging.config

    logging.config.dictConfig(logging_config(level))
    logging.captureWarnings(True)
    sys.excepthook = lambda *exc: logging.getLogger("amur").critical("uncaught exception", exc_info=exc)
