"""The websocket protocol, sans I/O: client messages in, server messages out.

Client -> server (JSON text frames):

- ``{"type": "hello", "token": "...", "resume": {"incidents": 41, ...} | null}``
  must be the first message; ``resume`` holds the last sequence number seen per
  channel (from the last ``snapshot``/``update``/``position`` message);
- ``{"type": "command", "command_id", "incident_id", "action", "assignee"?, "comment"?}``.

Server -> client: ``welcome``, ``snapshot``, ``update``, ``position``, ``kpi``,
``coalesced``, ``command_result`` and ``error`` (see docs/command-view.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import msgspec
import orjson

from command_ui.commands import CommandRequest
from command_ui.errors import ProtocolError
from stream import schemas
from stream.screens.projection import Channel


class Hello(msgspec.Struct, frozen=True, kw_only=True, tag="hello", tag_field="type", forbid_unknown_fields=True):
    token: str
    resume: dict[Channel, int] | None = None


class CommandMessage(CommandRequest, tag="command", tag_field="type", kw_only=True, frozen=True):
    pass


ClientMessage = Union[Hello, CommandMessage]
_client_decoder = msgspec.json.Decoder(ClientMessage)


def parse_client_message(raw: str | bytes) -> Hello | CommandMessage:
    """Decode one client frame; :class:`ProtocolError` names the problem."""
    try:
        return _client_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid message: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(f"not valid JSON: {exc}") from None


# --------------------------------------------------------------------------- resume


@dataclass(frozen=True, slots=True)
class Backfill:
    """Send the updates ``after`` < seq <= ``upto`` of ``channel`` from the update stream."""

    channel: Channel
    after: int
    upto: int


@dataclass(frozen=True, slots=True)
class ResumePlan:
    """Either a fresh snapshot, or the exact ranges the client missed."""

    snapshot: bool
    backfills: tuple[Backfill, ...] = ()


def plan_resume(requested: dict[Channel, int] | None, head: dict[Channel, int],
                oldest: dict[Channel, int | None], max_updates: int | None = None) -> ResumePlan:
    """What a (re)connecting client needs to catch up with ``head``.

    ``head`` is the gateway's current sequence per channel; ``oldest`` the first
    sequence still held in each update stream (None when the stream is empty).
    The client gets exactly seq in (last, head] per channel, or a snapshot when
    anything it missed has been trimmed, when it claims a future sequence (the
    projection was reset), when it does not say where it was, or when it missed
    more than ``max_updates`` (a snapshot is then smaller than the backlog).
    """
    if requested is None or set(requested) != set(Channel):
        return ResumePlan(snapshot=True)
    backfills = []
    for channel in Channel:
        last, now = requested[channel], head.get(channel, 0)
        if last > now or last < 0:
            return ResumePlan(snapshot=True)
        if last == now:
            continue
        first = oldest.get(channel)
        if first is None or first > last + 1:
            return ResumePlan(snapshot=True)
        backfills.append(Backfill(channel, last, now))
    if max_updates is not None and sum(b.upto - b.after for b in backfills) > max_updates:
        return ResumePlan(snapshot=True)
    return ResumePlan(snapshot=False, backfills=tuple(backfills))


# --------------------------------------------------------------------------- server messages


def encode_message(kind: str, **fields: object) -> bytes:
    """A server message; raw JSON values may be passed as :class:`orjson.Fragment`."""
    return orjson.dumps({"type": kind, **fields})


def update_message(channel: Channel, seq: int, key: str, data: bytes | None) -> bytes:
    return encode_message("update", ch=channel.value, seq=seq, key=key,
                          data=orjson.Fragment(data) if data else None)


def error_message(code: str, reason: str) -> bytes:
    return encode_message("error", code=code, reason=reason)


def command_result(command_id: str, ok: bool, code: str = "accepted", reason: str = "") -> bytes:
    return encode_message("command_result", command_id=command_id, ok=ok, code=code, reason=reason)


def position_message(head: dict[Channel, int]) -> bytes:
    """Where the client is now, even if scope filtering hid the last updates."""
    return encode_message("position", seq={c.value: n for c, n in head.items()})


def incident_of(data: bytes | None) -> schemas.IncidentChanged | None:
    return None if not data else schemas.decode(schemas.IncidentChanged, data)
