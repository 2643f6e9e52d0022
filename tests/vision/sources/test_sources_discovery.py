"""WS-Discovery probes on a named subnet (loopback here), and subnets refused by name."""

from __future__ import annotations

import pytest

from tests.helpers.onvif_device import DiscoveryResponder
from vision.sources.discovery import discover, hosts_of, parse_matches
from vision.sources.errors import SourceError

pytestmark = pytest.mark.integration


async def test_a_device_on_the_subnet_answers_and_is_listed() -> None:
    responder = DiscoveryResponder("http://127.0.0.1:8899/onvif/device_service")
    await responder.start()
    try:
        found = await discover(hosts_of("127.0.0.1/32"), port=responder.port, wait_s=1.0)
    finally:
        responder.stop()
    assert [(d.address, d.xaddrs, d.scopes) for d in found] == [
        ("127.0.0.1", ("http://127.0.0.1:8899/onvif/device_service",), ("onvif://www.onvif.org/name/SimIPC",))]


def test_subnets_refused_by_name() -> None:
    assert hosts_of("10.1.2.0/30") == ["10.1.2.1", "10.1.2.2"]
    with pytest.raises(SourceError, match="'10.0.0.0/8'"):
        hosts_of("10.0.0.0/8")
    with pytest.raises(SourceError, match="'nonsense'"):
        hosts_of("nonsense")


def test_hostile_answers_give_nothing() -> None:
    assert parse_matches(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "1.2.3.4") == []
    assert parse_matches(b"<unclosed", "1.2.3.4") == []
