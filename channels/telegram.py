"""Telegram through a webhook: Rasa's connector, with secrets from the environment and fixes for real use.

What it changes: the token comes from HARBOR_TELEGRAM_BOT_TOKEN; HARBOR_TELEGRAM_API_URL points the Bot API client
elsewhere (the tests' fake Telegram); the webhook is registered once at startup (Rasa's connector registers it
again for every output channel it makes, which fails inside the running server) with a secret token that every
update must carry, instead of asking Telegram for the bot's name on every update; a redelivered update is answered
once; conversation ids start with "telegram_"; stickers, photos and other non-text messages get a short answer and
edits a note, instead of silence or a second run of the edited message; and a failing turn is logged, not
answered with a 500 that makes Telegram redeliver it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from aiogram.types import Update
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput as RasaTelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import DisabledChannel, RecentIds, env, guarded, prefixed, unprefixed

logger = logging.getLogger(__name__)

TOKEN_VAR = "HARBOR_TELEGRAM_BOT_TOKEN"
WEBHOOK_URL_VAR = "HARBOR_TELEGRAM_WEBHOOK_URL"
SECRET_VAR = "HARBOR_TELEGRAM_WEBHOOK_SECRET"
API_URL_VAR = "HARBOR_TELEGRAM_API_URL"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATE_TYPES = ["message", "edited_message", "callback_query"]

NOT_TEXT = ("I can only read text for now. Tell me what you're looking for, e.g. \"waterproof hiking boots "
            "under $150\", or ask about your cart or an order.")
EDITED = "I only see new messages, not edits. Please send your change as a new message."


class TelegramOutput(RasaTelegramOutput):
    """Sends the bot's messages with the Bot API; buttons become an inline keyboard."""

    def __init__(self, access_token: str, api_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else TELEGRAM_PRODUCTION
        super(RasaTelegramOutput, self).__init__(access_token, server=server)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        await super().send_response(unprefixed("telegram", recipient_id), message)


class TelegramInput(RasaTelegramInput):
    """Receives updates at /webhooks/telegram/webhook."""

    def __init__(self, access_token: str, webhook_url: str | None, secret: str, api_url: str | None = None) -> None:
        super().__init__(access_token, verify=None, webhook_url=webhook_url, debug_mode=False)
        self.secret = secret
        self.api_url = api_url
        self._output: TelegramOutput | None = None
        self._updates = RecentIds()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Everything comes from the environment. Without HARBOR_TELEGRAM_WEBHOOK_SECRET the secret is derived from
        the token, so the check is on even when nobody chose one."""
        token = env(TOKEN_VAR)
        if not token:
            return DisabledChannel(cls.name(), [TOKEN_VAR])
        secret = env(SECRET_VAR) or hashlib.sha256(f"harbor-telegram-webhook:{token}".encode()).hexdigest()
        return cls(token, env(WEBHOOK_URL_VAR), secret, env(API_URL_VAR))

    def get_output_channel(self) -> TelegramOutput:
        """One client (and HTTP session) for the server's lifetime, made on first use inside its event loop."""
        if self._output is None:
            self._output = TelegramOutput(self.access_token, self.api_url)
        return self._output

    async def register_webhook(self) -> None:
        """Tells Telegram where to post updates and which secret to send along. A failure is logged, not fatal:
        the other channels keep working and /webhooks/telegram/set_webhook can retry."""
        if not self.webhook_url:
            logger.info("%s is not set: register the Telegram webhook yourself (see docs/channels.md).",
                        WEBHOOK_URL_VAR)
            return
        try:
            await self.get_output_channel().request("setWebhook", {
                "url": self.webhook_url, "secret_token": self.secret, "allowed_updates": json.dumps(UPDATE_TYPES)})
        except Exception as error:  # noqa: BLE001 - network and API errors alike leave the server running
            logger.error("Could not register the Telegram webhook at %s: %s", self.webhook_url, error)
        else:
            logger.info("Telegram webhook registered at %s", self.webhook_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = guarded(on_new_message)
        telegram = Blueprint("telegram_webhook", __name__)

        @telegram.listener("before_server_start")
        async def register(*_: Any) -> None:
            await self.register_webhook()

        @telegram.listener("after_server_stop")
        async def close(*_: Any) -> None:
            if self._output is not None:
                await self._output.session.close()

        @telegram.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram.route("/set_webhook", methods=["POST"])
        async def set_webhook(_: Request) -> HTTPResponse:
            await self.register_webhook()
            return response.json({"status": "ok"})

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), self.secret):
                return response.text("wrong or missing secret token", status=HTTPStatus.FORBIDDEN)
            body = request.json
            if not isinstance(body, dict) or "update_id" not in body:
                return response.text("not a Telegram update", status=HTTPStatus.BAD_REQUEST)
            if not self._updates.seen(str(body["update_id"])):
                await self._handle(Update(**body), on_new_message)
            return response.text("ok")

        return telegram

    async def _handle(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Text and button presses go to Rasa; other messages get a fixed answer here; other updates are dropped."""
        output = self.get_output_channel()
        try:
            if update.callback_query and update.callback_query.message:
                await output.answer_callback_query(update.callback_query.id)
                chat, text = update.callback_query.message.chat.id, update.callback_query.data
            elif update.message and update.message.text:
                chat, text = update.message.chat.id, update.message.text
                # Every chat opens with /start (or /start@<bot>); the domain has no such intent, so greet.
                if text.partition(" ")[0].partition("@")[0] == "/start":
                    text = "hi"
            elif update.message:
                await output.send_message(update.message.chat.id, NOT_TEXT)
                return
            elif update.edited_message:
                await output.send_message(update.edited_message.chat.id, EDITED)
                return
            else:
                return
            await on_new_message(UserMessage(text, output, prefixed("telegram", str(chat)),
                                             input_channel=self.name()))
        except Exception:  # noqa: BLE001 - answering 500 would make Telegram redeliver the update again and again
            logger.exception("Could not handle Telegram update %s", update.update_id)
