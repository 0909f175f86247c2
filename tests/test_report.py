"""The store owner's report: the numbers it computes from a known tracker store and store database, the page it
writes, and the command line. Fast: no Rasa, no network; the tracker store is a hand-made `events` table shaped
like the one Rasa's SQL tracker store writes."""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from assistant.__main__ import main
from assistant.analytics.report import (DayRate, Funnel, Handoffs, ThumbsDown, Votes, build_report,
                                        render_html, write_report)
from assistant.dialogue.render import NOT_UNDERSTOOD
from assistant.store.db import open_store

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=timezone.utc).timestamp()
TODAY = NOW - 3600  # 2024-05-10
YESTERDAY = NOW - 86400 - 3600  # 2024-05-09, outside --days 1
SCRIPT = "<script>alert(1)</script> boots"

_EVENTS = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


class Tracker:
    """Writes events the way Rasa's SQLTrackerStore does: one row each, the event's JSON in `data`."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute(_EVENTS)
        self.at = 0.0

    def _add(self, sender: str, event: dict, intent: str | None = None, action: str | None = None) -> None:
        self.at += 1
        event["timestamp"] = self.at
        with self.conn:
            self.conn.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                              "VALUES (?, ?, ?, ?, ?, ?)",
                              (sender, event["event"], self.at, intent, action, json.dumps(event)))

    def user(self, sender: str, text: str, intent: str) -> None:
        self._add(sender, {"event": "user", "text": text, "input_channel": "rest", "metadata": {},
                           "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": [],
                                          "text": text}}, intent=intent)

    def action(self, sender: str, name: str) -> None:
        self._add(sender, {"event": "action", "name": name, "policy": None, "confidence": 1.0}, action=name)

    def bot(self, sender: str, text: str, custom: dict | None = None) -> None:
        self._add(sender, {"event": "bot", "text": text, "metadata": {},
                           "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None,
                                    "image": None, "custom": custom}})


def _empty_list() -> dict:
    return {"type": "product_list", "products": [], "query": {"text": "boots"}, "total": 0}


@pytest.fixture
def tracker_db(tmp_path: Path) -> Path:
    """a: searches, carts, orders (yesterday). b: an empty search, two fallbacks, only synthetic cart history.
    c: the same empty search, an unprompted "didn't catch that", an item in the cart and only a demo order.
    d: says hi and has a live order, but never searched."""
    path = tmp_path / "tracker.db"
    t = Tracker(path)
    t.at = YESTERDAY
    t.action("a", "action_session_start")
    t.bot("a", "Hi! What are you shopping for?")  # before the first message: not a turn
    t.user("a", "red running shoes", "search_products")
    t.action("a", "action_search_products")
    t.bot("a", "Here are red running shoes (1-5 of 12):", {"type": "product_list", "products": [{"id": "p1"}],
                                                            "query": {"text": "running shoes"}, "total": 12})
    t.user("a", "add the first one", "add_to_cart")
    t.bot("a", "Added.", {"type": "cart", "lines": []})
    t.user("a", "checkout", "checkout")
    t.at = TODAY
    t.user("b", SCRIPT, "search_products")
    t.action("b", "action_search_products")
    t.bot("b", "I found nothing.", _empty_list())
    t.user("b", "asdfgh", "nlu_fallback")
    t.action("b", "action_answer_question")
    t.bot("b", NOT_UNDERSTOOD)
    t.user("b", "do you ship to mars", "ask_question")
    t.action("b", "action_answer_question")
    t.bot("b", "I don't know.", {"type": "answer", "kind": "unknown", "sources": []})
    t.user("b", "what is your return policy", "ask_question")
    t.action("b", "action_answer_question")
    t.bot("b", "30 days.", {"type": "answer", "kind": "policy", "sources": ["returns"]})
    t.user("c", " <script>alert(1)</script>   BOOTS ", "search_products")  # the same words
    t.bot("c", "I found nothing.", _empty_list())
    t.user("c", "hmm", "greet")
    t.bot("c", NOT_UNDERSTOOD)
    t.user("c", "add it", "add_to_cart")
    t.user("d", "hi", "greet")
    t.conn.close()
    return path


def _order(number: str, conversation: str, source: str) -> tuple:
    return (number, "shopper@example.com", "processing", "2024-05-10T11:00:00", "US", 50.0, 5.0, conversation, source)


@pytest.fixture
def store_db(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    store = open_store(path)
    with store.conn as conn:
        conn.executemany("INSERT INTO interactions (shopper, product_id, kind, source) VALUES (?, ?, ?, ?)",
                         [("a", "p1", "view", "live"), ("a", "p1", "cart", "live"), ("b", "p2", "cart", "synthetic")])
        conn.execute("INSERT INTO cart_items (conversation_id, product_id, quantity) VALUES ('c', 'p3', 1)")
        conn.executemany("INSERT INTO orders (number, email, status, placed_at, country, subtotal, shipping, "
                         "conversation_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         [_order("HL-000001", "a", "live"), _order("HL-000002", "c", "demo"),
                          _order("HL-000003", "d", "live")])
        conn.executemany("INSERT INTO feedback (conversation_id, rating, kind, about, at) VALUES (?, ?, ?, ?, ?)",
                         [("b", "down", "answer", "I don't know <b>that</b>.", "2024-05-10T11:00:00"),
                          ("a", "up", "recommendations", "Similar to the Moab:", "2024-05-09T10:00:00"),
                          ("c", "up", "answer", "30 days.", "2024-05-10T11:30:00"),
                          ("x", "down", "answer", "Old answer.", "2024-04-01T09:00:00")])
        conn.executemany("INSERT INTO tickets (conversation_id, reason, transcript, created_at, status) "
                         "VALUES (?, ?, '[]', ?, ?)",
                         [("b", "fallbacks", "2024-05-10T11:05:00+00:00", "open"),
                          ("c", "requested", "2024-05-10T11:40:00", "released"),
                          ("a", "requested", "2024-05-09T10:30:00", "open"),
                          ("x", "verification", "2024-04-01T09:00:00", "released")])
    store.conn.close()
    return path


def test_counts_everything_recorded(tracker_db: Path, store_db: Path) -> None:
    report = build_report(tracker_db, store_db, now=NOW)

    assert (report.conversations, report.user_turns) == (4, 11)
    assert report.intents == {"search_products": 3, "add_to_cart": 2, "ask_question": 2, "greet": 2,
                              "checkout": 1, "nlu_fallback": 1}
    assert report.fallback_turns == 3  # b's nlu_fallback, b's unknown answer, c's "didn't catch that"
    assert report.fallback_rate == pytest.approx(3 / 11)
    assert report.fallback_days == [DayRate("2024-05-09", 3, 0), DayRate("2024-05-10", 8, 3)]
    # a carted (live) and ordered; b's cart history is synthetic; c's item is in its cart, its order is a demo one;
    # d ordered but never searched.
    assert report.funnel == Funnel(searched=3, carted=2, ordered=1)
    assert report.funnel.search_to_cart == pytest.approx(2 / 3)
    assert report.funnel.cart_to_checkout == pytest.approx(1 / 2)
    assert (report.search_turns, report.empty_search_turns) == (3, 2)
    assert report.empty_searches == [(SCRIPT, 2)]
    assert report.feedback == {"answer": Votes(up=1, down=2), "recommendations": Votes(up=1, down=0)}
    assert report.thumbs_down == [ThumbsDown("2024-05-10T11:00:00", "answer", "I don't know <b>that</b>."),
                                  ThumbsDown("2024-04-01T09:00:00", "answer", "Old answer.")]
    assert report.handoffs == {"requested": Handoffs(raised=2, still_open=1),
                               "fallbacks": Handoffs(raised=1, still_open=1),
                               "verification": Handoffs(raised=1, still_open=0)}


def test_unanswered_questions_are_listed_for_the_owner_without_personal_details(tmp_path: Path,
                                                                                 store_db: Path) -> None:
    t = Tracker(tmp_path / "tracker.db")
    t.at = TODAY
    unknown = {"type": "answer", "kind": "unknown", "sources": []}
    for sender, text in [("x", "Do you   engrave knives?"), ("y", "do you engrave knives?"),
                         ("z", "order HL-123456 for jane.doe@example.com never came, call 5551234")]:
        t.user(sender, text, "ask_question")
        t.action(sender, "action_answer_question")
        t.bot(sender, "I don't know.", unknown)
    t.user("x", "what is your return policy", "ask_question")
    t.action("x", "action_answer_question")
    t.bot("x", "30 days.", {"type": "answer", "kind": "policy", "sources": ["returns"]})
    t.user("y", "asdfgh", "nlu_fallback")
    t.bot("y", NOT_UNDERSTOOD)
    t.conn.close()

    report = build_report(tmp_path / "tracker.db", store_db, now=NOW)

    assert report.unanswered == [("do you engrave knives?", 2),
                                 ("order hl-### for [email] never came, call ###", 1)]
    assert report.fallback_turns == 4  # the unanswered three and the message that was not understood
    page = render_html(report)
    assert "Questions the assistant could not answer" in page and "do you engrave knives?" in page
    assert "jane.doe" not in page and "123456" not in page


def test_days_keeps_only_the_period(tracker_db: Path, store_db: Path) -> None:
    report = build_report(tracker_db, store_db, days=1, now=NOW)

    assert (report.conversations, report.user_turns, report.fallback_turns) == (3, 8, 3)
    assert "search_products" in report.intents and "checkout" not in report.intents
    assert report.funnel == Funnel(searched=2, carted=1, ordered=0)
    assert report.feedback == {"answer": Votes(up=1, down=1)}
    assert report.handoffs == {"fallbacks": Handoffs(1, 1), "requested": Handoffs(1, 0)}


def test_page_is_self_contained_and_escapes_shopper_text(tracker_db: Path, store_db: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = write_report(build_report(tracker_db, store_db, now=NOW), tmp_path / "out" / "report.html")
    page = out.read_text(encoding="utf-8")

    for heading in ("Conversations", "What shoppers asked for", "Messages the assistant did not understand",
                    "From search to checkout", "Shopper ratings", "Latest thumbs-down",
                    "Searches that found nothing", "Handed over to your team"):
        assert f">{heading}</h" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; boots" in page and "<script" not in page
    assert "I don&#x27;t know &lt;b&gt;that&lt;/b&gt;." in page
    assert "27.3%" in page and "66.7%" in page and "50.0%" in page
    assert page.count('src="data:image/png;base64,') == 5  # intents, per day, funnel, ratings, handoffs
    assert "http://" not in page and "https://" not in page


def test_empty_databases_give_a_sensible_page(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    tracker = tmp_path / "tracker.db"
    sqlite3.connect(tracker).close()  # Rasa has not written anything yet: not even the events table
    open_store(tmp_path / "store.db").conn.close()
    report = build_report(tracker, tmp_path / "store.db", days=7, now=NOW)

    assert (report.conversations, report.user_turns, report.fallback_rate) == (0, 0, None)
    assert report.funnel == Funnel(0, 0, 0) and report.funnel.search_to_cart is None
    page = render_html(report)
    assert "No conversations yet in this period." in page and "<img" not in page


def test_cli_writes_the_page(tracker_db: Path, store_db: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report.html"
    assert main(["report", "--tracker", str(tracker_db), "--store", str(store_db), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and str(out) in printed
    assert "4 conversations, 11 shopper messages, 27.3% not understood" in printed


@pytest.mark.parametrize("missing", ["tracker", "store"])
def test_cli_refuses_a_missing_database(missing: str, tracker_db: Path, store_db: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    paths = {"tracker": str(tracker_db), "store": str(store_db)}
    paths[missing] = str(tmp_path / "nowhere.db")
    out = tmp_path / "report.html"
    assert main(["report", "--tracker", paths["tracker"], "--store", paths["store"], "--out", str(out)]) == 1
    error = capsys.readouterr().err
    what = "tracker store" if missing == "tracker" else "store database"
    assert f"no {what} at {tmp_path / 'nowhere.db'}" in error and "Traceback" not in error
    assert not out.exists() and not (tmp_path / "nowhere.db").exists()
