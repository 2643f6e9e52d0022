"""SASL settings reach every Kafka client of the workers, the adapter and the gateway, the same for Faust's own
clients and ours. (No SASL-enabled broker runs here: the embedded Tansu has no user store; the compose file's
Kafka is checked statically in tests/test_compose.py.)"""

from __future__ import annotations

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from stream.runtime.app import build_app
from stream.runtime.kafkaauth import client_options, faust_credentials
from stream.settings import load_settings

SASL = {"kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "amur", "kafka_sasl_password": "s3cret"}


def test_without_a_mechanism_clients_connect_without_authentication() -> None:
    settings = load_settings(broker_url="kafka://127.0.0.1:9")
    assert client_options(settings) == {} and faust_credentials(settings) is None


def test_faust_and_our_clients_get_the_same_sasl_options() -> None:
    settings = load_settings(broker_url="kafka://kafka:9092", **SASL)
    ours = client_options(settings)
    assert ours == {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                    "sasl_plain_username": "amur", "sasl_plain_password": "s3cret"}
    rt = build_app(settings, agent_modules=[])
    faust_side = dict(credentials_to_aiokafka_auth(rt.app.conf.broker_credentials))
    assert {k: v for k, v in faust_side.items() if k != "ssl_context"} == ours
    assert rt.app.amur_kafka_options == ours  # read by the transport's end-offset probe and the projection


@pytest.mark.parametrize("missing", ["kafka_sasl_username", "kafka_sasl_password"])
def test_a_mechanism_without_a_user_or_password_is_refused_naming_both(missing: str) -> None:
    with pytest.raises(ValidationError, match="AMUR_KAFKA_SASL_USERNAME or AMUR_KAFKA_SASL_PASSWORD"):
        load_settings(**{**SASL, missing: ""})


def test_an_unknown_mechanism_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_sasl_mechanism"):
        load_settings(**{**SASL, "kafka_sasl_mechanism": "GSSAPI"})
