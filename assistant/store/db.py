"""The store database: one SQLite file for everything a conversation changes (carts, what shoppers looked at)."""
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
"""


def open_store(path: Path | None = None) -> sqlite_utils.Database:
    """Open (and create if needed) the store database; WAL so the action server's readers never block writers."""
    path = Path(path or settings().store_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.executescript(_SCHEMA)
    return sqlite_utils.Database(conn)
