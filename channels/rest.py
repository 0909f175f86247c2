"""REST, as Rasa's connector, through `channels.guarded`: the shopper always hears back (a polite answer to an
empty or blank message, an apology for a turn that fails on our side).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint

from channels import guarded


class RestInput(RasaRestInput):
    """Served at /webhooks/rest/webhook like Rasa's own."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(guarded(on_new_message))
