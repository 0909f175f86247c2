"""Slack through the Events API: Rasa's connector, with secrets from the environment and fixes for real use.

What it changes: the token and signing secret come from HARBOR_SLACK_BOT_TOKEN and HARBOR_SLACK_SIGNING_SECRET;
HARBOR_SLACK_API_URL points the Web API client elsewhere (the tests' fake Slack); an event Slack redelivers is
answered once; conversation ids start with "slack_"; `as_user` is not sent (Slack apps with granular scopes get
`invalid_arguments` for it); the web widget's custom payloads are not posted (the text already says the same);
and up to 25 buttons are drawn (Rasa still applies Slack's old limit of 5).
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot as RasaSlackBot
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import Blueprint, response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from channels import DisabledChannel, RecentIds, env, guarded, prefixed, unprefixed

logger = logging.getLogger(__name__)

TOKEN_VAR = "HARBOR_SLACK_BOT_TOKEN"
SECRET_VAR = "HARBOR_SLACK_SIGNING_SECRET"
API_URL_VAR = "HARBOR_SLACK_API_URL"
MAX_BUTTONS = 25  # elements in one Block Kit "actions" block


class SlackBot(RasaSlackBot):
    """Posts the bot's messages with chat.postMessage."""

    def __init__(self, token: str, slack_channel: str | None = None, thread_id: str | None = None,
                 proxy: str | None = None, api_url: str | None = None) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        if api_url:
            self.client = AsyncWebClient(token, base_url=api_url.rstrip("/") + "/", proxy=proxy)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await super().send_response(unprefixed("slack", recipient_id), message)

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        kwargs.pop("as_user", None)
        await super()._post_message(channel, **kwargs)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        elements = [{"type": "button", "text": {"type": "plain_text", "text": button["title"]},
                     "value": button["payload"]} for button in buttons]
        blocks = [{"type": "section", "text": {"type": "plain_text", "text": text}}]
        blocks += [{"type": "actions", "elements": elements[start:start + MAX_BUTTONS]}
                   for start in range(0, len(elements), MAX_BUTTONS)]
        await self._post_message(channel=self.slack_channel or recipient_id, text=text, blocks=blocks)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Only Slack messages (text, blocks or attachments) are posted; the product, cart and comparison payloads
        are for the web widget, and Slack would reject them."""
        if not any(key in json_message for key in ("text", "blocks", "attachments")):
            logger.debug("Not posting a %r payload to Slack", json_message.get("type"))
            return
        await super().send_custom_json(recipient_id, json_message, **kwargs)


class SlackInput(RasaSlackInput):
    """Receives Events API callbacks and button clicks at /webhooks/slack/webhook."""

    def __init__(self, *args: Any, api_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_url = api_url
        self._events = RecentIds()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Options from credentials.yml (e.g. `use_threads`, `conversation_granularity`), secrets from the
        environment."""
        options = dict(credentials or {})
        token, secret = env(TOKEN_VAR), env(SECRET_VAR)
        missing = [name for name, value in ((TOKEN_VAR, token), (SECRET_VAR, secret)) if not value]
        if missing:
            return DisabledChannel(cls.name(), missing)
        return cls(token, options.get("slack_channel"), options.get("proxy"),
                   options.get("slack_retry_reason_header", "x-slack-retry-reason"),
                   options.get("slack_retry_number_header", "x-slack-retry-num"),
                   options.get("errors_ignore_retry"), options.get("use_threads", False), secret,
                   options.get("conversation_granularity", "sender"), api_url=env(API_URL_VAR))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(guarded(on_new_message))

    async def process_message(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                              text: str, sender_id: str | None, metadata: dict | None) -> Any:
        """Slack redelivers an event (with X-Slack-Retry-Num) when our answer was late or lost, although the
        first delivery may already be answered: each event_id is handled once."""
        event_id = request.json.get("event_id") if request.headers.get("content-type") == "application/json" else None
        if event_id and self._events.seen(event_id):
            logger.info("Slack redelivered event %s (retry %s); already handled", event_id,
                        request.headers.get(self.retry_num_header))
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    def _get_conversation_id(self, sender_id: str | None, channel_id: str | None,
                             thread_id: str | None) -> str | None:
        conversation = super()._get_conversation_id(sender_id, channel_id, thread_id)
        return prefixed("slack", conversation) if conversation else None

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> OutputChannel:
        return SlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_url)
