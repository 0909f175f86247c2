"""How the assistant is doing, for the store owner: numbers from the conversation log and the store database,
and a one-page HTML report of them (`python -m assistant report`).

Both inputs are SQLite files opened read-only with `sqlite3`, so the report never changes them, runs while the
assistant is serving, and needs no Rasa: the tracker store is Rasa's SQL tracker store (table `events`, one row per
event, the event's JSON in `data`); the store database is `assistant.store.db`.

Definitions (the page says the same in plain words):

- period: the last `days` days before the report was made, or everything recorded when `days` is not given.
  Days are UTC calendar days.
- user turn: one shopper message (a Rasa `user` event) in the period, together with what the assistant did until
  the shopper's next message.
- conversation: a chat (Rasa sender id) with at least one user turn in the period.
- intent mix: user turns per intent the NLU gave them.
- fallback turn: a user turn the assistant did not understand: its intent is `nlu_fallback`; or the assistant ran
  `action_answer_question` and replied with an `answer` payload of kind `unknown`; or it replied with
  `render.NOT_UNDERSTOOD`. Fallback rate = fallback turns / user turns (also per day).
- search turn: a user turn with intent `search_products` or `refine_search`. A search with no results is a search
  turn the assistant answered with a `product_list` payload whose `total` is 0; they are grouped by what the shopper
  typed (lower-cased, spaces collapsed).
- unanswered question: a user turn the assistant answered with an `answer` payload of kind `unknown` (it found
  nothing in the store's knowledge); grouped by what the shopper typed, with e-mail addresses and numbers of
  three or more digits masked, as wordings to add to a knowledge section's `asked` list or topics to write.
- funnel: conversations with a search turn; of those, the ones that added a product to the cart (a live `cart`
  interaction, or an item still in their cart); of those, the ones that placed a live order. Search-to-cart =
  added to cart / searched; cart-to-checkout = ordered / added to cart. Synthetic interactions and demo orders are
  never counted, whatever the conversation id.
- feedback: thumbs up and down given in the period, per kind of message rated (`answer`, `recommendations`), and
  the latest thumbs-down with the message that was rated.
- handoffs: tickets raised in the period (a shopper handed to the team), per reason, and how many of those are
  still open.
"""
from __future__ import annotations

import base64
import html
import io
import json
import re
import sqlite3
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.dialogue.render import NOT_UNDERSTOOD

SEARCH_INTENTS = frozenset({"search_products", "refine_search"})
FALLBACK_INTENT = "nlu_fallback"
ANSWER_ACTION = "action_answer_question"
NO_INTENT = "(no intent)"
TOP_EMPTY_SEARCHES = 15
LATEST_THUMBS_DOWN = 10

# What the store owner reads instead of the codes the databases keep.
FEEDBACK_KINDS = {"answer": "Answers to questions", "recommendations": "Recommendations"}
TICKET_REASONS = {
    "requested": "Shopper asked for a person",
    "frustration": "Shopper seemed frustrated",
    "fallbacks": "Assistant kept not understanding",
    "verification": "Shopper could not verify their order",
}


class ReportError(Exception):
    """A database the report needs is missing or unreadable; the message says which, for the command line."""


@dataclass
class Turn:
    """One shopper message and what the assistant did until the next one (filled in while reading the log)."""

    conversation: str
    at: float
    intent: str
    text: str
    fallback: bool = False
    no_results: bool = False
    unanswered: bool = False

    @property
    def search(self) -> bool:
        return self.intent in SEARCH_INTENTS


@dataclass(frozen=True)
class DayRate:
    day: str  # YYYY-MM-DD, UTC
    turns: int
    fallbacks: int

    @property
    def rate(self) -> float | None:
        return share(self.fallbacks, self.turns)


@dataclass(frozen=True)
class Funnel:
    searched: int
    carted: int
    ordered: int

    @property
    def search_to_cart(self) -> float | None:
        return share(self.carted, self.searched)

    @property
    def cart_to_checkout(self) -> float | None:
        return share(self.ordered, self.carted)


@dataclass(frozen=True)
class Votes:
    up: int
    down: int


@dataclass(frozen=True)
class ThumbsDown:
    at: str
    kind: str
    message: str  # the assistant's message that was rated


