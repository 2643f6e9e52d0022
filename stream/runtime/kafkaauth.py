"""SASL for the Kafka clients of the workers, the ingest adapter, the gateway and `amur topics`.

``AMUR_KAFKA_SASL_MECHANISM`` (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512) with a user and a password
turns it on, over SASL_PLAINTEXT: the production compose file keeps the broker on its own network
(docs/deploying.md). Unset, the clients connect without authentication, as to the embedded broker.
"""

from __future__ import annotations

from typing import Any

from faust.auth import SASLCredentials

from stream.settings import Settings

PROTOCOL = "SASL_PLAINTEXT"


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for every aiokafka client (producer, consumer, admin); empty without SASL."""
    if not settings.kafka_sasl_mechanism:
        return {}
    return {"security_protocol": PROTOCOL, "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value()}


def faust_credentials(settings: Settings) -> SASLCredentials | None:
    """The same, as Faust's ``broker_credentials`` (its aiokafka driver passes them on to every client)."""
    if not settings.kafka_sasl_mechanism:
        return None
    return SASLCredentials(username=settings.kafka_sasl_username,
                           password=settings.kafka_sasl_password.get_secret_value(),
                           mechanism=settings.kafka_sasl_mechanism)
