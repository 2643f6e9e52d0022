"""WS-Discovery of ONVIF devices on a subnet an operator names: a command, never automatic.

A ``Probe`` for ``dn:NetworkVideoTransmitter`` is sent by UDP to port 3702 of
every address of the subnet (unicast: multicast does not cross routers, and a
command-centre network is routed), and the ``ProbeMatches`` that come back within
the wait are listed: endpoint, XAddrs (the device service URLs) and scopes
(name, location, hardware). Nothing is added to the inventory: the operator
adds a device with its credentials.
"""

from __future__ import annotations

import asyncio
import ipaddress
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from vision.sources.errors import SourceError

PORT = 3702
MAX_HOSTS = 1024
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"


@dataclass(frozen=True, slots=True)
class Discovered:
    address: str
    endpoint: str
    xaddrs: tuple[str, ...]
    scopes: tuple[str, ...]


def hosts_of(subnet: str, limit: int = MAX_HOSTS) -> list[str]:
    """The host addresses of a subnet (``192.168.1.0/24``); refused when malformed or larger than ``limit``."""
    try:
        network = ipaddress.ip_network(subnet, strict=False)
    except ValueError as exc:
        raise SourceError(f"subnet: not an address/prefix, got {subnet!r}") from exc
    if network.num_addresses > limit + 2:
        raise SourceError(f"subnet: {subnet!r} has {network.num_addresses} addresses, more than {limit}")
    hosts = list(network.hosts()) or [network.network_address]
    return [str(h) for h in hosts]


def probe_message(message_id: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
            f'xmlns:w="{WSA}" xmlns:d="{WSD}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><e:Header>'
            f"<w:MessageID>uuid:{message_id}</w:MessageID><w:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>"
            f"<w:Action>{WSD}/Probe</w:Action></e:Header><e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter"
            "</d:Types></d:Probe></e:Body></e:Envelope>").encode()


def parse_matches(data: bytes, address: str) -> list[Discovered]:
    """The ProbeMatch entries of one answer; an answer that is not one gives none."""
    if b"<!DOCTYPE" in data.upper() or len(data) > 64 * 1024:
        return []
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return []
    found = []
    for match in root.iter(f"{{{WSD}}}ProbeMatch"):
        endpoint = match.findtext(f"{{{WSA}}}EndpointReference/{{{WSA}}}Address", "").strip()
        xaddrs = tuple((match.findtext(f"{{{WSD}}}XAddrs") or "").split())
        scopes = tuple((match.findtext(f"{{{WSD}}}Scopes") or "").split())
        found.append(Discovered(address, endpoint, xaddrs, scopes))
    return found


async def discover(hosts: list[str], *, port: int = PORT, wait_s: float = 3.0) -> list[Discovered]:
    """Probe every host and collect what answers within ``wait_s``."""
    message_id = str(uuid.uuid4())
    answers: list[Discovered] = []
    loop = asyncio.get_running_loop()

    class Listener(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if message_id.encode() in data:  # RelatesTo our probe
                answers.extend(parse_matches(data, addr[0]))

    transport, _ = await loop.create_datagram_endpoint(Listener, local_addr=("0.0.0.0", 0))
    try:
        for host in hosts:
            transport.sendto(probe_message(message_id), (host, port))
        await asyncio.sleep(wait_s)
    finally:
        transport.close()
    return sorted(set(answers), key=lambda d: (d.address, d.endpoint))
