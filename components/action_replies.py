"""Rasa checks each action server reply with one JSON schema, built once instead of on every reply.

Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate(result, spec)`, which first checks
the schema itself against the JSON Schema meta-schema and builds a new validator: about 20 ms of CPU on the Rasa
server's single event loop for every custom action (add to cart runs three), where checking the reply alone
takes 3 ms. Under load that time is queueing for every other shopper (docs/benchmarks.md, Load).

`install()` replaces the method with one that asks a validator built once whether the reply is valid; an
invalid reply goes on to Rasa's own method, so it fails exactly as before, with Rasa's message.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

_rasa_validate = RemoteAction._validate_action_result


@cache
def reply_validator() -> Validator:
    """The validator for Rasa's action reply schema; the schema is checked once, here."""
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if reply_validator().is_valid(result):
        return True
    return _rasa_validate(self, result)  # raises Rasa's ValidationError, message included


def install() -> None:
    """Use the cached validator in this process (idempotent)."""
    RemoteAction._validate_action_result = _validate_action_result
