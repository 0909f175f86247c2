"""Harbor Lane's Slack and Telegram channels: Rasa's connectors, configured from the environment.

Rasa expands `${VAR}` in credentials.yml but refuses to start when a variable is unset, which would break
`make run` on a machine without chat secrets. So credentials.yml names these classes instead, and each reads its
secrets here: a channel whose secrets are missing is replaced by `DisabledChannel` and the server runs without it.
"""
from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)


def env(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank (an empty export should not count as configured)."""
    value = os.environ.get(name, "").strip()
    return value or None


def prefixed(channel: str, conversation: str) -> str:
    """Conversation ids carry their channel, so Slack user U1, Telegram chat 1 and REST sender "1" never share a
    tracker. The separator is one URL quoting leaves alone: Rasa's HTTP API does not unquote the id in
    /conversations/<id>/..., so "slack%3AU1" (from "slack:U1") would name another conversation."""
    return f"{channel}_{conversation}"


def unprefixed(channel: str, sender_id: str) -> str:
    """The platform's own id (Slack channel or user, Telegram chat) for a conversation id made by `prefixed`."""
    prefix = f"{channel}_"
    return sender_id[len(prefix):] if sender_id.startswith(prefix) else sender_id


class RecentIds:
    """The last `size` delivery ids seen, so a platform's redelivery of an event is answered only once."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, key: str) -> bool:
        """Whether `key` came before; remembers it either way."""
        if key in self._ids:
            return True
        self._ids[key] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return False


class DisabledChannel(InputChannel):
    """Stands in for a channel whose secrets are not set: its webhook answers 503 and says what is missing."""

    def __init__(self, channel: str, missing: list[str]) -> None:
        self.channel = channel
        self.missing = missing
        logger.warning("The %s channel is off: set %s to turn it on (see docs/channels.md).", channel,
                       ", ".join(missing))

    def url_prefix(self) -> str:
        return self.channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        disabled = Blueprint(f"{self.channel}_disabled", __name__)
        reason = {"status": "disabled", "missing": self.missing}

        @disabled.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json(reason)

        @disabled.route("/webhook", methods=["GET", "POST"])
        async def webhook(_: Request) -> HTTPResponse:
            return response.json(reason, status=HTTPStatus.SERVICE_UNAVAILABLE)

        return disabled