@dataclass(frozen=True)
class Handoffs:
    raised: int
    still_open: int


@dataclass(frozen=True)
class Report:
    """Everything on the page, as numbers, so tests and other tools need not parse HTML."""

    since: datetime | None  # None: everything recorded
    made_at: datetime
    conversations: int
    user_turns: int
    intents: dict[str, int]  # most frequent first
    fallback_turns: int
    fallback_days: list[DayRate]  # oldest first, days with user turns only
    funnel: Funnel
    search_turns: int
    empty_search_turns: int
    empty_searches: list[tuple[str, int]]  # the shopper's text and how often, most frequent first
    unanswered: list[tuple[str, int]]  # the same for questions the knowledge had no answer to (masked)
    feedback: dict[str, Votes]  # per kind rated
    thumbs_down: list[ThumbsDown]  # latest first
    handoffs: dict[str, Handoffs]  # per reason

    @property
    def fallback_rate(self) -> float | None:
        return share(self.fallback_turns, self.user_turns)


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide: the page shows a dash, not a misleading 0%."""
    return part / whole if whole else None


# ---- reading ---------------------------------------------------------------------------------------------------
def connect_readonly(path: Path, what: str) -> sqlite3.Connection:
    """Open an SQLite file read-only; a clear ReportError (no traceback for the owner) when it is not there or not
    a database."""
    if not path.is_file():
        raise ReportError(f"no {what} at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise ReportError(f"cannot read the {what} {path}: {error}") from error
    return conn


def _rows(conn: sqlite3.Connection, table: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of `sql`, none when `table` does not exist yet (a store made before the table was added, a tracker
    store Rasa has not written to): an empty section, not a crash."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    return conn.execute(sql, params).fetchall() if exists else []


def _event(data: str | None) -> dict[str, Any]:
    try:
        event = json.loads(data or "{}")
    except json.JSONDecodeError:
        return {}
    return event if isinstance(event, dict) else {}


def read_turns(tracker: sqlite3.Connection, since: float | None) -> list[Turn]:
    """Every shopper message since `since` (epoch seconds; None: all), with what followed it, by walking each
    conversation's events in the order Rasa stored them."""
    turns: list[Turn] = []
    current: Turn | None = None
    last_action: str | None = None
    for sender, kind, at, intent, action, data in _rows(
            tracker, "events",
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
            "WHERE type_name IN ('user', 'bot', 'action') AND (? IS NULL OR timestamp >= ?) ORDER BY sender_id, id",
            (since, since)):
        if kind == "user":
            current = Turn(sender, at or 0.0, intent or NO_INTENT, str(_event(data).get("text") or ""))
            current.fallback = current.intent == FALLBACK_INTENT
            turns.append(current)
            last_action = None
        elif current is None or current.conversation != sender:
            continue  # the greeting before a conversation's first message in the period
        elif kind == "action":
            last_action = action
        else:
            _note_reply(current, _event(data), last_action)
    return turns


def _note_reply(turn: Turn, bot: dict[str, Any], last_action: str | None) -> None:
    """Mark the turn as a fallback or an empty search from one of the assistant's replies to it."""
    custom = (bot.get("data") or {}).get("custom")
    custom = custom if isinstance(custom, dict) else {}
    if last_action == ANSWER_ACTION and custom.get("type") == "answer" and custom.get("kind") == "unknown":
        turn.unanswered = True
    if str(bot.get("text") or "").strip() == NOT_UNDERSTOOD or turn.unanswered:
        turn.fallback = True
    if turn.search and custom.get("type") == "product_list" and custom.get("total") == 0:
        turn.no_results = True


_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_LONG_NUMBER = re.compile(r"\d{3,}")


def _masked(text: str) -> str:
    """A question as the owner may read it: no e-mail address, order number or phone number of the shopper's."""
    return _LONG_NUMBER.sub("###", _EMAIL.sub("[email]", text))


