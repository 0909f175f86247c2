"""The store database: one SQLite file for everything a conversation changes: carts, orders, returns, handoff
tickets, feedback and what shoppers looked at. The catalog is a separate file that conversations only read."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from assistant.settings import settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cart_items (
    conversation_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    variant_sku TEXT NOT NULL DEFAULT '',
    color TEXT,
    size TEXT,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    added_at TEXT NOT NULL DEFAULT (datetime('now')),
    PRIMARY KEY (conversation_id, product_id, variant_sku)
);
CREATE TABLE IF NOT EXISTS interactions (
    id INTEGER PRIMARY KEY,
    shopper TEXT NOT NULL,
    product_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('view', 'ask', 'cart', 'purchase')),
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
    source TEXT NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'synthetic'))
);
CREATE INDEX IF NOT EXISTS interactions_by_shopper ON interactions (shopper, id);
CREATE TABLE IF NOT EXISTS orders (
    number TEXT PRIMARY KEY CHECK (number GLOB 'HL-[0-9][0-9][0-9][0-9][0-9][0-9]'),
    email TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL CHECK (status IN ('processing', 'shipped', 'out for delivery', 'delivered',
                                           'cancelled', 'returned')),
    placed_at TEXT NOT NULL,          -- ISO 8601, UTC
    shipped_at TEXT,
    delivered_at TEXT,
    carrier TEXT,
    tracking_number TEXT,
    country TEXT NOT NULL CHECK (country IN ('US', 'CA')),
    subtotal REAL NOT NULL,
    shipping REAL NOT NULL,
    conversation_id TEXT,             -- the chat that placed it (NULL for demo orders)
    source TEXT NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'demo'))
);
CREATE INDEX IF NOT EXISTS orders_by_email ON orders (email);
CREATE TABLE IF NOT EXISTS order_items (
    order_number TEXT NOT NULL REFERENCES orders (number),
    line INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    variant_sku TEXT NOT NULL DEFAULT '',
    color TEXT,
    size TEXT,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price REAL NOT NULL,
    final_sale INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_number, line)
);
CREATE TABLE IF NOT EXISTS returns (
    rma TEXT PRIMARY KEY,
    order_number TEXT NOT NULL REFERENCES orders (number),
    line INTEGER NOT NULL,
    reason TEXT NOT NULL,
    refund REAL NOT NULL,
    deduction REAL NOT NULL,
    created_at TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    UNIQUE (order_number, line)
);
CREATE TABLE IF NOT EXISTS verification_failures (
    conversation_id TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now'))
);
CREATE INDEX IF NOT EXISTS verification_failures_by_conversation ON verification_failures (conversation_id);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('requested', 'frustration', 'fallbacks', 'verification')),
    transcript TEXT NOT NULL,         -- JSON list of {"who": "shopper"|"bot", "text": ...}
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'released')),
    released_at TEXT
);
CREATE INDEX IF NOT EXISTS tickets_by_conversation ON tickets (conversation_id, status);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    kind TEXT NOT NULL,               -- what was rated: 'answer' or 'recommendations'
    about TEXT NOT NULL,              -- the bot's message that was rated
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now'))
);
"""


def open_store(path: Path | None = None) -> sqlite_utils.Database:
    """Open (and create if needed) the store database; WAL so the action server's readers never block writers."""
    path = Path(path or settings().store_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=settings().busy_timeout_s, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA)
    return sqlite_utils.Database(conn)
