"""Operator tokens: signed (HS256, RFC 7519 claims), expiring, role- and scope-bearing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from command_ui.errors import AuthError
from command_ui.tokens import issue, issue_main, verify
from stream import schemas
from stream.settings import load_settings

NOW = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
SECRET = "test-secret-of-sufficient-length-for-hs256"


def test_round_trip_carries_role_scope_and_expiry() -> None:
    token = issue(SECRET, subject="li.na", role=schemas.Role.DUTY_OFFICER, scope="231102", now=NOW, ttl_s=600)
    claims = verify(SECRET, token, now=NOW + timedelta(seconds=599))
    assert (claims.subject, claims.role, claims.scope) == ("li.na", schemas.Role.DUTY_OFFICER, "231102")
    assert claims.expires == NOW + timedelta(seconds=600) and claims.may_command


def test_expired_at_exp_exactly() -> None:
    token = issue(SECRET, subject="a", role=schemas.Role.VIEWER, scope="231100", now=NOW, ttl_s=60)
    with pytest.raises(AuthError, match="expired"):
        verify(SECRET, token, now=NOW + timedelta(seconds=60))


def test_another_key_or_algorithm_is_refused() -> None:
    token = issue(SECRET, subject="a", role=schemas.Role.ADMIN, scope="231100", now=NOW, ttl_s=60)
    with pytest.raises(AuthError, match="Signature verification failed"):
        verify("another-secret-of-sufficient-length-xx", token, now=NOW)
    unsigned = jwt.encode({"iss": "amur", "sub": "a", "role": "admin", "scope": "231100", "iat": 0, "exp": 2**40},
                          None, algorithm="none")
    with pytest.raises(AuthError):
        verify(SECRET, unsigned, now=NOW)


@pytest.mark.parametrize("claims, message", [
    ({"role": "superuser", "scope": "231100"}, "role must be one of"),
    ({"role": "admin", "scope": "23"}, "scope must be a grid code"),
])
def test_claims_are_checked_by_value(claims: dict, message: str) -> None:
    payload = {"iss": "amur", "sub": "x", "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 60, **claims}
    with pytest.raises(AuthError, match=message):
        verify(SECRET, jwt.encode(payload, SECRET, algorithm="HS256"), now=NOW)


def test_viewers_may_not_command() -> None:
    token = issue(SECRET, subject="v", role=schemas.Role.VIEWER, scope="231100", now=NOW, ttl_s=60)
    assert not verify(SECRET, token, now=NOW).may_command


def test_ttl_is_bounded() -> None:
    with pytest.raises(AuthError, match="ttl_s"):
        issue(SECRET, subject="a", role=schemas.Role.VIEWER, scope="231100", now=NOW, ttl_s=0)


def test_cli_issues_a_token_the_gateway_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert issue_main(["--role", "duty_officer", "--scope", "231102", "--ttl", "120"]) == 0
    token = capsys.readouterr().out.strip()
    claims = verify(load_settings().jwt_secret.get_secret_value(), token, now=datetime.now(timezone.utc))
    assert (claims.role, claims.scope, claims.subject) == (schemas.Role.DUTY_OFFICER, "231102", "duty_officer@231102")
    assert issue_main(["--role", "viewer", "--scope", "nowhere"]) == 2
