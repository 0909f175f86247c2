"""Slack and Telegram through the real Rasa server and action server, with the platforms' APIs faked locally.

The servers run as separate processes, so the outbound API calls are caught by pointing the channels' API clients
(HARBOR_SLACK_API_URL, HARBOR_TELEGRAM_API_URL) at a small HTTP server in this process that records each call.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.servers import LiveAssistant, free_port

pytestmark = [pytest.mark.rasa, pytest.mark.server]

SLACK_TOKEN = "xoxb-harbor-test-token"
SLACK_SECRET = "harbor-test-signing-secret"
TELEGRAM_TOKEN = "123456789:harbor-test-token"
TELEGRAM_SECRET = "harbor-test-webhook-secret"
TELEGRAM_WEBHOOK = "https://shop.example.test/webhooks/telegram/webhook"


@dataclass
class ApiCall:
    platform: str
    method: str
    headers: dict[str, str]
    body: dict


class FakeApis:
    """Slack's Web API under /slack/api/ and Telegram's Bot API under /telegram/, answering what the clients need."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        apis = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                call = ApiCall(*apis.route(self.path), dict(self.headers), parse_body(self.headers, raw))
                with apis._lock:
                    apis.calls.append(call)
                answer = json.dumps(apis.answer(call)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                pass

        return Handler

    @staticmethod
    def route(path: str) -> tuple[str, str]:
        if path.startswith("/slack/api/"):
            return "slack", path.removeprefix("/slack/api/")
        assert path.startswith(f"/telegram/bot{TELEGRAM_TOKEN}/"), f"unexpected API call {path}"
        return "telegram", path.rsplit("/", 1)[1].lower()

    @staticmethod
    def answer(call: ApiCall) -> dict:
        if call.platform == "slack":
            return {"ok": True, "channel": call.body.get("channel"), "ts": f"{time.time():.6f}"}
        if call.method == "sendmessage":
            chat = int(call.body["chat_id"])
            return {"ok": True, "result": {"message_id": int(time.time() * 1000) % 10**9, "date": int(time.time()),
                                           "chat": {"id": chat, "type": "private"}, "text": call.body.get("text")}}
        return {"ok": True, "result": True}

    def find(self, platform: str, method: str, **fields: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.platform == platform and c.method == method
                    and all(str(c.body.get(k)) == v for k, v in fields.items())]

    def wait_for(self, found: Callable[[], list[ApiCall]], count: int = 1, timeout: float = 60) -> list[ApiCall]:
        """Polls until `found()` returns at least `count` calls, then lets any further message of the turn land."""
        deadline = time.monotonic() + timeout
        while len(found()) < count:
            if time.monotonic() > deadline:
                with self._lock:
                    recent = [(c.method, c.body) for c in self.calls[-4:]]
                raise AssertionError(f"expected {count} API call(s), got {len(found())}; last calls: {recent}")
            time.sleep(0.2)
        time.sleep(1.0)
        return found()


def parse_body(headers, raw: bytes) -> dict:
    kind = headers.get("Content-Type", "")
    if kind.startswith("application/json"):
        return json.loads(raw or b"{}")
    if kind.startswith("multipart/"):
        message = BytesParser().parsebytes(b"Content-Type: " + kind.encode() + b"\r\n\r\n" + raw)
        return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True).decode()
                for part in message.get_payload()}
    return dict(urllib.parse.parse_qsl(raw.decode()))


