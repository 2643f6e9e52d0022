"""An ONVIF Profile S device: a small aiohttp SOAP responder written from the ONVIF Core and Media specs.

Answers, over SOAP 1.2 on ``/onvif/device_service`` and ``/onvif/media_service``:
``GetSystemDateAndTime`` (without credentials, as the spec allows), ``GetServices``,
``GetCapabilities``, ``GetProfiles``, ``GetSnapshotUri`` and ``GetStreamUri`` — each
after checking the WS-Security UsernameToken (PasswordDigest =
Base64(SHA-1(nonce + created + password)), ``Created`` within 5 minutes of the
device's own clock, which may be set ``clock_offset_s`` off). A wrong token is a
``ter:NotAuthorized`` fault, HTTP 400. ``GET /snapshot.jpg`` serves a JPEG.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
from aiohttp import web

ENV = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TT = "http://www.onvif.org/ver10/schema"
TEV = "http://www.onvif.org/ver10/events/wsdl"
HEAD = (f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="{ENV}" xmlns:tds="{TDS}" '
        f'xmlns:trt="{TRT}" xmlns:tt="{TT}" xmlns:ter="http://www.onvif.org/ver10/error" xmlns:tev="{TEV}" '
        'xmlns:wsa5="http://www.w3.org/2005/08/addressing" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
        'xmlns:tns1="http://www.onvif.org/ver10/topics"><env:Body>')
TAIL = "</env:Body></env:Envelope>"


@dataclass
class OnvifDevice:
    username: str
    password: str
    clock_offset_s: float = 0.0
    port: int = 0
    calls: list[str] = field(default_factory=list)
    events: list[tuple[str, bool]] = field(default_factory=list)
    """(topic, state) waiting for the next PullMessages, e.g. ("tns1:VideoSource/SignalLoss", True)."""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/onvif/device_service", self._soap)
        app.router.add_post("/onvif/media_service", self._soap)
        app.router.add_post("/onvif/events_service", self._soap)
        app.router.add_post("/onvif/pullpoint", self._soap)
        app.router.add_get("/snapshot.jpg", self._snapshot)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset_s)

    async def _soap(self, request: web.Request) -> web.Response:
        envelope = ET.fromstring(await request.read())
        body = envelope.find(f"{{{ENV}}}Body")
        operation = body[0].tag.rsplit("}", 1)[-1] if body is not None and len(body) else ""
        self.calls.append(operation)
        if operation != "GetSystemDateAndTime" and not self._authorised(envelope):
            return web.Response(status=400, content_type="application/soap+xml", text=(
                HEAD + "<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode>"
                "<env:Value>ter:NotAuthorized</env:Value></env:Subcode></env:Code><env:Reason>"
                '<env:Text xml:lang="en">Sender not Authorized</env:Text></env:Reason></env:Fault>' + TAIL))
        answer = getattr(self, f"_{operation}", None)
        if answer is None:
            return web.Response(status=400, content_type="application/soap+xml", text=(
                HEAD + "<env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode>"
                "<env:Value>ter:ActionNotSupported</env:Value></env:Subcode></env:Code><env:Reason>"
                f'<env:Text xml:lang="en">{operation} not supported</env:Text></env:Reason></env:Fault>' + TAIL))
        return web.Response(content_type="application/soap+xml", text=HEAD + answer() + TAIL)

    def _authorised(self, envelope: ET.Element) -> bool:
        token = envelope.find(f".//{{{WSSE}}}UsernameToken")
        if token is None:
            return False
        user = token.findtext(f"{{{WSSE}}}Username")
        password = token.findtext(f"{{{WSSE}}}Password") or ""
        nonce = token.findtext(f"{{{WSSE}}}Nonce") or ""
        created = token.findtext(f"{{{WSU}}}Created") or ""
        try:
            expected = base64.b64encode(hashlib.sha1(base64.b64decode(nonce) + created.encode()
                                                     + self.password.encode()).digest()).decode()
            when = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            return False
        return user == self.username and password == expected and abs((when - self.now()).total_seconds()) < 300

    def _GetSystemDateAndTime(self) -> str:
        t = self.now()
        return ("<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
                "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>"
                f"<tt:UTCDateTime><tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute>"
                f"<tt:Second>{t.second}</tt:Second></tt:Time><tt:Date><tt:Year>{t.year}</tt:Year>"
                f"<tt:Month>{t.month}</tt:Month><tt:Day>{t.day}</tt:Day></tt:Date></tt:UTCDateTime>"
                "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>")

    def _GetServices(self) -> str:
        def service(namespace: str, path: str) -> str:
            return (f"<tds:Service><tds:Namespace>{namespace}</tds:Namespace><tds:XAddr>{self.base}{path}</tds:XAddr>"
                    "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>")
        return ("<tds:GetServicesResponse>" + service(TDS, "/onvif/device_service")
                + service(TRT, "/onvif/media_service") + service(TEV, "/onvif/events_service")
                + "</tds:GetServicesResponse>")

    def _times(self) -> tuple[str, str]:
        now = self.now()
        return (now.strftime("%Y-%m-%dT%H:%M:%SZ"), (now + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def _CreatePullPointSubscription(self) -> str:
        current, until = self._times()
        return (f"<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa5:Address>{self.base}"
                f"/onvif/pullpoint</wsa5:Address></tev:SubscriptionReference><wsnt:CurrentTime>{current}"
                f"</wsnt:CurrentTime><wsnt:TerminationTime>{until}</wsnt:TerminationTime>"
                "</tev:CreatePullPointSubscriptionResponse>")

    def _PullMessages(self) -> str:
        current, until = self._times()
        messages = "".join(
            '<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">'
            f'{topic}</wsnt:Topic><wsnt:Message><tt:Message UtcTime="{current}" PropertyOperation="Changed">'
            '<tt:Source><tt:SimpleItem Name="Source" Value="vs1"/></tt:Source><tt:Data>'
            f'<tt:SimpleItem Name="State" Value="{"true" if state else "false"}"/></tt:Data></tt:Message></wsnt:Message>'
            "</wsnt:NotificationMessage>" for topic, state in self.events)
        self.events.clear()
        return (f"<tev:PullMessagesResponse><tev:CurrentTime>{current}</tev:CurrentTime><tev:TerminationTime>{until}"
                f"</tev:TerminationTime>{messages}</tev:PullMessagesResponse>")

    def _Renew(self) -> str:
        current, until = self._times()
        return (f"<wsnt:RenewResponse><wsnt:TerminationTime>{until}</wsnt:TerminationTime>"
                f"<wsnt:CurrentTime>{current}</wsnt:CurrentTime></wsnt:RenewResponse>")

    def _Unsubscribe(self) -> str:
        return "<wsnt:UnsubscribeResponse/>"

    def _GetCapabilities(self) -> str:
        return (f"<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>{self.base}/onvif/media_service"
                "</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true"
                "</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
                "</tds:Capabilities></tds:GetCapabilitiesResponse>")

    def _GetProfiles(self) -> str:
        return ('<trt:GetProfilesResponse><trt:Profiles token="main" fixed="true"><tt:Name>mainStream</tt:Name>'
                '</trt:Profiles><trt:Profiles token="sub" fixed="true"><tt:Name>subStream</tt:Name></trt:Profiles>'
                "</trt:GetProfilesResponse>")

    @staticmethod
    def _media_uri(uri: str) -> str:
        return (f"<trt:MediaUri><tt:Uri>{uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
                "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>")

    def _GetSnapshotUri(self) -> str:
        return f"<trt:GetSnapshotUriResponse>{self._media_uri(self.base + '/snapshot.jpg')}</trt:GetSnapshotUriResponse>"

    def _GetStreamUri(self) -> str:
        return ("<trt:GetStreamUriResponse>" + self._media_uri(f"rtsp://127.0.0.1:{self.port + 1}/main")
                + "</trt:GetStreamUriResponse>")

    async def _snapshot(self, request: web.Request) -> web.Response:
        image = np.full((360, 640, 3), (70, 110, 90), np.uint8)
        image = cv2.add(image, np.random.default_rng().integers(0, 20, image.shape, dtype=np.uint8))
        ok, jpeg = cv2.imencode(".jpg", image)
        return web.Response(body=jpeg.tobytes(), content_type="image/jpeg")


class DiscoveryResponder:
    """Answers a WS-Discovery Probe with a ProbeMatch naming the device's service (UDP, loopback)."""

    def __init__(self, xaddr: str, scopes: str = "onvif://www.onvif.org/name/SimIPC") -> None:
        self.xaddr, self.scopes = xaddr, scopes
        self.transport: object | None = None
        self.port = 0

    async def start(self) -> None:
        import asyncio
        import re

        responder = self

        class Protocol(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                found = re.search(rb"<[\w:]*MessageID>([^<]+)<", data)
                if b"Probe" not in data or found is None:
                    return
                self.transport.sendto(responder.match(found.group(1).decode()), addr)  # type: ignore[attr-defined]

        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(Protocol, local_addr=("127.0.0.1", 0))
        self.port = self.transport.get_extra_info("sockname")[1]  # type: ignore[attr-defined]

    def match(self, relates_to: str) -> bytes:
        wsa, wsd = "http://schemas.xmlsoap.org/ws/2004/08/addressing", "http://schemas.xmlsoap.org/ws/2005/04/discovery"
        return (f'<?xml version="1.0"?><e:Envelope xmlns:e="{ENV}" xmlns:w="{wsa}" xmlns:d="{wsd}"><e:Header>'
                f"<w:RelatesTo>{relates_to}</w:RelatesTo><w:Action>{wsd}/ProbeMatches</w:Action></e:Header><e:Body>"
                "<d:ProbeMatches><d:ProbeMatch><w:EndpointReference><w:Address>urn:uuid:5f5a69c2-0001</w:Address>"
                f"</w:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>{self.scopes}"
                f"</d:Scopes><d:XAddrs>{self.xaddr}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
                "</d:ProbeMatch></d:ProbeMatches></e:Body></e:Envelope>").encode()

    def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()  # type: ignore[attr-defined]