def _funnel(store: sqlite3.Connection, turns: list[Turn]) -> Funnel:
    searched = {t.conversation for t in turns if t.search}
    carted = searched & {row[0] for row in _rows(
        store, "interactions", "SELECT shopper FROM interactions WHERE kind = 'cart' AND source = 'live'")}
    carted |= searched & {row[0] for row in _rows(store, "cart_items", "SELECT conversation_id FROM cart_items")}
    ordered = carted & {row[0] for row in _rows(
        store, "orders", "SELECT conversation_id FROM orders WHERE source = 'live' AND conversation_id IS NOT NULL")}
    return Funnel(len(searched), len(carted), len(ordered))


def _feedback(store: sqlite3.Connection, since: str | None) -> tuple[dict[str, Votes], list[ThumbsDown]]:
    counts: dict[str, dict[str, int]] = {}
    for kind, rating, n in _rows(store, "feedback",
                                 "SELECT kind, rating, count(*) FROM feedback "
                                 "WHERE ? IS NULL OR julianday(at) >= julianday(?) GROUP BY kind, rating",
                                 (since, since)):
        counts.setdefault(kind, {"up": 0, "down": 0})[rating] = n
    latest = [ThumbsDown(at, kind, about) for at, kind, about in _rows(
        store, "feedback",
        "SELECT at, kind, about FROM feedback WHERE rating = 'down' AND (? IS NULL OR julianday(at) >= julianday(?)) "
        "ORDER BY julianday(at) DESC, id DESC LIMIT ?", (since, since, LATEST_THUMBS_DOWN))]
    return {kind: Votes(**votes) for kind, votes in sorted(counts.items())}, latest


def _handoffs(store: sqlite3.Connection, since: str | None) -> dict[str, Handoffs]:
    return {reason: Handoffs(raised, still_open) for reason, raised, still_open in _rows(
        store, "tickets",
        "SELECT reason, count(*), sum(status = 'open') FROM tickets "
        "WHERE ? IS NULL OR julianday(created_at) >= julianday(?) GROUP BY reason ORDER BY count(*) DESC, reason",
        (since, since))}


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).date().isoformat()


def build_report(tracker_path: Path, store_path: Path, days: int | None = None,
                 now: float | None = None) -> Report:
    """The report's numbers for the last `days` days before `now` (default: the current time), or for everything
    recorded when `days` is None."""
    if days is not None and days < 1:
        raise ReportError(f"--days must be 1 or more, not {days}")
    made_at = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc)
    since = None if days is None else made_at.timestamp() - days * 86400
    since_text = None if since is None else datetime.fromtimestamp(since, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    with closing(connect_readonly(tracker_path, "tracker store")) as tracker, \
            closing(connect_readonly(store_path, "store database")) as store:
        try:
            turns = read_turns(tracker, since)
            funnel = _funnel(store, turns)
            feedback, thumbs_down = _feedback(store, since_text)
            handoffs = _handoffs(store, since_text)
        except sqlite3.DatabaseError as error:  # e.g. an events table without the columns Rasa gives it
            raise ReportError(f"cannot read the databases: {error}") from error
    per_day: dict[str, list[int]] = {}
    for turn in turns:
        day = per_day.setdefault(_day(turn.at), [0, 0])
        day[0] += 1
        day[1] += turn.fallback
    empty = Counter(" ".join(t.text.lower().split()) for t in turns if t.no_results)
    unanswered = Counter(_masked(" ".join(t.text.lower().split())) for t in turns if t.unanswered)
    return Report(
        since=None if since is None else datetime.fromtimestamp(since, timezone.utc),
        made_at=made_at,
        conversations=len({t.conversation for t in turns}),
        user_turns=len(turns),
        intents=dict(Counter(t.intent for t in turns).most_common()),
        fallback_turns=sum(t.fallback for t in turns),
        fallback_days=[DayRate(day, n, fell) for day, (n, fell) in sorted(per_day.items())],
        funnel=funnel,
        search_turns=sum(t.search for t in turns),
        empty_search_turns=sum(empty.values()),
        empty_searches=empty.most_common(TOP_EMPTY_SEARCHES),
        unanswered=unanswered.most_common(TOP_EMPTY_SEARCHES),
        feedback=feedback,
        thumbs_down=thumbs_down,
        handoffs=handoffs,
    )


# ---- rendering -------------------------------------------------------------------------------------------------
def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1%}"