@dataclass
class ChannelAssistant(LiveAssistant):
    """LiveAssistant whose Rasa server gets the channels' environment (the project's credentials.yml unchanged)."""

    channel_env: dict[str, str] = field(default_factory=dict)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        super()._spawn(name, args, {**env, **self.channel_env} if name == "rasa" else env)


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[tuple[ChannelAssistant, FakeApis]]:
    from assistant.settings import settings

    apis = FakeApis()
    apis.thread.start()
    env = {"HARBOR_SLACK_BOT_TOKEN": SLACK_TOKEN, "HARBOR_SLACK_SIGNING_SECRET": SLACK_SECRET,
           "HARBOR_SLACK_API_URL": f"{apis.url}/slack/api/", "HARBOR_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
           "HARBOR_TELEGRAM_WEBHOOK_URL": TELEGRAM_WEBHOOK, "HARBOR_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
           "HARBOR_TELEGRAM_API_URL": f"{apis.url}/telegram"}
    assistant = ChannelAssistant(Path(tmp_path_factory.mktemp("channels")), settings().catalog_db, channel_env=env)
    assistant.start_actions()
    assistant.start_rasa()
    try:
        assistant.wait_ready()
        yield assistant, apis
    finally:
        assistant.stop()
        apis.server.shutdown()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --- Slack -----------------------------------------------------------------------------------------------------

def slack_post(bot: LiveAssistant, body: bytes, content_type: str = "application/json", *,
               secret: str = SLACK_SECRET, age: float = 0, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Signed the way Slack signs: HMAC-SHA256 of "v0:<timestamp>:<body>" with the app's signing secret."""
    timestamp = str(int(time.time() - age))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return post(f"{bot.url}/webhooks/slack/webhook", body, {
        "Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}",
        **(headers or {})})


def slack_event(event_id: str, channel: str, user: str, text: str) -> bytes:
    """An Events API callback for a direct message to the app."""
    return json.dumps({
        "token": "unused", "team_id": "T0HARBOR", "api_app_id": "A0HARBOR", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()), "authorizations": [{"user_id": "U0BOT"}],
        "event": {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                  "ts": f"{time.time():.6f}"},
    }).encode()


def slack_posts(apis: FakeApis, channel: str) -> Callable[[], list[ApiCall]]:
    return lambda: apis.find("slack", "chat.postMessage", channel=channel)


def slack_text(calls: list[ApiCall]) -> str:
    return "\n".join(c.body.get("text", "") for c in calls)


def test_slack_signed_message_gets_a_reply_and_unsigned_ones_do_not(live):
    bot, apis = live
    forged = slack_event("Ev-forged", "D0FORGED", "U0FORGED", "hi")
    assert slack_post(bot, forged, secret="not-the-secret")[0] == 400
    assert slack_post(bot, forged, age=600)[0] == 400, "a correctly signed but 10-minute-old request is a replay"
    status, challenge = slack_post(bot, json.dumps({"type": "url_verification", "challenge": "ch4ll"}).encode())
    assert status == 200 and "ch4ll" in challenge

    assert slack_post(bot, slack_event("Ev-hi-1", "D0SLACK1", "U0SLACK1", "hi there"))[0] == 200
    replies = apis.wait_for(slack_posts(apis, "D0SLACK1"))
    assert "Harbor Lane" in slack_text(replies)
    for reply in replies:
        assert reply.headers["Authorization"] == f"Bearer {SLACK_TOKEN}"
        assert "as_user" not in reply.body, "Slack apps with granular scopes reject as_user"
    assert not apis.find("slack", "chat.postMessage", channel="D0FORGED")


def test_slack_redelivery_is_answered_once(live):
    bot, apis = live
    greetings = lambda: [c for c in slack_posts(apis, "D0RETRY")() if "Harbor Lane" in c.body.get("text", "")]
    first = slack_event("Ev-retry-1", "D0RETRY", "U0RETRY", "hello")
    assert slack_post(bot, first)[0] == 200
    apis.wait_for(greetings)
    status, _ = slack_post(bot, first, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
    assert status == 200

    # A later message of the same conversation is answered after anything the retry could have caused.
    before = len(slack_posts(apis, "D0RETRY")())
    assert slack_post(bot, slack_event("Ev-retry-2", "D0RETRY", "U0RETRY", "what's in my cart?"))[0] == 200
    apis.wait_for(slack_posts(apis, "D0RETRY"), count=before + 1)
    assert len(greetings()) == 1, "the retried event was answered again"

    # A retry of an event that never arrived before is the only copy: it is answered.
    lost = slack_event("Ev-retry-3", "D0RETRY", "U0RETRY", "hi")
    assert slack_post(bot, lost, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})[0] == 200
    apis.wait_for(greetings, count=2)


