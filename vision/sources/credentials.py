"""Stored camera credentials for password-protected snapshot URIs (HTTP digest or basic).

A table of ``<camera id | host | host:port> <user> <password>`` lines (``#``
comments; the password is the rest of the line, spaces allowed), read from a file
kept outside the repository or from the environment, never from the code. A
camera's own entry wins over its host's (an NVR's channels share the NVR's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from vision.sources.errors import CredentialsError


@dataclass(frozen=True, slots=True)
class Credential:
    user: str
    password: str

    def __repr__(self) -> str:  # never in a log line
        return f"Credential(user={self.user!r}, password=***)"


def parse_credentials(text: str, origin: str) -> dict[str, Credential]:
    """The table in ``text`` (``origin`` names it in errors: a file path or a variable)."""
    table: dict[str, Credential] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise CredentialsError(f"{origin} line {number}: expected '<camera id or host> <user> <password>', "
                                   f"got {len(parts)} field(s) starting {parts[0][:40]!r}")
        key, user, password = parts
        if key in table:
            raise CredentialsError(f"{origin} line {number}: {key[:64]!r} is listed twice")
        table[key] = Credential(user, password)
    return table


def credential_for(table: Mapping[str, Credential], camera_id: str, url: str) -> Credential | None:
    """The camera's entry, else its URL's ``host:port``, else its host's; None without one."""
    if not table:
        return None
    if camera_id in table:
        return table[camera_id]
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port
    return (table.get(f"{host}:{port}") if port else None) or table.get(host)
