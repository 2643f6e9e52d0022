"""SIP digest authentication, the server side (RFC 2617 / RFC 3261 §22, as GB/T 28181-2016 §9.1 uses).

The platform answers a REGISTER without credentials by ``401`` with a
``WWW-Authenticate: Digest realm=..., nonce=...`` challenge; the device repeats
the REGISTER with ``Authorization: Digest username=..., response=...``.
``response = MD5(HA1:nonce:HA2)`` with ``HA1 = MD5(username:realm:password)``,
``HA2 = MD5(method:uri)``; with ``qop=auth`` the nonce count, client nonce and
qop go between nonce and HA2. Only MD5 and ``qop`` absent or ``auth``: what
GB/T 28181 devices send.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from vision.gb28181.errors import DigestError

_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)\s*(?:,|$)')
MAX_HEADER = 2048
REQUIRED = ("username", "realm", "nonce", "uri", "response")


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None


def challenge(realm: str, nonce: str) -> str:
    """The ``WWW-Authenticate`` value of a 401."""
    return f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5'


def parse_credentials(header: str) -> Credentials:
    """An ``Authorization`` value -> :class:`Credentials`; :class:`DigestError` naming what is wrong."""
    if len(header) > MAX_HEADER:
        raise DigestError(f"Authorization: {len(header)} characters, more than {MAX_HEADER}")
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise DigestError(f"Authorization scheme: expected Digest, got {scheme[:32]!r}")
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None:
            raise DigestError(f"Authorization: cannot read a parameter at {rest[pos:pos + 32]!r}")
        value = match.group(2)
        params[match.group(1).lower()] = value[1:-1] if value.startswith('"') else value
        pos = match.end()
    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        raise DigestError(f"Authorization: missing {', '.join(missing)} (got {sorted(params)})")
    algorithm = params.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise DigestError(f"Authorization algorithm: only MD5, got {algorithm!r}")
    qop = params.get("qop")
    if qop is not None and qop.lower() != "auth":
        raise DigestError(f"Authorization qop: only auth, got {qop!r}")
    if qop and not (params.get("nc") and params.get("cnonce")):
        raise DigestError("Authorization: qop=auth without nc and cnonce")
    return Credentials(params["username"], params["realm"], params["nonce"], params["uri"], params["response"],
                       algorithm.upper(), qop, params.get("nc"), params.get("cnonce"))


def expected_response(credentials: Credentials, method: str, password: str) -> str:
    """The response a device holding ``password`` would send."""
    ha1 = _md5(f"{credentials.username}:{credentials.realm}:{password}")
    ha2 = _md5(f"{method}:{credentials.uri}")
    if credentials.qop:
        return _md5(f"{ha1}:{credentials.nonce}:{credentials.nc}:{credentials.cnonce}:{credentials.qop}:{ha2}")
    return _md5(f"{ha1}:{credentials.nonce}:{ha2}")


def verify(credentials: Credentials, method: str, password: str) -> bool:
    """Whether the credentials answer with ``password`` (constant-time comparison)."""
    return hmac.compare_digest(expected_response(credentials, method, password).lower(),
                               credentials.response.lower())


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