def slack_buttons(call: ApiCall) -> list[dict]:
    blocks = call.body.get("blocks") or []
    return [element for block in blocks if block["type"] == "actions" for element in block["elements"]]


def test_slack_buttons_are_blocks_and_clicks_come_back(live):
    bot, apis = live
    posts = slack_posts(apis, "D0SHOP")
    assert slack_post(bot, slack_event("Ev-shop-1", "D0SHOP", "U0SHOP", "show me running shoes"))[0] == 200
    listed = apis.wait_for(posts)
    assert "running shoes" in slack_text(listed).lower()
    assert all("products" not in c.body and c.body.get("text") for c in listed), "widget payloads are not posted"

    assert slack_post(bot, slack_event("Ev-shop-2", "D0SHOP", "U0SHOP", "add the first one to my cart"))[0] == 200
    with_buttons = lambda: [c for c in posts() if slack_buttons(c)]
    asked = apis.wait_for(with_buttons)[-1]
    buttons = slack_buttons(asked)
    assert asked.body["blocks"][0] == {"type": "section", "text": {"type": "plain_text", "text": asked.body["text"]}}
    assert all(b["type"] == "button" and b["text"]["text"] and b["value"].startswith("/") for b in buttons)

    # The shopper clicks the first button: Slack posts an interaction payload, form-encoded.
    click = {"type": "block_actions", "user": {"id": "U0SHOP"}, "channel": {"id": "D0SHOP"},
             "message": {"ts": "1.0"}, "actions": [{"type": "button", "value": buttons[0]["value"]}]}
    before = len(posts())
    body = urllib.parse.urlencode({"payload": json.dumps(click)}).encode()
    assert slack_post(bot, body, "application/x-www-form-urlencoded")[0] == 200
    answer = slack_text(apis.wait_for(posts, count=before + 1)[before:])
    assert f'size {buttons[0]["text"]["text"]}' in answer, answer


# --- Telegram --------------------------------------------------------------------------------------------------

_update_ids = iter(range(1000, 100000))


def telegram_post(bot: LiveAssistant, update: dict, secret: str | None = TELEGRAM_SECRET) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(f"{bot.url}/webhooks/telegram/webhook", json.dumps(update).encode(), headers)


def telegram_message(chat: int, **content: object) -> dict:
    return {"message_id": next(_update_ids), "date": int(time.time()), "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Shopper"}, **content}


def telegram_update(kind: str, content: dict) -> dict:
    return {"update_id": next(_update_ids), kind: content}


def telegram_sends(apis: FakeApis, chat: int) -> Callable[[], list[ApiCall]]:
    return lambda: apis.find("telegram", "sendmessage", chat_id=str(chat))


def test_telegram_webhook_is_registered_with_its_secret(live):
    _, apis = live
    registered = apis.find("telegram", "setwebhook")
    assert registered and registered[0].body["url"] == TELEGRAM_WEBHOOK
    assert registered[0].body["secret_token"] == TELEGRAM_SECRET


def test_telegram_text_gets_a_reply_once_and_forged_updates_are_refused(live):
    bot, apis = live
    forged = telegram_update("message", telegram_message(7001, text="hi"))
    assert telegram_post(bot, forged, secret=None)[0] == 403
    assert telegram_post(bot, forged, secret="wrong")[0] == 403

    update = telegram_update("message", telegram_message(7002, text="/start"))
    assert telegram_post(bot, update) == (200, "ok")
    replies = apis.wait_for(telegram_sends(apis, 7002))
    assert "Harbor Lane" in "\n".join(c.body["text"] for c in replies)
    assert telegram_post(bot, update)[0] == 200, "Telegram redelivers an update it got no answer for"
    time.sleep(2)
    assert len(telegram_sends(apis, 7002)()) == len(replies)
    assert not telegram_sends(apis, 7001)()


