"""components.action_replies: Rasa's check of action server replies, with the schema built once, accepts and
rejects exactly what Rasa's own check does."""
from __future__ import annotations

import pytest

pytest.importorskip("rasa")

import jsonschema  # noqa: E402
from jsonschema import ValidationError  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

from components import action_replies  # noqa: E402

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "cart", "value": [{"sku": "A-1", "quantity": 2}]}],
     "responses": [{"text": "Added.", "buttons": [{"title": "View cart", "payload": "/view_cart"}],
                    "custom": {"type": "cart", "lines": []}}]},
    {"events": [{"event": "action", "name": "variant_form"}, {"event": "active_loop", "name": None}]},
]
INVALID = [
    {"events": [{"name": "no event type"}]},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": "not a list"},
    {"responses": [{"text": "hi"}], "events": [{"event": "not_an_event"}]},
]


@pytest.fixture
def action() -> RemoteAction:
    action_replies.install()
    return RemoteAction("action_add_to_cart", EndpointConfig("http://localhost:1/webhook"))


def test_installed_on_rasa_remote_actions():
    import components  # noqa: F401  (importing the package installs it, as Rasa's model loading does)

    assert RemoteAction._validate_action_result is action_replies._validate_action_result


@pytest.mark.parametrize("reply", VALID)
def test_accepts_what_rasa_accepts(action: RemoteAction, reply: dict):
    jsonschema.validate(reply, RemoteAction.action_response_format_spec())  # Rasa's check: must not raise
    assert action._validate_action_result(reply) is True


@pytest.mark.parametrize("reply", INVALID)
def test_rejects_what_rasa_rejects_with_rasas_message(action: RemoteAction, reply: dict):
    with pytest.raises(ValidationError):
        jsonschema.validate(reply, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(reply)
