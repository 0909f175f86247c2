"""The hostile corpus (tests/hostile.py) through the real servers, over REST and over the web chat's socket.io.

Every input must get an answer (no 5xx, no silence) within 5 s, reflect no markup, leak no other customer's
data, and leave the store as it was: no order placed, no cart line outside the allowed quantities or catalog.
The time bound catches a hang or runaway work on hostile input (a backtracking regex takes minutes), not speed:
replies take about 0.05 s, and one took 2.6 s once on a busy CI machine. Speed is measured by benchmarks.load.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.store.demo import DEMO_ORDERS
from channels import QUIET_COMMANDS
from tests.hostile import corpus
from tests.servers import LiveAssistant

REPLY_WITHIN_S = 5.0
REFLECTED = ("<script", "onerror=", "<img", "<svg", "<iframe", "javascript:alert")
OTHER_CUSTOMERS = sorted({order.email for order in DEMO_ORDERS})
ENTRIES = corpus()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def bot(live_assistant: LiveAssistant) -> Iterator[LiveAssistant]:
    catalog = _sha256(live_assistant.catalog_db)
    yield live_assistant
    assert _sha256(live_assistant.catalog_db) == catalog, "the catalog changed"


def _post(bot: LiveAssistant, sender: str, text: str) -> tuple[int, list, float]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{bot.url}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, [], time.monotonic() - started


def _problems(kind: str, text: str, replies: list[str], seconds: float) -> list[str]:
    """What is wrong with the answer to one input (empty when nothing is)."""
    found = []
    if not any(r.strip() for r in replies) and not text.startswith(QUIET_COMMANDS):
        found.append("no answer")
    if seconds > REPLY_WITHIN_S:
        found.append(f"took {seconds:.2f} s")
    said = "\n".join(replies).lower()
    found += [f"reflected {marker!r}" for marker in REFLECTED if marker in said]
    found += [f"leaked {email}" for email in OTHER_CUSTOMERS if email in said]
    if kind == "long" and len(text) > 1000 and "too long" not in said:
        found.append("no length-limit reply")
    return found


def _store_is_clean(bot: LiveAssistant, senders: list[str]) -> None:
    from assistant.settings import settings

    marks = ",".join("?" * len(senders))
    with sqlite3.connect(bot.store_db) as store:
        orders = store.execute(f"SELECT COUNT(*) FROM orders WHERE conversation_id IN ({marks})", senders).fetchone()
        lines = store.execute(f"SELECT product_id, quantity FROM cart_items WHERE conversation_id IN ({marks})",
                              senders).fetchall()
    assert orders == (0,), "a hostile conversation placed an order"
    with sqlite3.connect(settings().catalog_db) as catalog:
        known = {row[0] for row in catalog.execute("SELECT id FROM products")}
    assert all(product in known and 1 <= quantity <= 20 for product, quantity in lines), lines


def test_the_corpus_is_big_and_varied():
    kinds = {kind for kind, _ in ENTRIES}
    assert len(ENTRIES) >= 200
    assert {"empty", "long", "control", "emoji", "script", "sql", "prompt", "markup", "number", "intent"} <= kinds


def test_every_hostile_input_over_rest_gets_a_safe_quick_answer(bot: LiveAssistant):
    failures, senders = [], []
    for i, (kind, text) in enumerate(ENTRIES):
        sender = f"hostile-rest-{i}"
        senders.append(sender)
        status, messages, seconds = _post(bot, sender, text)
        if status != 200:
            failures.append((kind, text[:60], f"HTTP {status}"))
            continue
        replies = [m.get("text") or json.dumps(m.get("custom") or m.get("buttons") or "") for m in messages]
        failures += [(kind, text[:60], problem) for problem in _problems(kind, text, replies, seconds)]
    assert not failures, "\n".join(map(repr, failures))
    _store_is_clean(bot, senders)
    assert "Harbor Lane" in json.dumps(_post(bot, "after-the-storm", "hi")[1])  # still serving


SOCKETIO_CLIENTS = 3  # web chat users sending the corpus side by side; see _socketio_round


async def _socketio_client(url: str, entries: list[tuple[int, tuple[str, str]]]) -> list[tuple[str, str, str]]:
    """Some of the corpus over one socket.io connection, each input in a new session, as the web widget sends it."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    inbox: asyncio.Queue = asyncio.Queue()
    confirmed: asyncio.Queue = asyncio.Queue()
    client.on("bot_uttered", lambda data: inbox.put_nowait(data))
    client.on("session_confirm", lambda data: confirmed.put_nowait(data))
    await client.connect(url, transports=["polling"], socketio_path="/socket.io")
    failures = []
    try:
        for i, (kind, text) in entries:
            await client.emit("session_request", {"session_id": f"hostile-web-{i:04d}"})
            session = await asyncio.wait_for(confirmed.get(), 10)
            started = time.monotonic()
            await client.emit("user_uttered", {"message": text, "session_id": session})
            replies, seconds = [], 0.0  # no reply at all is reported as "no answer", not as slow
            try:
                first = await asyncio.wait_for(inbox.get(), 10)
                seconds = time.monotonic() - started
                replies.append(json.dumps(first))
                while True:  # the rest of this turn's messages
                    replies.append(json.dumps(await asyncio.wait_for(inbox.get(), 0.7)))
            except asyncio.TimeoutError:
                pass
            failures += [(kind, text[:60], p) for p in _problems(kind, text, replies, seconds)]
    finally:
        await client.disconnect()
    return failures


async def _socketio_round(url: str) -> list[tuple[str, str, str]]:
    """The corpus from SOCKETIO_CLIENTS web chat users side by side. socket.io has no end-of-turn signal, so each
    input waits 0.7 s of quiet for the rest of its turn; spreading the corpus over a few users overlaps those
    waits (over three minutes for one user) while the server still mostly answers one turn at a time, and every
    first reply must still come within REPLY_WITHIN_S."""
    numbered = list(enumerate(ENTRIES))
    results = await asyncio.gather(*(_socketio_client(url, numbered[n::SOCKETIO_CLIENTS])
                                     for n in range(SOCKETIO_CLIENTS)))
    return [failure for failures in results for failure in failures]


def test_every_hostile_input_over_socketio_gets_a_safe_quick_answer(bot: LiveAssistant):
    failures = asyncio.run(_socketio_round(bot.url))
    assert not failures, "\n".join(map(repr, failures))
    _store_is_clean(bot, [f"web_hostile-web-{i:04d}" for i in range(len(ENTRIES))])
