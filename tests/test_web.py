"""The web chat: what the socket.io channel sends the widget, and the real page in headless Chromium against the
real servers (search, cards, add to cart through the quick replies, reload, escaping)."""
from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest

from channels.web import WebInput, WebOutput, literal_markdown
from tests.servers import ROOT, LiveAssistant

SHOTS = ROOT / "test-output" / "web"
HOSTILE_TITLE = '<img src=x onerror=alert(1)> [Sale](javascript:alert(2)) *Trail* <script>alert(3)</script>'


class FakeSio:
    """Records what the output channel emits."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any = None, room: str | None = None, **_: Any) -> None:
        self.sent.append((event, data, room))


def card(title: str = HOSTILE_TITLE, image_url: str | None = "https://images.harborlane.example/p/1.jpg") -> dict:
    return {"id": "HL-P1", "title": title, "brand": "Northpeak", "category": "running shoes", "price": 90.0,
            "sale_price": 72.0, "final_price": 72.0, "rating": 4.46, "review_count": 12, "image_url": image_url,
            "reason": "", "buttons": [{"title": "Details", "payload": '/product_details{"product_id": "HL-P1"}'},
                                      {"title": "Add to cart", "payload": '/add_to_cart{"product_id": "HL-P1"}'},
                                      {"title": "Similar", "payload": '/recommend{"product_id": "HL-P1"}'}]}


def send(message: dict) -> list[tuple[str, Any, str]]:
    sio = FakeSio()
    asyncio.run(WebOutput(sio, "bot_uttered", "/ph.svg").send_response("web_abc123def", message))
    return sio.sent


def test_product_list_becomes_heading_and_cards_with_the_data_as_written() -> None:
    payload = {"type": "product_list", "products": [card(), card("Plain", "https://cdn.shop.com/1.jpg")]}
    sent = send({"text": f"Here are 2 running shoes:\n1. {HOSTILE_TITLE}\n2. Plain", "custom": payload})

    assert [room for _, _, room in sent] == ["abc123def", "abc123def"]  # the session's room, without "web_"
    assert sent[0][1] == {"text": "Here are 2 running shoes:"}  # the numbered list is the cards
    cards = sent[1][1]["attachment"]["payload"]
    assert cards["template_type"] == "generic"
    first, second = cards["elements"]
    assert first["title"] == HOSTILE_TITLE  # React renders it as text; nothing is interpreted server-side
    assert first["subtitle"] == "Northpeak · $72.00 (was $90.00) · ★4.5 (12)"
    assert first["image_url"] == "/ph.svg" and second["image_url"] == "https://cdn.shop.com/1.jpg"
    assert [b["title"] for b in first["buttons"]] == ["Details", "Add to cart", "Similar"]
    assert all(b["type"] == "postback" for b in first["buttons"])
    assert first["buttons"][1]["payload"] == '/add_to_cart{"product_id": "HL-P1"}'
    assert sent[1][1]["custom"] == payload  # still machine-readable for other socket.io clients


def test_bot_text_is_literal_for_the_widgets_markdown() -> None:
    sent = send({"text": f"Your cart:\n- 1 x {HOSTILE_TITLE}: $72.00\nSubtotal: $72.00",
                 "custom": {"type": "cart", "lines": [], "subtotal": 72.0}})

    text = sent[0][1]["text"]
    assert "](javascript" not in text and "[Sale\\]\\(javascript" in text and "\\*Trail\\*" in text
    assert text.count("  \n") == 2  # one hard line break per line
    assert sent[1][1] == {"custom": {"type": "cart", "lines": [], "subtotal": 72.0}}  # the widget skips it


def test_literal_markdown_changes_no_visible_character() -> None:
    assert literal_markdown("a_b [c](d) #1.").replace("\\", "") == "a_b [c](d) #1."


def test_quick_replies_keep_their_payloads() -> None:
    buttons = [{"title": "10", "payload": '/inform{"size": "10"}'}]
    sent = send({"text": "Which size would you like?", "buttons": buttons})

    assert sent == [("bot_uttered", {"text": "Which size would you like?",
                                     "quick_replies": [{"content_type": "text", "title": "10",
                                                        "payload": '/inform{"size": "10"}'}]}, "abc123def")]


@pytest.mark.parametrize("requested", [None, 42, "", "short", "x" * 65, "../../etc", "a b c d e f g h", {"id": 1}])
def test_a_malformed_session_id_gets_a_fresh_one(requested: Any) -> None:
    fresh = WebInput(session_persistence=True).session_for(requested)
    assert fresh != requested and len(fresh) == 32


def test_a_well_formed_session_id_is_resumed() -> None:
    assert WebInput(session_persistence=True).session_for("4f1c0a9e2b7d4c55") == "4f1c0a9e2b7d4c55"


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), b""


def socket_checks(url: str) -> None:
    """The socket.io endpoint as docs/channels.md describes it, from python-socketio's client over polling."""
    import socketio

    with socketio.SimpleClient() as client:
        client.connect(url, socketio_path="/socket.io", transports=["polling"])
        client.emit("session_request", {"session_id": "../not an id"})
        event, session_id = client.receive(timeout=20)
        assert event == "session_confirm" and len(session_id) == 32 and session_id.isalnum()
        client.emit("user_uttered", {"message": "hi", "session_id": "someone-elses-session"})
        with pytest.raises(socketio.exceptions.TimeoutError):
            client.receive(timeout=5)  # dropped: not this socket's session
        client.emit("user_uttered", {"message": "   ", "session_id": session_id})
        event, reply = client.receive(timeout=60)
        assert event == "bot_uttered" and "empty" in reply["text"]


