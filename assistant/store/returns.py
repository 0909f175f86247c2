"""Returns as STORE.md sets them: the window from delivery, what can't come back, the shipping deduction, the RMA.

`check` decides and explains; `create` records an eligible return. The decision carries the reason in words so
the shopper is told exactly why a return is refused.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlite_utils

from assistant.search.vocab import word_forms
from assistant.store.orders import Order, OrderItem, now

WINDOW_DAYS = 30
ELECTRONICS_WINDOW_DAYS = 15
ELECTRONICS = frozenset({"headphones", "smartwatches"})
RETURN_SHIPPING_DEDUCTION = 5.99
REFUND_TIMELINE = "within 5-7 business days after we receive the return, to your original payment method"

# Reason key -> how the shopper would say it. Our mistakes ship back free; the rest pay return shipping.
REASONS = {
    "defective": "it's defective or damaged",
    "wrong_item": "I got the wrong item",
    "size": "wrong size",
    "colour": "I want a different colour",
    "changed_mind": "I changed my mind",
}
_OUR_FAULT = frozenset({"defective", "wrong_item"})
_EXCHANGEABLE = frozenset({"size", "colour"})
_REASON_WORDS = (
    ("defective", ("defect", "broken", "damaged", "faulty", "doesn't work", "does not work", "stopped working",
                   "ripped", "torn", "leak", "cracked")),
    ("wrong_item", ("wrong item", "wrong product", "not what i ordered", "sent the wrong", "wrong one", "got the wrong")),
    ("size", ("size", "too small", "too big", "too large", "too tight", "too loose", "doesn't fit", "don't fit",
              "fit")),
    ("colour", ("colour", "color")),
    ("changed_mind", ("changed my mind", "change of mind", "don't need", "dont need", "don't want", "dont want",
                      "don't like", "dont like", "didn't like", "didnt like", "did not like", "dislike",
                      "no longer", "not needed", "mind")),
)


def parse_reason(text: str | None) -> str | None:
    """A reason key from free text or a button payload, or None when the text gives no reason."""
    lowered = (text or "").lower().strip()
    if lowered in REASONS:
        return lowered
    lowered = re.sub(r"\bnever\s*mind\b", "", lowered)  # dropping a request, not a change of mind about an item
    for key, words in _REASON_WORDS:
        if any(word in lowered for word in words):
            return key
    return None


def _item_words(text: str) -> set[str]:
    """Words of two letters or more in comparison form ("headphones" ~ "headphone", "boots" ~ "boot")."""
    return {w for w in word_forms(text) if len(w) > 1}


_NOT_NAMES = frozenset({"the", "one", "and", "with", "for", "of", "in", "on", "my", "it", "this", "that", "item",
                        "return", "want", "to", "from", "order"})


def named_lines(text: str, items: Sequence[OrderItem]) -> list[int]:
    """The order lines a message names by words of their title or their kind ("the headphones", "the bottle",
    "the Bose ones"): those sharing the most such words with it, so one line unless the message fits several
    equally (two t-shirts: then only its number tells them apart). None when it names none."""
    said = _item_words(text) - _NOT_NAMES
    shared = {item.line: len(said & _item_words(f"{item.title} {item.category}")) for item in items}
    best = max(shared.values(), default=0)
    return [line for line, count in shared.items() if count and count == best]


def window_days(item: OrderItem) -> int:
    return ELECTRONICS_WINDOW_DAYS if item.category in ELECTRONICS else WINDOW_DAYS


@dataclass(frozen=True)
class Decision:
    eligible: bool
    why: str  # the reason in words, for a refusal and for an approval alike
    deduction: float = 0.0
    refund: float = 0.0
    exchange: bool = False  # a free exchange for another size or colour fits this return
    deadline: date | None = None


def existing_return(store: sqlite_utils.Database, order_number: str, line: int) -> str | None:
    row = store.execute("SELECT rma FROM returns WHERE order_number = ? AND line = ?", [order_number, line]).fetchone()
    return row[0] if row else None


def item_refusal(store: sqlite_utils.Database, order: Order, item: OrderItem, at: datetime | None = None
                 ) -> Decision | None:
    """Why this item can't come back whatever the reason and its condition (a final-sale yoga mat, a closed
    window), or None. Checked as soon as the item is picked, so nobody is asked why they return a gift card."""
    at = at or now()
    not_delivered = {
        "processing": "that order hasn't shipped yet. An order can be cancelled within 1 hour of being placed; "
                      "after that, you can return it once it's delivered",
        "shipped": "that order is on its way but not delivered yet; you can start a return once it arrives",
        "out for delivery": "that order is out for delivery today; you can start a return once it arrives",
        "cancelled": "that order was cancelled, so there is nothing to return",
        "returned": "that order has already been returned",
    }
    if order.status != "delivered" or order.delivered_at is None:
        return Decision(False, not_delivered.get(order.status, "that order isn't delivered yet"))
    rma = existing_return(store, order.number, item.line)
    if rma:
        return Decision(False, f"a return for {item.title} is already open ({rma})")
    if item.category == "gift cards":
        return Decision(False, "gift cards can't be returned")
    if item.final_sale:
        return Decision(False, "it was sold as final sale, and final-sale items can't be returned")
    days = window_days(item)
    delivered = order.delivered_at.date()
    deadline = delivered + timedelta(days=days)
    if at.date() > deadline:
        kind = "electronics" if item.category in ELECTRONICS else "this item"
        return Decision(False, f"it was delivered on {delivered:%B} {delivered.day}, {(at.date() - delivered).days} "
                               f"days ago, and the return window for {kind} is {days} days from delivery "
                               f"(it closed on {deadline:%B} {deadline.day})", deadline=deadline)
    return None


def check(store: sqlite_utils.Database, order: Order, item: OrderItem, reason: str, unused: bool,
          at: datetime | None = None) -> Decision:
    """Can this item come back, and on what terms? Order status first, then what the item is, then the window,
    then the reason and the item's condition."""
    at = at or now()
    refusal = item_refusal(store, order, item, at)
    if refusal is not None:
        return refusal
    if item.category == "skincare" and not unused:
        return Decision(False, "opened skincare products can't be returned")
    days = window_days(item)
    deadline = order.delivered_at.date() + timedelta(days=days)
    if not unused and reason not in _OUR_FAULT:
        return Decision(False, "items must be unused, with tags or in the original packaging, unless they are "
                               "defective or we sent the wrong item", deadline=deadline)
    deduction = 0.0 if reason in _OUR_FAULT else RETURN_SHIPPING_DEDUCTION
    refund = max(0.0, round(item.total - deduction, 2))
    why = (f"it's within the {days}-day window (until {deadline:%B} {deadline.day})"
           + ("; return shipping is free because the problem is ours" if reason in _OUR_FAULT else
              f"; ${RETURN_SHIPPING_DEDUCTION:.2f} return shipping is deducted from the refund"))
    return Decision(True, why, deduction, refund, reason in _EXCHANGEABLE, deadline)


def create(store: sqlite_utils.Database, order: Order, item: OrderItem, reason: str, decision: Decision,
           conversation_id: str, at: datetime | None = None) -> str:
    """Record an eligible return and return its RMA number (one per order line)."""
    if not decision.eligible:
        raise ValueError("only an eligible return can be created")
    rma = f"RMA-{order.number[3:]}-{item.line}"
    with store.conn:
        store.execute(
            "INSERT INTO returns (rma, order_number, line, reason, refund, deduction, created_at, conversation_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [rma, order.number, item.line, reason, decision.refund, decision.deduction,
             (at or now()).isoformat(timespec="seconds"), conversation_id])
    return rma