def test_telegram_buttons_are_an_inline_keyboard(live):
    bot, apis = live
    sends = telegram_sends(apis, 7003)
    for text in ("show me running shoes", "add the first one to my cart"):
        assert telegram_post(bot, telegram_update("message", telegram_message(7003, text=text)))[0] == 200
    keyboards = lambda: [c for c in sends() if "reply_markup" in c.body]
    asked = apis.wait_for(keyboards)[-1]
    rows = json.loads(asked.body["reply_markup"])["inline_keyboard"]
    buttons = [button for row in rows for button in row]
    assert buttons and all(b["text"] and b["callback_data"].startswith("/") for b in buttons)

    before = len(sends())
    press = {"id": "cb-1", "from": {"id": 7003, "is_bot": False, "first_name": "Shopper"}, "chat_instance": "1",
             "data": buttons[0]["callback_data"],
             "message": telegram_message(7003, text=asked.body["text"])}
    assert telegram_post(bot, telegram_update("callback_query", press))[0] == 200
    apis.wait_for(sends, count=before + 1)
    assert apis.find("telegram", "answercallbackquery", callback_query_id="cb-1")


@pytest.mark.parametrize("kind, content", [
    ("message", {"sticker": {"file_id": "s1", "file_unique_id": "s1", "width": 512, "height": 512,
                             "is_animated": False}}),
    ("message", {"photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]}),
    ("edited_message", {"text": "red running shoes", "edit_date": 1}),
])
def test_telegram_non_text_gets_a_polite_answer(live, kind, content):
    bot, apis = live
    chat = next(_update_ids)
    assert telegram_post(bot, telegram_update(kind, telegram_message(chat, **content))) == (200, "ok")
    replies = apis.wait_for(telegram_sends(apis, chat))
    assert len(replies) == 1 and replies[0].body["text"]


def test_telegram_other_updates_are_ignored(live):
    bot, apis = live
    before = len(apis.calls)
    member = {"chat": {"id": 7005, "type": "private"}, "from": {"id": 7005, "is_bot": False, "first_name": "S"},
              "date": 1, "old_chat_member": {"user": {"id": 1, "is_bot": True, "first_name": "B"},
                                             "status": "member"},
              "new_chat_member": {"user": {"id": 1, "is_bot": True, "first_name": "B"}, "status": "kicked"}}
    assert telegram_post(bot, telegram_update("my_chat_member", member)) == (200, "ok")
    assert telegram_post(bot, {"not": "an update"})[0] == 400
    time.sleep(1)
    assert len(apis.calls) == before


# --- Across channels -------------------------------------------------------------------------------------------

def tracker_texts(bot: LiveAssistant, conversation: str) -> list[tuple[str, str]]:
    """Quoted like `python -m assistant handoff release` quotes it (Rasa does not unquote the id)."""
    url = f"{bot.url}/conversations/{urllib.parse.quote(conversation, safe='')}/tracker"
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"]
    return [(e.get("input_channel"), e["text"]) for e in events if e["event"] == "user"]


def test_the_same_id_on_each_channel_is_a_separate_conversation(live):
    bot, apis = live
    bot.say("4242", "what's in my cart?")
    assert slack_post(bot, slack_event("Ev-same-1", "D4242", "4242", "hi"))[0] == 200
    assert telegram_post(bot, telegram_update("message", telegram_message(4242, text="hello")))[0] == 200
    apis.wait_for(slack_posts(apis, "D4242"))
    apis.wait_for(telegram_sends(apis, 4242))

    assert tracker_texts(bot, "4242") == [("rest", "what's in my cart?")]
    assert tracker_texts(bot, "slack_4242") == [("slack", "hi")]
    assert tracker_texts(bot, "telegram_4242") == [("telegram", "hello")]


@pytest.mark.parametrize("text, takes_back", [
    ("never mind", True), ("Nevermind!", True), ("cancel", True), ("forget it, thanks", True),
    ("I don't need a human anymore", True), ("no longer need an agent", True),
    ("cancel my order", False), ("never mind the tent, show me boots", False), ("hello? anyone?", False),
])
def test_only_a_whole_message_that_takes_back_the_request_cancels_a_handoff(text: str, takes_back: bool) -> None:
    from channels import takes_back_handoff

    assert takes_back_handoff(text) is takes_back
