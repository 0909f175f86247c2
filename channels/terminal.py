"""`rasa shell` with readable answers: products as numbered text, buttons as numbered options.

Rasa's own shell prints a custom payload as raw JSON and turns buttons into an arrow-key menu that swallows the
shopper's typed answer. `make shell` runs `python -m channels.terminal shell ...`, which is `rasa shell` with
`TerminalInput` as its "cmdline" channel: every bot message reaches the terminal as plain text, buttons become a
numbered list, and a reply that is just one of those numbers is sent as that button's payload.
"""
from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint

from channels.rest import RestInput

CHOOSE_HINT = "(Type a number to choose, or write your own answer.)"
PRODUCT_HINT = 'You can say e.g. "details of 1", "add 2 to my cart" or "similar to 3".'
SHORT_TITLE = 12
# Payloads whose products are numbered the way the shopper refers to them ("the second one").
_NUMBERED_PRODUCTS = {"product_list", "recommendations"}


def as_text(message: dict[str, Any]) -> tuple[str, list[str]]:
    """The message as the terminal shows it, and the payloads its numbered options stand for."""
    parts = [message["text"]] if message.get("text") else []
    custom = message.get("custom")
    if isinstance(custom, dict) and custom.get("products"):
        if not parts:  # every payload our actions send comes with text; this covers one that does not
            parts += [f"{i}. {p.get('title', '?')}" for i, p in enumerate(custom["products"], 1)]
        if custom.get("type") in _NUMBERED_PRODUCTS:
            parts.append(PRODUCT_HINT)
    if message.get("image"):
        parts.append(f"Image: {message['image']}")
    buttons = [b for b in message.get("buttons") or message.get("quick_replies") or [] if b.get("title")]
    if buttons:
        numbered = [f"{i}. {b['title']}" for i, b in enumerate(buttons, 1)]
        short = all(len(b["title"]) <= SHORT_TITLE for b in buttons)  # sizes, yes/no: one line, not fifteen
        parts += ["   ".join(numbered)] if short else [f"  {line}" for line in numbered]
        parts.append(CHOOSE_HINT)
    return "\n".join(parts), [b.get("payload") or b["title"] for b in buttons]


class Options:
    """The numbered options each conversation was last shown. In memory: the shell is one local process."""

    def __init__(self) -> None:
        self._payloads: dict[str, list[str]] = {}

    def offer(self, sender_id: str, payloads: list[str]) -> None:
        self._payloads[sender_id] = payloads

    def resolve(self, sender_id: str, text: str) -> str:
        """The chosen option's payload when `text` is one of the offered numbers, else `text` itself. Either way
        the offer is used up: a number typed later means whatever it means in the conversation by then."""
        payloads = self._payloads.pop(sender_id, [])
        choice = text.strip().rstrip(".)")
        if choice.isdigit() and 1 <= int(choice) <= len(payloads):
            return payloads[int(choice) - 1]
        return text


class _PlainText(OutputChannel):
    """Hands every bot message to the shell's channel as text, remembering the options it offered."""

    def __init__(self, inner: OutputChannel, options: Options) -> None:
        self.inner = inner
        self.options = options

    @classmethod
    def name(cls) -> str:
        return "terminal"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        text, payloads = as_text(message)
        if payloads:
            self.options.offer(recipient_id, payloads)
        if text:
            await self.inner.send_text_message(recipient_id, text)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.inner.send_text_message(recipient_id, text)


class TerminalInput(RestInput):
    """The channel `rasa shell` talks to (at /webhooks/rest/webhook, named "cmdline" as Rasa's own)."""

    def __init__(self) -> None:
        self.options = Options()

    @classmethod
    def name(cls) -> str:
        return "cmdline"

    def url_prefix(self) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def handle(message: UserMessage) -> Any:
            message.text = self.options.resolve(message.sender_id, message.text or "")
            message.output_channel = _PlainText(message.output_channel, self.options)
            return await on_new_message(message)

        return super().blueprint(handle)


def main() -> None:
    """Run Rasa's command line (`shell` and its options) with TerminalInput in place of Rasa's "cmdline"."""
    from rasa.__main__ import main as rasa_main
    from rasa.core.channels import BUILTIN_CHANNELS

    BUILTIN_CHANNELS["cmdline"] = TerminalInput
    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
