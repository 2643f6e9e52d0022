"""docker-compose.yml: valid by the Compose Specification, and wired to real code.

No Docker engine runs on the build machines, so the file is checked statically:
against the Compose Specification JSON schema (the copy check-jsonschema ships),
and every service command and AMUR_* variable must exist in Amur.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from stream.cli.main import load, resolve
from stream.settings import Settings

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def compose_schema() -> dict:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text())


def test_compose_file_validates_against_the_compose_specification() -> None:
    jsonschema.validate(load_compose(), compose_schema())


def test_the_schema_would_catch_a_broken_file() -> None:
    broken = load_compose()
    broken["services"]["worker"]["comand"] = ["worker"]  # a typo the schema must refuse
    try:
        jsonschema.validate(broken, compose_schema())
    except jsonschema.ValidationError:
        return
    raise AssertionError("schema accepted an unknown service key")


def test_kafka_runs_in_kraft_mode_single_node() -> None:
    kafka = load_compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "ZOOKEEPER" not in " ".join(kafka["environment"])


def test_workers_are_replicated() -> None:
    assert load_compose()["services"]["worker"]["deploy"]["replicas"] >= 2


def test_every_amur_service_command_exists() -> None:
    for name, service in load_compose()["services"].items():
        if service.get("image", "").startswith("amur") or "build" in service:
            assert resolve(service["command"]) is not None, f"service {name}: no `amur {service['command']}`"


def test_every_amur_service_command_accepts_its_arguments() -> None:
    for name, service in load_compose()["services"].items():
        if service.get("image", "").startswith("amur") or "build" in service:
            target, args = resolve(service["command"])
            load(target).make_context(f"amur {' '.join(service['command'])}", args)  # a usage error raises


def test_every_amur_variable_is_a_setting() -> None:
    fields = {f"AMUR_{name.upper()}" for name in Settings.model_fields}
    for name, service in load_compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("AMUR_"):
                assert variable in fields, f"service {name}: {variable} is not an Amur setting"


def test_only_the_tls_proxy_is_published_and_redis_needs_a_password() -> None:
    compose = load_compose()
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}, f"services reachable from outside the host: {published}"
    caddyfile = [v.split(":")[0] for v in services["proxy"]["volumes"] if "Caddyfile" in v][0]
    rules = (COMPOSE.parent / caddyfile).read_text()
    assert "{$PUBLIC_HOST}" in rules and "reverse_proxy gateway:8081" in rules and "reverse_proxy ingest:8070" in rules
    gateway = services["gateway"]["environment"]
    assert gateway["AMUR_PUBLIC_WS_URL"].startswith("wss://") and gateway["AMUR_WS_PORT"] == "8081"
    assert "--requirepass" in services["redis"]["command"]
    assert compose["x-amur-env"]["AMUR_REDIS_URL"].startswith("redis://:${AMUR_REDIS_PASSWORD")
    assert compose["x-amur-env"]["AMUR_PRODUCTION"] == "true"


def test_kafka_requires_sasl_and_every_amur_service_authenticates() -> None:
    compose = load_compose()
    kafka = compose["services"]["kafka"]["environment"]
    listeners = dict(pair.split(":") for pair in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    advertised = [url.split("://")[0] for url in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")]
    assert [listeners[name] for name in advertised] == ["SASL_PLAINTEXT"], "a client listener without SASL"
    assert kafka["KAFKA_SASL_ENABLED_MECHANISMS"] == "PLAIN" and kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    jaas = kafka["KAFKA_LISTENER_NAME_BROKER_PLAIN_SASL_JAAS_CONFIG"]
    assert 'user_amur="${AMUR_KAFKA_SASL_PASSWORD:?}"' in jaas  # the password comes from a variable, never the file
    assert "--command-config" in compose["services"]["kafka"]["healthcheck"]["test"][1]
    env = compose["x-amur-env"]
    settings = Settings(broker_url=env["AMUR_BROKER_URL"], kafka_sasl_mechanism=env["AMUR_KAFKA_SASL_MECHANISM"],
                        kafka_sasl_username=env["AMUR_KAFKA_SASL_USERNAME"], kafka_sasl_password="from-the-variable")
    assert settings.kafka_sasl_mechanism == "PLAIN" and env["AMUR_KAFKA_SASL_USERNAME"] == "amur"
    assert env["AMUR_KAFKA_SASL_PASSWORD"].startswith("${AMUR_KAFKA_SASL_PASSWORD:?")
    users = [name for name, service in compose["services"].items() if service.get("image") == "amur:latest"
             and service.get("command", [""])[0] in ("topics", "worker", "gateway", "ingest", "sim")]
    for name in users:  # every part that talks to Kafka carries the SASL variables
        environment = compose["services"][name]["environment"]
        assert environment.get("AMUR_KAFKA_SASL_MECHANISM") == "PLAIN", name
