"""What shoppers did with products, in the store database: the recommender's training data and its memory of
the conversation in progress.

One row per event: a shopper (the conversation id) viewed a product's details, asked about it, put it in the
cart, or bought it. Synthetic demo history is marked `source='synthetic'` so it can be replaced without touching
what real shoppers did.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils

KINDS = ("view", "ask", "cart", "purchase")
VERBS = {"view": "looked at", "ask": "asked about", "cart": "added", "purchase": "bought"}


@dataclass(frozen=True)
class Event:
    product_id: str
    kind: str


def log(store: sqlite_utils.Database, shopper: str, product_ids: Iterable[str], kind: str) -> None:
    """Record that `shopper` did `kind` with each product (in order)."""
    if kind not in KINDS:
        raise ValueError(f"unknown interaction kind {kind!r}; expected one of {KINDS}")
    rows = [(shopper, product_id, kind) for product_id in product_ids if product_id]
    if rows:
        with store.conn:
            store.conn.executemany("INSERT INTO interactions (shopper, product_id, kind) VALUES (?, ?, ?)", rows)


def history(store: sqlite_utils.Database, shopper: str, limit: int = 50) -> list[Event]:
    """The shopper's latest `limit` events, oldest first."""
    rows = store.execute("SELECT product_id, kind FROM interactions WHERE shopper = ? ORDER BY id DESC LIMIT ?",
                         [shopper, limit]).fetchall()
    return [Event(product_id, kind) for product_id, kind in reversed(rows)]


def sequences(store: sqlite_utils.Database) -> dict[str, list[str]]:
    """Every shopper's products in the order they met them, a product repeated back to back counted once
    (viewing, asking about and carting the same boots is one step of the journey, not three)."""
    journeys: dict[str, list[str]] = {}
    for shopper, product_id in store.execute("SELECT shopper, product_id FROM interactions ORDER BY shopper, id"):
        journey = journeys.setdefault(shopper, [])
        if not journey or journey[-1] != product_id:
            journey.append(product_id)
    return journeys


def count(store: sqlite_utils.Database, source: str | None = None) -> int:
    if source is None:
        return store.execute("SELECT count(*) FROM interactions").fetchone()[0]
    return store.execute("SELECT count(*) FROM interactions WHERE source = ?", [source]).fetchone()[0]
