"""Settings: one object from AMUR_* variables; secrets never printed; docs generated from it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stream.cli.main import main as amur
from stream.settings import load_settings, mask_url_password, reference_markdown
from tests.conftest import REPO_ROOT

DOCS = REPO_ROOT / "docs" / "configuration.md"


def test_environment_variables_override_defaults(monkeypatch) -> None:
    monkeypatch.setenv("AMUR_HTTP_PORT", "9999")
    monkeypatch.setenv("AMUR_WORKERS", "3")
    settings = load_settings()
    assert (settings.http_port, settings.workers) == (9999, 3)


def test_amur_config_masks_secrets_and_url_passwords() -> None:
    env = {"AMUR_JWT_SECRET": "top-secret-key", "AMUR_REDIS_URL": "redis://:hunter2@10.0.0.5:6379/0",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "stream.cli.main", "config"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "top-secret-key" not in out and "hunter2" not in out
    assert '"redis_url": "redis://:****@10.0.0.5:6379/0"' in out


def test_mask_url_password_leaves_urls_without_password_alone() -> None:
    assert mask_url_password("kafka://broker:9092") == "kafka://broker:9092"
    assert mask_url_password("redis://user:pw@h:1/0") == "redis://user:****@h:1/0"


def test_configuration_reference_in_docs_is_current() -> None:
    assert reference_markdown() in DOCS.read_text(), "regenerate: amur config --markdown"


def test_amur_config_markdown_prints_the_reference(capsys) -> None:
    assert amur(["config", "--markdown"]) == 0
    assert capsys.readouterr().out == reference_markdown()


@pytest.mark.parametrize("argv, option", [(["config"], "--markdown")])
def test_help_lists_the_options(argv: list[str], option: str, capsys) -> None:
    assert amur([*argv, "--help"]) == 0
    assert option in capsys.readouterr().out


def test_an_unknown_option_is_a_one_line_usage_error(capsys) -> None:
    assert amur(["config", "--markdwn"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--markdwn" in lines[0] and lines[0].startswith("amur config: error:")


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from stream.settings import DEVELOPMENT_JWT_SECRET

    for secret in (DEVELOPMENT_JWT_SECRET, "short"):
        with pytest.raises(ValueError, match="AMUR_JWT_SECRET is the development value"):
            load_settings(production=True, jwt_secret=secret)
    assert load_settings(production=True, jwt_secret="x" * 32).production
    assert load_settings().jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET  # development: allowed
    monkeypatch.setenv("AMUR_PRODUCTION", "true")
    monkeypatch.delenv("AMUR_JWT_SECRET", raising=False)
    for argv in (["gateway"], ["worker"], ["ingest"], ["token", "issue", "--role", "admin", "--scope", "231100"]):
        assert amur(argv) == 2
        err = capsys.readouterr().err
        assert "configuration refused" in err and "AMUR_PRODUCTION is on" in err and "Traceback" not in err
