"""Operator commands signed by the gateway, checked where the stream applies them.

The gateway checks the operator's token and puts the role and scope it carries in
the :class:`~stream.schemas.OperatorCommand`; the incident agent re-checks role and
scope (:func:`stream.incidents.actions.refusal_reason`). Those fields are only worth
checking if nobody else could have written them: the gateway signs each command
with HMAC-SHA256 under ``AMUR_JWT_SECRET`` (the key of the tokens themselves), and
the stream dead-letters a command whose signature is missing or wrong, so a
command put on the topic by anyone without the key is never applied.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

from stream.errors import InvalidEvent
from stream.schemas import OperatorCommand, encode


def _digest(command: OperatorCommand, key: str) -> str:
    unsigned = msgspec.structs.replace(command, signature=None)
    return hmac.new(key.encode(), encode(unsigned), hashlib.sha256).hexdigest()


def sign_command(command: OperatorCommand, key: str) -> OperatorCommand:
    """``command`` with its signature under ``key``."""
    return msgspec.structs.replace(command, signature=_digest(command, key))


def check_signature(command: OperatorCommand, key: str) -> OperatorCommand:
    """``command`` if signed under ``key``; else :class:`InvalidEvent` naming the field."""
    if not command.signature:
        raise InvalidEvent(f"command {command.command_id} is not signed by a gateway", field="signature", value=None)
    if not hmac.compare_digest(command.signature, _digest(command, key)):
        raise InvalidEvent(f"command {command.command_id} has a signature that does not match its fields "
                           "(forged or altered)", field="signature", value=command.signature[:16])
    return command
