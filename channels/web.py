"""The web chat: Rasa's socket.io channel, fixed for Rasa 3.6 on python-socketio 5, plus the page that hosts
botfront's rasa-webchat widget, all served from the Rasa server's own port.

What it changes from Rasa's `SocketIOInput`:
- socket.io runs over HTTP long-polling only (Sanic 21.12's websockets fail on Python 3.11);
- `session_request` awaits `enter_room` (a coroutine in python-socketio 5.x; Rasa 3.6 calls it without `await`, so
  with `session_persistence` the socket never joins its session's room and no reply reaches the browser);
- a socket speaks only in the session it was confirmed: messages name no other session, malformed events are
  dropped, session ids are short and URL-safe, and conversation ids start with "web_";
- an empty message gets the same polite answer as over REST, and a failed turn the apology (`channels.guarded`);
- the actions' `custom` payloads (Rasa would emit them as keyword arguments, a TypeError) become what the widget
  draws: product cards as a carousel (the Messenger "generic template"), with the payload kept beside it for other
  socket.io clients; bot text is escaped for the widget's Markdown so product data shows as written.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from assistant.dialogue.render import money
from channels import guarded, prefixed, unprefixed

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
# Every file the page may load, by the name it is served under; nothing else under web/ is reachable.
ASSETS = {
    "chat.js": (WEB_DIR / "chat.js", "text/javascript"),
    "chat.css": (WEB_DIR / "chat.css", "text/css"),
    "placeholder.svg": (WEB_DIR / "placeholder.svg", "image/svg+xml"),
    "webchat.js": (WEB_DIR / "node_modules" / "rasa-webchat" / "lib" / "index.js", "text/javascript"),
}
# The widget injects its styles at run time; scripts come only from this origin, so a `javascript:` link that slips
# into a message cannot run either.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' https: data:; font-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PLACEHOLDER = "placeholder.svg"
# Long-polling only: Sanic 21.12 (Rasa 3.6's pin) fails every websocket read on Python 3.11 ("Passing coroutines is
# forbidden"), so no upgrade is offered and clients stay on HTTP polling.
TRANSPORTS = ["polling"]
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Hosts that never resolve (RFC 2606/6761): the demo catalog's image URLs point there, so they get the placeholder.
RESERVED_TLDS = (".example", ".invalid", ".test", ".localhost")
# Payloads whose text lists the same products as the cards: the web shows the heading and the cards only.
LISTED = {"product_list", "recommendations"}
MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!>~|])")


def literal_markdown(text: str) -> str:
    """Text the widget's Markdown renderer shows exactly as written, line breaks included (a product called
    "[Sale](javascript:...)" must not become a link)."""
    return "  \n".join(MARKDOWN.sub(r"\\\1", line) for line in text.split("\n"))


def image_for(url: str | None, placeholder: str) -> str:
    """The product's image when it is an http(s) URL that can resolve, else the local placeholder."""
    if not url:
        return placeholder
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or host.endswith(RESERVED_TLDS):
        return placeholder
    return url


def card_subtitle(card: dict[str, Any]) -> str:
    """Brand, price (with the old price on sale) and rating in one line under the title."""
    price = money(card["final_price"])
    if card.get("sale_price") is not None and card["price"] != card["final_price"]:
        price += f" (was {money(card['price'])})"
    rating = f"★{card['rating']:.1f} ({card.get('review_count', 0)})" if card.get("rating") else "no reviews yet"
    parts = [card.get("brand") or "", price, rating, card.get("reason") or ""]
    return " · ".join(part for part in parts if part)


def carousel(cards: list[dict[str, Any]], placeholder: str) -> dict[str, Any]:
    """Product cards as the generic template rasa-webchat draws: image, title, subtitle, postback buttons."""
    elements = [{
        "title": card["title"],
        "subtitle": card_subtitle(card),
        "image_url": image_for(card.get("image_url"), placeholder),
        "buttons": [{"type": "postback", "title": b["title"], "payload": b["payload"]} for b in card["buttons"]],
    } for card in cards]
    return {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}}


class WebOutput(SocketIOOutput):
    """Sends to the session's room; the conversation id is "web_" + the session id."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str, placeholder: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.placeholder = placeholder

    @classmethod
    def name(cls) -> str:
        return WebInput.name()

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await super()._send_message(unprefixed("web", socket_id), response)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        custom = message.get("custom")
        text = message.get("text")
        if text:
            if isinstance(custom, dict) and custom.get("type") in LISTED and custom.get("products"):
                text = text.split("\n", 1)[0]
            message = {**message, "text": literal_markdown(text)}
        await super().send_response(recipient_id, message)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Cards for payloads with products (the payload rides along as `custom`); other payloads (the cart, an
        order) go as `custom` alone, which the widget skips: their text already says it."""
        cards = json_message.get("products")
        if isinstance(cards, list) and cards:
            await self._send_message(recipient_id, {**carousel(cards, self.placeholder), "custom": json_message})
        else:
            await self._send_message(recipient_id, {"custom": json_message})


class WebInput(SocketIOInput):
    """socket.io at `socketio_path` (default /socket.io) and the chat page at /webhooks/web/."""

    @classmethod
    def name(cls) -> str:
        return "web"

    def get_output_channel(self) -> WebOutput | None:
        return WebOutput(self.sio, self.bot_message_evt, self.placeholder) if self.sio else None

    @property
    def placeholder(self) -> str:
        return f"/webhooks/{self.url_prefix()}/static/{PLACEHOLDER}"

    def session_for(self, requested: Any) -> str:
        """The session the client asked to resume when its id is well-formed, else a new one."""
        if isinstance(requested, str) and SESSION_ID.fullmatch(requested):
            return requested
        return secrets.token_hex(16)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        on_new_message = guarded(on_new_message)
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], transports=TRANSPORTS,
                          allow_upgrades=False)
        self.sio = sio
        web = SocketBlueprint(sio, self.socketio_path, "web_webhook", __name__)
        namespace = self.namespace

        @web.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await response.file(WEB_DIR / "index.html", headers=PAGE_HEADERS)

        @web.route("/static/<name>", methods=["GET"])
        async def asset(_: Request, name: str) -> HTTPResponse:
            if name not in ASSETS or not ASSETS[name][0].is_file():
                return response.text("not found", status=404)
            path, mime = ASSETS[name]
            return await response.file(path, mime_type=mime, headers={"X-Content-Type-Options": "nosniff"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = self.session_for(requested) if self.session_persistence else sid
            async with sio.session(sid, namespace=namespace) as session:
                previous = session.get("session_id")
                session["session_id"] = session_id
            if previous and previous != session_id:
                await sio.leave_room(sid, previous, namespace=namespace)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def user_message(sid: str, data: Any = None, *_: Any) -> None:
            session_id = (await sio.get_session(sid, namespace=namespace)).get("session_id")
            if not self.session_persistence:
                session_id = sid
            if not session_id or not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                logger.warning("Dropped a %s event from %s: no session or not a message", self.user_message_evt, sid)
                return
            if data.get("session_id") not in (None, session_id):
                logger.warning("Dropped a message from %s naming another session", sid)
                return
            metadata = data.get(self.metadata_key)
            output = WebOutput(sio, self.bot_message_evt, self.placeholder)
            message = UserMessage(data.get("message", ""), output, prefixed("web", session_id),
                                  input_channel=self.name(), metadata=metadata if isinstance(metadata, dict) else {})
            await on_new_message(message)

        return web
