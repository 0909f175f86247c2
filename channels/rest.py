"""REST, as Rasa's connector, except that the shopper always hears back.

Rasa drops a message without text before the NLU, so the shopper who sends one (an empty widget submit, a
whitespace-only paste) would hear nothing: it gets a polite answer on the message's own output channel and nothing
reaches the tracker. A turn that fails on our side gets an apology (`channels.guarded`).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint

from channels import guarded

EMPTY_REPLY = ("It looks like that message was empty. Tell me what you're looking for, e.g. \"running shoes under "
               "$100\", or ask about your cart or an order.")


class RestInput(RasaRestInput):
    """Served at /webhooks/rest/webhook like Rasa's own."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = guarded(on_new_message)

        async def handle(message: UserMessage) -> Any:
            if not (message.text or "").strip():
                await message.output_channel.send_text_message(message.sender_id, EMPTY_REPLY)
                return None
            return await on_new_message(message)

        return super().blueprint(handle)
