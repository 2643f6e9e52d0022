"""Option types shared by several ``amur`` commands."""

from __future__ import annotations

from datetime import datetime

import click


class ZonedTime(click.ParamType):
    """An ISO 8601 time with its zone, e.g. ``2021-07-12T08:00:00+08:00``."""

    name = "iso_time"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            at = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time", param, ctx)
        if at.tzinfo is None:
            self.fail(f"{value!r} needs a time zone, e.g. 2021-07-12T08:00:00+08:00", param, ctx)
        return at
