"""Operator tokens: signed (HS256, RFC 7519 claims), expiring, role- and scope-bearing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from command_ui.errors import AuthError
from command_ui.tokens import MAX_TTL_S, issue, verify
from stream import schemas
from stream.cli.main import main as amur
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
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert amur(["token", "issue", "--role", "duty_officer", "--scope", "231102", "--ttl", "120"]) == 0
    after = datetime.now(timezone.utc)
    token = capsys.readouterr().out.strip()
    claims = verify(load_settings().jwt_secret.get_secret_value(), token, now=after)
    assert (claims.role, claims.scope, claims.subject) == (schemas.Role.DUTY_OFFICER, "231102", "duty_officer@231102")
    # issued at some moment of the call, valid 120 s from it (however long the call took on a busy machine)
    assert before + timedelta(seconds=120) <= claims.expires <= after + timedelta(seconds=120)
    assert amur(["token", "issue", "--role", "viewer", "--scope", "nowhere"]) == 2


def test_cli_takes_the_subject_and_the_default_lifetime(capsys: pytest.CaptureFixture[str]) -> None:
    # The flags `amur run` passes (stream/embedded/supervisor.py login_url).
    argv = ["token", "issue", "--role", "duty_officer", "--scope", "231100", "--subject", "local-duty-officer"]
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert amur(argv) == 0
    now = datetime.now(timezone.utc)
    settings = load_settings()
    claims = verify(settings.jwt_secret.get_secret_value(), capsys.readouterr().out.strip(), now=now)
    assert claims.subject == "local-duty-officer" and claims.scope == "231100"
    ttl = timedelta(seconds=settings.gateway_token_ttl_s)
    assert before + ttl <= claims.expires <= now + ttl


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["token", "issue", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(option in out for option in ("--role", "--scope", "--subject", "--ttl", "duty_officer"))


@pytest.mark.parametrize("argv, option", [
    (["--role", "viewer", "--scope", "nowhere"], "'--scope'"),
    (["--role", "superuser", "--scope", "231100"], "'--role'"),
    (["--role", "viewer", "--scope", "231100", "--ttl", str(MAX_TTL_S + 1)], "'--ttl'"),
    (["--role", "viewer"], "'--scope'"),
])
def test_bad_values_are_one_line_usage_errors(argv: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert amur(["token", "issue", *argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amur token issue: error:") and option in lines[0]
