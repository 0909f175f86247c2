"""Harbor Lane's channels (web, REST, terminal, Slack, Telegram): Rasa's connectors, and what they all share.

- `guarded` wraps every channel's message handler, so the shopper always hears back: a blank message gets a
  polite answer, a turn that fails on our side an apology, a message to a conversation handed to a person a note
  that the person will reply here, and "never mind" while waiting for one takes the request back.
- Rasa expands `${VAR}` in credentials.yml but refuses to start when a variable is unset, which would break
  `make run` on a machine without chat secrets. So credentials.yml names our classes instead, and Slack and
  Telegram read their secrets with `env`: a channel whose secrets are missing is replaced by `DisabledChannel` and
  the server runs without it.
- Conversation ids carry their channel (`prefixed`), and redelivered events are answered once (`RecentIds`).
"""
from __future__ import annotations

import logging
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ConversationResumed
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.store.handoff import TAKEN_BACK

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


EMPTY_REPLY = ("It looks like that message was empty. Tell me what you're looking for, e.g. \"running shoes under "
               "$100\", or ask about your cart or an order.")
SORRY = ("Sorry, something went wrong on our side and I couldn't finish that. Please try again in a moment; "
         "your cart and this conversation are safe.")

WAITING_REPLY = ("A person from our team will reply here. Say \"never mind\" if you'd rather carry on with me "
                 "instead.")
# A whole message that takes back a request for a person ("cancel my order" is not one: it asks for something).
_CANCEL_HANDOFF = re.compile(
    r"^\W*(?:never\s*mind|nvm|cancel(?: that| it| the request)?|forget it|no need|stop waiting|i'?ll wait later|"
    r"(?:i )?(?:don'?t|do not|no longer) need (?:a |an |the )?(?:human|person|agent|someone)(?: any ?more)?)"
    r"(?:,? thanks?(?: you)?)?\W*$", re.IGNORECASE)

Handler = Callable[[UserMessage], Awaitable[Any]]
# Rasa's own command that answers nothing by design: it starts a new session (what a widget sends on opening).
QUIET_COMMANDS = ("/session_start",)


class _Counted(OutputChannel):
    """Passes every bot message on to the real output channel and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    @classmethod
    def name(cls) -> str:
        return "counted"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent += 1
        await self.inner.send_text_message(recipient_id, text, **kwargs)


async def _paused(sender_id: str) -> bool:
    """Whether the conversation is handed to a person (Rasa then answers nothing, on purpose)."""
    try:
        agent = Sanic.get_app().ctx.agent
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:  # no app or store to ask: treat as not paused, an apology is the safe side
        logger.exception("Could not check whether conversation %s is paused", sender_id)
        return False
    return tracker is not None and tracker.is_paused()


def takes_back_handoff(text: str) -> bool:
    """Whether a message, said while waiting for a person, means the shopper no longer wants one."""
    return _CANCEL_HANDOFF.match(text.strip()) is not None


async def _resume(sender_id: str) -> None:
    """Resume a paused conversation, under its lock as Rasa's own HTTP API does it. The messages logged while it
    was paused had no turn of their own; an `action_listen` closes them, so the next message is read as a new
    turn (without it no rule matches and the bot only listens)."""
    agent = Sanic.get_app().ctx.agent
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is not None:
            tracker.update(ConversationResumed())
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)


def guarded(on_new_message: Handler) -> Handler:
    """Turns Rasa would leave silent get an answer here. A message without text (an empty widget submit, a
    whitespace-only paste) is dropped by Rasa before the NLU: it gets a polite answer and never reaches the
    tracker. A failed custom action (action server down, a database locked past its retries) is logged by Rasa,
    which carries on without a word to the shopper: that turn gets an apology, and the conversation goes on as
    soon as the failing part is back. A conversation handed to a person is paused, so Rasa logs each message for
    the agent and answers nothing: the shopper is told the person will reply here, and "never mind" resumes the
    bot and becomes Rasa's `/human_handoff` command with handoff.TAKEN_BACK in its metadata, which the handoff
    action reads as closing the ticket (only the action server touches the store)."""

    async def handle(message: UserMessage) -> Any:
        if not (message.text or "").strip():
            await message.output_channel.send_response(message.sender_id, {"text": EMPTY_REPLY})
            return None
        if takes_back_handoff(message.text) and await _paused(message.sender_id):
            await _resume(message.sender_id)
            message.text, message.metadata = "/human_handoff", {**(message.metadata or {}), TAKEN_BACK: True}
        counted = _Counted(message.output_channel)
        message.output_channel = counted
        try:
            result = await on_new_message(message)
        except Exception:
            logger.exception("Handling a message from %s failed", message.sender_id)
            result = None
        quiet = (message.text or "").strip().startswith(QUIET_COMMANDS)
        if counted.sent or quiet:
            return result
        if await _paused(message.sender_id):
            await counted.inner.send_text_message(message.sender_id, WAITING_REPLY)
            return result
        logger.warning("Nothing answered %r from %s: sending the apology", (message.text or "")[:80],
                       message.sender_id)
        await counted.inner.send_text_message(message.sender_id, SORRY)
        return result

    return handle


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