def summary(report: Report) -> str:
    """The one line the command prints, so a cron log shows the trend without opening the page."""
    if not report.user_turns:
        return "no conversations yet in this period"
    f = report.funnel
    return (f"{report.conversations} conversations, {report.user_turns} shopper messages, "
            f"{percent(report.fallback_rate)} not understood; of {f.searched} conversations with a search "
            f"{f.carted} added to cart and {f.ordered} ordered")


def _bar_chart(labels: list[str], series: dict[str, list[float]], alt: str, *, axis: str,
               over_time: bool = False) -> str:
    """Bars (stacked when there are several series) as an inline PNG <img>, so the page is one file that fetches
    nothing. Horizontal bars of counts, or, `over_time`, upright bars of a percentage per day.

    matplotlib comes with Rasa's requirements rather than the core's, so it is imported only when drawing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 3.2) if over_time else (8, max(1.8, 0.9 + 0.32 * len(labels))))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    base = [0.0] * len(labels)
    for color, (name, values) in zip(("#2b6cb0", "#c53030"), series.items()):
        if over_time:
            axes.bar(labels, values, bottom=base, color=color, label=name)
        else:
            axes.barh(labels, values, left=base, color=color, label=name)
        base = [b + v for b, v in zip(base, values)]
    if over_time:
        axes.set_ylabel(axis)
        axes.xaxis.set_major_locator(MaxNLocator(nbins=12, integer=True))  # readable dates over a long period
        axes.tick_params(axis="x", labelrotation=45)
    else:
        axes.invert_yaxis()  # the first (biggest) on top
        axes.set_xlabel(axis)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no "2.5 conversations"
    if len(series) > 1:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(heading: str, *parts: str) -> str:
    return f"<section><h2>{html.escape(heading)}</h2>{''.join(parts)}</section>"


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _empty(text: str) -> str:
    return f'<p class="empty">{html.escape(text)}</p>'


def _period(report: Report) -> str:
    made = report.made_at.strftime("%Y-%m-%d %H:%M UTC")
    if report.since is None:
        return f"All recorded conversations, up to {made}."
    return f"Conversations from {report.since.strftime('%Y-%m-%d %H:%M')} to {made}."


def _overview(report: Report) -> str:
    if not report.user_turns:
        return _section("Conversations", _empty("No conversations yet in this period."))
    return _section(
        "Conversations",
        _table(["", "In this period"], [["Conversations (chats with at least one shopper message)",
                                         report.conversations],
                                        ["Shopper messages", report.user_turns]]))


def _intent_mix(report: Report) -> str:
    if not report.intents:
        return _section("What shoppers asked for", _empty("No shopper messages yet."))
    labels = [intent.replace("_", " ") for intent in report.intents]
    return _section(
        "What shoppers asked for",
        _bar_chart(labels, {"messages": list(report.intents.values())}, "Shopper messages per kind of request",
                   axis="shopper messages"),
        _note("How many shopper messages the assistant understood as each kind of request; "
              "\"nlu fallback\" means it could not tell what the shopper wanted."))


def _fallbacks(report: Report) -> str:
    heading = "Messages the assistant did not understand"
    if not report.user_turns:
        return _section(heading, _empty("No shopper messages yet."))
    parts = [f"<p class=\"big\">{percent(report.fallback_rate)}</p>",
             _note(f"{report.fallback_turns} of {report.user_turns} shopper messages got an \"I didn't catch that\" "
                   f"or \"I don't know\" reply instead of an answer. Lower is better.")]
    if len(report.fallback_days) > 1:
        parts += [_bar_chart([d.day for d in report.fallback_days],
                             {"not understood": [100 * (d.rate or 0) for d in report.fallback_days]},
                             "Share of messages not understood, per day", axis="% not understood",
                             over_time=True),
                  _note("The share of each day's shopper messages that the assistant did not understand (UTC days).")]
    return _section(heading, *parts)


def _funnel_section(report: Report) -> str:
    heading = "From search to checkout"
    f = report.funnel
    if not f.searched:
        return _section(heading, _empty("No conversation with a product search yet."))
    return _section(
        heading,
        _bar_chart(["searched for products", "added to cart", "placed an order"],
                   {"conversations": [f.searched, f.carted, f.ordered]}, "Conversations at each step to an order",
                   axis="conversations"),
        _note("How many conversations searched for products, how many of those went on to add something to the "
              "cart, and how many of those placed an order."),
        _table(["Step", "Conversion"], [["Search to cart", percent(f.search_to_cart)],
                                        ["Cart to checkout", percent(f.cart_to_checkout)]]))


def _feedback_section(report: Report) -> str:
    heading = "Shopper ratings"
    if not report.feedback:
        return _section(heading, _empty("No thumbs up or down yet."))
    labels = [FEEDBACK_KINDS.get(kind, kind) for kind in report.feedback]
    votes = list(report.feedback.values())
    parts = [_bar_chart(labels, {"thumbs up": [v.up for v in votes], "thumbs down": [v.down for v in votes]},
                        "Thumbs up and down per kind of reply", axis="ratings"),
             _note("How often shoppers gave the assistant's answers and recommendations a thumbs up or a thumbs down.")]
    if report.thumbs_down:
        parts += ["<h3>Latest thumbs-down</h3>",
                  _note("The assistant's messages that shoppers rated down most recently, newest first."),
                  _table(["When (UTC)", "Kind", "The rated message"],
                         [[d.at, FEEDBACK_KINDS.get(d.kind, d.kind), d.message] for d in report.thumbs_down])]
    return _section(heading, *parts)


def _empty_search_section(report: Report) -> str:
    heading = "Searches that found nothing"
    if not report.empty_searches:
        return _section(heading, _empty("Every search found something."
                                        if report.search_turns else "No product searches yet."))
    return _section(
        heading,
        _note(f"{report.empty_search_turns} of {report.search_turns} searches found no products. "
              f"What shoppers typed, most frequent first: products or words to consider adding to the catalog."),
        _table(["What the shopper typed", "Times"], [[text, n] for text, n in report.empty_searches]))


def _unanswered_section(report: Report) -> str:
    heading = "Questions the assistant could not answer"
    if not report.unanswered:
        return _section(heading, _empty("The store's knowledge answered every question it was asked."))
    return _section(
        heading,
        _note("Questions the assistant found nothing about in the store's policies, FAQ or product data, most "
              "frequent first (e-mail addresses and long numbers masked). If a knowledge section answers one, add "
              "its wording to that section's asked list in knowledge/; if none does, consider writing one."),
        _table(["What the shopper asked", "Times"], [[text, n] for text, n in report.unanswered]))


def _handoff_section(report: Report) -> str:
    heading = "Handed over to your team"
    if not report.handoffs:
        return _section(heading, _empty("No shopper was handed over to the team."))
    labels = [TICKET_REASONS.get(reason, reason) for reason in report.handoffs]
    tickets = list(report.handoffs.values())
    still_open = sum(t.still_open for t in tickets)
    return _section(
        heading,
        f"<p class=\"big\">{still_open} still open</p>",
        _bar_chart(labels, {"dealt with": [t.raised - t.still_open for t in tickets],
                            "still open": [t.still_open for t in tickets]},  # red: needs attention
                   "Handoff tickets per reason", axis="tickets"),
        _note("Why conversations were handed over to a person, and how many of those tickets are still waiting."))


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a202c; }
section { margin: 2.5rem 0; } img { max-width: 100%; }
table { border-collapse: collapse; margin: 0.5rem 0; } td, th { border-bottom: 1px solid #e2e8f0;
  padding: 0.3rem 0.8rem; text-align: left; vertical-align: top; white-space: pre-wrap; }
.note { color: #4a5568; } .empty { color: #718096; font-style: italic; } .big { font-size: 2rem; margin: 0.3rem 0; }
"""


def render_html(report: Report) -> str:
    """The whole page: plain-language headings, one sentence under each chart, every string from data escaped."""
    sections = [_overview(report), _intent_mix(report), _fallbacks(report), _funnel_section(report),
                _feedback_section(report), _empty_search_section(report), _unanswered_section(report),
                _handoff_section(report)]
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Harbor Lane assistant report</title><style>{_STYLE}</style></head><body>"
            f"<h1>How the shopping assistant is doing</h1>{_note(_period(report))}{''.join(sections)}</body></html>\n")


def write_report(report: Report, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")
    return out