@pytest.mark.timeout(900)
def test_web_chat_in_a_real_browser(live_assistant: LiveAssistant) -> None:
    node = shutil.which("node")
    assert node, "node is needed for the browser test (Node.js 18+)"
    assert (ROOT / "web" / "node_modules" / "playwright-core").is_dir(), "run scripts/web.sh (make test does)"
    SHOTS.mkdir(parents=True, exist_ok=True)

    page_url = f"{live_assistant.url}/webhooks/web/"
    status, headers, html = _get(page_url)
    assert status == 200 and b"/webhooks/web/static/webchat.js" in html
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert _get(f"{page_url}static/webchat.js")[0] == 200
    assert _get(f"{page_url}static/package.json")[0] == 404  # only the page's own files are served
    assert _get(f"{page_url}static/..%2F..%2Fcredentials.yml")[0] == 404

    socket_checks(live_assistant.url)
    run = subprocess.run([node, str(ROOT / "tests" / "web_chat.mjs"), page_url, str(SHOTS)],
                         capture_output=True, text=True, timeout=840)
    assert run.returncode == 0, f"browser run failed:\n{run.stderr[-4000:]}\nlogs in {live_assistant.workdir}"
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    assert "Harbor Lane" in seen["greeting"]
    assert len(seen["cards"]) >= 3
    for shown in seen["cards"]:
        assert shown["title"] and "$" in shown["subtitle"] and ("★" in shown["subtitle"] or "no reviews" in shown["subtitle"])
        assert shown["image"]  # the product's image or the placeholder
        assert shown["buttons"] == ["Details", "Add to cart", "Similar"]
    assert all("size" in q["text"].lower() or "colour" in q["text"].lower() for q in seen["questions"])
    assert seen["cart"] and seen["cards"][0]["title"] in seen["cart"], seen

    assert seen["sessionAfter"] == seen["sessionBefore"] and seen["sessionBefore"]
    assert seen["messagesAfter"] == seen["messagesBefore"]  # the reload shows the same conversation
    assert seen["cartAfterReload"] and seen["cards"][0]["title"] in seen["cartAfterReload"]

    assert "<img src=x onerror=" in seen["hostileShown"] and "<script>" in seen["hostileShown"]
    assert seen["hostileElements"] == 0 and seen["pwned"] is None and seen["dialogs"] == []
    assert seen["pageErrors"] == [] and seen["consoleErrors"] == []
    assert seen["externalLoaded"] == []  # nothing from a CDN (the widget's Google Fonts import is refused by CSP)
    assert {p.name for p in SHOTS.glob("*.png")} >= {"results.png", "cart.png", "after-reload.png", "escaping.png"}
