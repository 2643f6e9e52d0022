"""Operator tokens: HMAC-signed JWTs (PyJWT) carrying role, grid scope and expiry.

:func:`verify` takes ``now`` and checks expiry itself, so the decision is a
pure function of the token, the key and the time. ``amur token issue`` prints one
(:data:`issue_command`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import click
import jwt

from command_ui.errors import AuthError
from command_ui.scope import check_scope
from stream import schemas
from stream.settings import load_settings

ALGORITHM = "HS256"
ISSUER = "amur"
MAX_TTL_S = 31 * 86400


@dataclass(frozen=True, slots=True)
class Claims:
    """Who is connected and what they may do."""

    subject: str
    role: schemas.Role
    scope: str
    expires: datetime

    @property
    def may_command(self) -> bool:
        return self.role in (schemas.Role.DUTY_OFFICER, schemas.Role.ADMIN)


def issue(secret: str, *, subject: str, role: schemas.Role, scope: str, now: datetime, ttl_s: int) -> str:
    """A signed token valid from ``now`` for ``ttl_s`` seconds."""
    if not 0 < ttl_s <= MAX_TTL_S:
        raise AuthError(f"ttl_s must be in 1..{MAX_TTL_S}, got {ttl_s}")
    if not subject or len(subject) > 128:
        raise AuthError(f"subject must be 1..128 characters, got {subject!r}")
    issued = int(now.timestamp())
    payload = {"iss": ISSUER, "sub": subject, "role": role.value, "scope": check_scope(scope),
               "iat": issued, "exp": issued + ttl_s}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str, *, now: datetime) -> Claims:
    """The token's claims, or :class:`AuthError` saying what is wrong with it."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                             options={"verify_exp": False, "verify_iat": False,
                                      "require": ["exp", "iat", "sub", "iss"]})
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"token refused: {exc}") from None
    expires = datetime.fromtimestamp(int(payload["exp"]), timezone.utc)
    if now >= expires:
        raise AuthError(f"token expired at {expires.isoformat()}")
    if int(payload["iat"]) > now.timestamp() + 60:
        raise AuthError(f"token issued in the future (iat={payload['iat']})")
    try:
        role = schemas.Role(payload.get("role"))
    except ValueError:
        raise AuthError(f"token role must be one of {[r.value for r in schemas.Role]}, "
                        f"got {payload.get('role')!r}") from None
    scope = check_scope(str(payload.get("scope", "")))
    return Claims(subject=str(payload["sub"]), role=role, scope=scope, expires=expires)


def _scope(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return check_scope(value)
    except AuthError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command(name="issue", help="Issue a signed operator token (HS256, AMUR_JWT_SECRET) and print it.\n\n"
               "Example: amur token issue --role duty_officer --scope 231102 --ttl 3600 --subject li.na")
@click.option("--role", required=True, type=click.Choice([r.value for r in schemas.Role]))
@click.option("--scope", required=True, callback=_scope, help="grid code subtree (231100 = whole city)")
@click.option("--subject", default=None, help="operator name (default: role@scope)")
@click.option("--ttl", type=click.IntRange(1, MAX_TTL_S), default=None,
              help="lifetime in seconds (default from settings)")
def issue_command(role: str, scope: str, subject: str | None, ttl: int | None) -> int:
    settings = load_settings()
    try:
        token = issue(settings.jwt_secret.get_secret_value(), subject=subject or f"{role}@{scope}",
                      role=schemas.Role(role), scope=scope, now=datetime.now(timezone.utc),
                      ttl_s=ttl if ttl is not None else settings.gateway_token_ttl_s)
    except AuthError as exc:
        click.echo(f"amur token issue: {exc}", err=True)
        return 2
    click.echo(token)
    return 0
